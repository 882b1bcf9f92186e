"""`moda describe`: bad inputs reported, skipped, output formats, atomic --out, --resume, = pipeline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from PIL import Image
from transformers import pipeline

from modeling_moda.cli import main

from .inference_images import DESCRIPTIONS

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


@pytest.mark.parametrize("fmt", ["text", "csv", "jsonl"])
def test_formats(trained_tiny_dir, image_folder, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    assert describe(trained_tiny_dir, str(image_folder), "--format", fmt, "--out", str(out)) == 0
    assert not Path(str(out) + ".partial").exists()
    if fmt == "jsonl":
        rows = read_jsonl(out)
        red = next(r for r in rows if r["path"].endswith("red.jpg"))
        assert red["attributes"]["colours"] == ["Red"] and red["attributes"]["genders"] == ["Men"]
    elif fmt == "csv":
        rows = list(csv.DictReader(out.open()))
        assert list(rows[0]) == ["path", "status", "description", "error"]
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
    red, blue = str(image_folder / "red.jpg"), str(image_folder / "blue.png")
    assert describe(trained_tiny_dir, red, blue, "--format", "jsonl", "--out", str(out)) == 0
    # an interrupted later run: its partial file holds one described row, one failed row and a torn line
    partial = Path(str(out) + ".partial")
    done = {"path": "/elsewhere/already.jpg", "status": "ok", "description": "kept"}
    failed = {"path": str(image_folder / "sub/green.jpg"), "status": "failed", "error": "was broken"}
    partial.write_text(json.dumps(done) + "\n" + json.dumps(failed) + "\n" + '{"path": "torn')
    capsys.readouterr()
    assert describe(trained_tiny_dir, str(image_folder), "/elsewhere/already.jpg", "--format", "jsonl",
                    "--out", str(out), "--resume") == 0  # fmt: skip
    stderr = capsys.readouterr().err
    assert "resuming: 1 input(s) already described" in stderr  # the partial file wins over out
    assert "4 described, 0 failed" in stderr
    rows = read_jsonl(out)
    assert [r["path"] for r in rows].count("/elsewhere/already.jpg") == 1
    check_described([r for r in rows if r["path"] != "/elsewhere/already.jpg"])
    assert len(rows) == 5 and not partial.exists()
    # resuming a finished file describes nothing new
    assert (
        describe(trained_tiny_dir, str(image_folder), "--format", "jsonl", "--out", str(out), "--resume") == 0
    )
    assert "0 described, 0 failed" in capsys.readouterr().err
    assert len(read_jsonl(out)) == 5


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
