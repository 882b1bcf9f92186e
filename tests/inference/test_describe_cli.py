"""`moda describe`: bad inputs reported, skipped, output formats (attributes with confidence), atomic --out,
--resume, the review file, dataset inputs, = pipeline. (Several processes: test_describe_sharded.py.)"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from PIL import Image
from transformers import pipeline

from modeling_moda.cli import main

from .inference_images import DESCRIPTIONS, colour_image

EXPECTED = {"red.jpg": "red", "blue.png": "blue", "green.jpg": "green", "yellow.webp": "yellow"}


def describe(model_dir: Path, *args: str) -> int:
    return main(["describe", "--model", str(model_dir), "--no-progress", "--batch-size", "3", *args])


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def check_described(rows: list[dict]) -> None:
    for row in rows:
        assert row["status"] == "ok", row
        assert row["description"] == DESCRIPTIONS[EXPECTED[Path(row["path"]).name]]


def make_bad_files(folder: Path) -> dict[str, str]:
    """Bad inputs -> a phrase their failure reason must contain."""
    (folder / "empty.jpg").write_bytes(b"")
    jpeg = (folder / "red.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(jpeg[: len(jpeg) // 2])
    (folder / "not_an_image.png").write_text("this is text, not a PNG")
    Image.new("1", (10_000, 9_000)).save(folder / "bomb.png")  # 90 M pixels, a few kB on disk
    return {
        "empty.jpg": "empty file",
        "truncated.jpg": "truncated",
        "not_an_image.png": "not an image",
        "bomb.png": "decompression bomb",
        "missing.jpg": "not found",
    }


def test_bad_files_are_reported_listed_and_skipped(trained_tiny_dir, image_folder, tmp_path, capsys):
    reasons = make_bad_files(image_folder)
    out = tmp_path / "out.jsonl"
    inputs = [str(image_folder), str(image_folder / "missing.jpg")]
    code = describe(trained_tiny_dir, *inputs, "--format", "jsonl", "--out", str(out))
    assert code == 1
    stderr = capsys.readouterr().err
    rows = {Path(r["path"]).name: r for r in read_jsonl(out)}
    assert set(rows) == set(EXPECTED) | set(reasons)
    check_described([rows[name] for name in EXPECTED])
    for name, phrase in reasons.items():
        assert rows[name]["status"] == "failed" and phrase in rows[name]["error"], rows[name]
        assert any(name in line and phrase in line for line in stderr.splitlines()), (name, stderr)
    assert "4 described, 5 failed" in stderr


def test_file_size_limit(trained_tiny_dir, image_folder, tmp_path, capsys):
    out = tmp_path / "out.csv"
    code = describe(trained_tiny_dir, str(image_folder / "red.jpg"), "--max-file-mb", "0.0001",
                    "--format", "csv", "--out", str(out))  # fmt: skip
    assert code == 1
    (row,) = list(csv.DictReader(out.open()))
    assert row["status"] == "failed" and row["error"].startswith("file too large")
    assert "red.jpg" in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["text", "csv", "jsonl", "parquet"])
def test_formats(trained_tiny_dir, image_folder, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    assert describe(trained_tiny_dir, str(image_folder), "--format", fmt, "--out", str(out)) == 0
    assert not Path(str(out) + ".parts").exists()  # merged, then removed
    if fmt in ("jsonl", "parquet"):
        rows = read_jsonl(out) if fmt == "jsonl" else pq.read_table(out).to_pylist()
        red = next(r for r in rows if r["path"].endswith("red.jpg"))
        attributes = red["attributes"]
        assert set(attributes) == {"colour", "article_type", "gender", "usage"}
        assert [c["value"] for c in attributes["colour"]] == ["Red"]
        assert attributes["gender"]["value"] == "Men" and attributes["usage"]["value"] == "Casual"
        confidences = [c["confidence"] for c in attributes["colour"]] + [attributes["gender"]["confidence"]]
        assert all(0.0 <= c <= 1.0 for c in confidences)
    elif fmt == "csv":
        rows = list(csv.DictReader(out.open()))
        assert list(rows[0]) == ["path", "status", "description", "error", "colour", "colour_confidence",
                                 "article_type", "article_type_confidence", "gender", "gender_confidence",
                                 "usage", "usage_confidence", "min_confidence"]  # fmt: skip
        red = next(r for r in rows if r["path"].endswith("red.jpg"))
        assert (red["colour"], red["gender"], red["usage"]) == ("Red", "Men", "Casual")
        found = [float(red[f"{name}_confidence"]) for name in ("colour", "article_type", "gender", "usage")]
        assert float(red["min_confidence"]) == min(found)
    else:
        rows = [dict(zip(("path", "description"), line.split("\t"), strict=True), status="ok")
                for line in out.read_text().splitlines()]  # fmt: skip
    assert len(rows) == 4
    check_described(rows)


def test_stdout_and_listing_input(trained_tiny_dir, image_folder, capsys):
    listing = image_folder / "listing.csv"
    listing.write_text("image\nred.jpg\nsub/green.jpg\n")
    assert describe(trained_tiny_dir, str(listing)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{image_folder / 'red.jpg'}\t{DESCRIPTIONS['red']}",
        f"{image_folder / 'sub/green.jpg'}\t{DESCRIPTIONS['green']}",
    ]


def test_resume_skips_described_and_retries_failed(trained_tiny_dir, image_folder, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    inputs = [str(image_folder), "/elsewhere/already.jpg"]  # 4 images in the folder, then index 4
    # an interrupted run's part file: index 4 described (kept), index 0 failed (retried), a torn line
    parts = Path(str(out) + ".parts")
    parts.mkdir()
    done = {"index": 4, "path": "/elsewhere/already.jpg", "status": "ok", "description": "kept"}
    failed = {"index": 0, "path": str(image_folder / "blue.png"), "status": "failed", "error": "was broken"}
    stale = {"index": 1, "path": "/was/another/input.jpg", "status": "ok", "description": "not this input"}
    lines = [json.dumps(r) for r in (failed, stale, done)]
    (parts / "part-a0000-r00000.jsonl").write_text("\n".join(lines) + "\n" + '{"index": 5, "path": "torn')
    assert describe(trained_tiny_dir, *inputs, "--format", "jsonl", "--out", str(out), "--resume") == 0
    stderr = capsys.readouterr().err
    assert "resumed: 1 input(s) already described" in stderr  # index 1 named another path: redone
    assert "5 described, 0 failed" in stderr
    rows = read_jsonl(out)
    folder = ["blue.png", "red.jpg", "sub/green.jpg", "sub/deeper/yellow.webp"]
    assert [r["path"] for r in rows] == [str(image_folder / p) for p in folder] + ["/elsewhere/already.jpg"]
    assert rows[-1]["description"] == "kept"
    check_described(rows[:-1])
    assert not parts.exists()
    # resuming a finished file describes nothing new
    before = out.read_bytes()
    assert describe(trained_tiny_dir, *inputs, "--format", "jsonl", "--out", str(out), "--resume") == 0
    assert "is complete" in capsys.readouterr().err and out.read_bytes() == before


def test_review_file_holds_the_weakest_items_in_order(trained_tiny_dir, image_folder, tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    assert describe(trained_tiny_dir, str(image_folder), "--format", "jsonl", "--out", str(out)) == 0
    weakest = {r["path"]: min_confidence(r["attributes"]) for r in read_jsonl(out)}
    threshold = sorted(weakest.values())[2]  # strictly above the two weakest items
    assert describe(trained_tiny_dir, str(image_folder), "--format", "jsonl", "--out", str(out),
                    "--review-below", str(threshold)) == 0  # fmt: skip
    held = read_jsonl(Path(str(out) + ".review.jsonl"))
    assert [r["path"] for r in held] == [p for p, c in weakest.items() if c < threshold]  # input order
    assert len(held) == 2 and f"held for review (below {threshold:g})" in capsys.readouterr().err
    for row in held:
        name, value, confidence = lowest(row["attributes"])
        assert row["reason"] == f"{name} {value!r} at confidence {confidence:.2f} < {threshold:g}"
        assert row["description"] == DESCRIPTIONS[EXPECTED[Path(row["path"]).name]]


def min_confidence(attributes: dict) -> float:
    return lowest(attributes)[2]


def lowest(attributes: dict) -> tuple[str, str, float]:
    entries = [("colour", c) for c in attributes["colour"]]
    entries += [(n, attributes[n]) for n in ("article_type", "gender", "usage") if attributes[n]]
    name, entry = min(entries, key=lambda e: e[1]["confidence"])
    return name, entry["value"], entry["confidence"]


def test_same_command_twice_same_bytes(trained_tiny_dir, image_folder, tmp_path):
    outputs = []
    for run in ("first", "second"):
        out = tmp_path / run / "out.parquet"
        assert describe(trained_tiny_dir, str(image_folder), "--format", "parquet", "--out", str(out)) == 0
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_dataset_inputs_saved_and_builder_folders(trained_tiny_dir, tmp_path, capsys):
    names = ["red", "blue", "green"]
    encoded = []
    for name in names:
        buf = io.BytesIO()
        colour_image(name).save(buf, format="PNG")
        encoded.append({"bytes": buf.getvalue(), "path": None})
    encoded.append({"bytes": b"not an image", "path": None})
    rows = datasets.Dataset.from_dict({"image": encoded, "id": [1, 2, 3, 4]})
    rows = rows.cast_column("image", datasets.Image())
    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": rows}).save_to_disk(str(saved))
    built = tmp_path / "built"
    (built / "data").mkdir(parents=True)
    rows.to_parquet(str(built / "data" / "test-00000-of-00001.parquet"))
    for folder in (saved, built):
        out = tmp_path / f"{folder.name}.jsonl"
        assert describe(trained_tiny_dir, str(folder), "--split", "test", "--format", "jsonl",
                        "--out", str(out)) == 1  # fmt: skip
        described = read_jsonl(out)
        assert [r["path"] for r in described] == [f"{folder}[test]#{i}" for i in range(4)]
        assert [r.get("description") for r in described[:3]] == [DESCRIPTIONS[n] for n in names]
        assert described[3]["status"] == "failed" and "not an image" in described[3]["error"]
        assert f"failed: {folder}[test]#3" in capsys.readouterr().err
    assert describe(trained_tiny_dir, str(saved), "--out", str(tmp_path / "x.jsonl")) == 2
    assert "no split 'train' (has test)" in capsys.readouterr().err


def test_resume_needs_out(trained_tiny_dir, image_folder, capsys):
    assert describe(trained_tiny_dir, str(image_folder), "--resume") == 2
    assert "--resume needs --out" in capsys.readouterr().err


def test_equals_image_to_text_pipeline(trained_tiny_dir, image_folder, tmp_path):
    out = tmp_path / "out.jsonl"
    assert describe(trained_tiny_dir, str(image_folder), "--format", "jsonl", "--out", str(out),
                    "--max-new-tokens", "12") == 0  # fmt: skip
    rows = read_jsonl(out)
    pipe = pipeline("image-to-text", model=str(trained_tiny_dir), trust_remote_code=True)
    expected = [o[0]["generated_text"] for o in pipe([r["path"] for r in rows], max_new_tokens=12)]
    assert [r["description"] for r in rows] == expected
