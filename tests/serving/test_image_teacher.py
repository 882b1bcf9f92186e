"""The image teacher end to end (the dataset pipeline's Prompt I path with images): `moda dataset build` with
an `openai` teacher pointed at a running `moda serve` sends each catalog photo and gets MODA's description.

MODA is a captioner: it ignores the teacher prompt's request for JSON and writes prose, so the teacher step
runs with `reply_format: text` (the whole reply is the raw description)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from modeling_moda.backends.base import image_to_data_url
from modeling_moda.backends.cache import JsonlCache
from modeling_moda.core.images import load_image
from modeling_moda.data.config import StepConfig
from modeling_moda.data.prompts import load_prompts
from modeling_moda.data.steps import Step
from modeling_moda.serving.process import ModaServer

from ..data.test_steps import ScriptedChat, _item

N_ITEMS = 12


def moda(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "modeling_moda", *args], cwd=cwd, capture_output=True, text=True
    )
    assert done.returncode == 0, f"moda {' '.join(args)} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def as_sent(path: Path, max_side: int) -> bytes:
    """The image bytes the teacher step sends for a catalog photo (shrunk to the box, JPEG data URL)."""
    image = load_image(path)
    image.thumbnail((max_side, max_side))
    return base64.b64decode(image_to_data_url(image).split(",", 1)[1])


@pytest.mark.slow
def test_dataset_build_with_moda_serve_as_the_image_teacher(
    trained_tiny_dir, describer, tmp_path, monkeypatch
):
    moda("catalog", "synth", "--out", "catalog", "--n", str(N_ITEMS), "--workers", "1", cwd=tmp_path)
    monkeypatch.setenv("MODA_TEACHER_KEY", "teacher-key")  # the server requires it, the build sends it
    server_args = ["--served-model-name", "moda-tiny", "--api-key-env", "MODA_TEACHER_KEY", "--threads", "1"]
    with ModaServer(trained_tiny_dir, extra_args=server_args, startup_timeout=180) as base_url:
        teacher = {
            "backend": "openai",
            "base_url": base_url,
            "model": "moda-tiny",
            "api_key_env": "MODA_TEACHER_KEY",
            "reply_format": "text",
            "max_concurrency": 4,
            "image_max_side": 256,
            "generation": {"max_tokens": 40, "temperature": 0.0},
        }
        (tmp_path / "build.yaml").write_text(
            yaml.safe_dump({"teacher": teacher, "refiner": {"backend": "template"}})
        )
        summary = json.loads(
            moda(
                "dataset",
                "build",
                "--source",
                "catalog",
                "--out",
                "ds",
                "--config",
                "build.yaml",
                "--quiet",
                cwd=tmp_path,
            )
        )
        request = urllib.request.Request(
            base_url.removesuffix("/v1") + "/metrics", headers={"Authorization": "Bearer teacher-key"}
        )
        metrics = json.loads(urllib.request.urlopen(request, timeout=10).read())

    assert summary["calls"]["teacher"] == N_ITEMS and metrics["completed"] == N_ITEMS
    n_rows, n_rejects = sum(summary["rows"].values()), sum(summary["rejects"].values())
    assert n_rows > 0 and n_rows + n_rejects == N_ITEMS, summary
    assert summary["rejects"].get("teacher", 0) == 0, summary  # no teacher reply was refused
    rows = [row for f in sorted((tmp_path / "ds").rglob("*.parquet")) for row in pq.read_table(f).to_pylist()]
    assert len(rows) == n_rows
    assert {row["teacher"] for row in rows} == {"openai:moda-tiny"}
    # the raw descriptions are exactly what MODA writes for the photos the build sent
    images = [load_image(as_sent(tmp_path / "catalog" / "images" / f"{row['id']}.jpg", 256)) for row in rows]
    assert [row["raw_description"] for row in rows] == describer.describe(images, max_new_tokens=40)
    assert all(len(row["raw_description"]) >= 3 for row in rows)


def test_reply_format_text_takes_the_whole_reply_where_json_refuses_prose(tmp_path):
    script = {"Shirts": ["Red cotton t-shirt for men, casual."] * 2, "Caps": ["no", ""]}
    items = [_item(name) for name in script]
    results = {}
    for reply_format in ("json", "text"):
        config = StepConfig(backend="openai", attempts=2, reply_format=reply_format)
        with JsonlCache(tmp_path / f"{reply_format}.jsonl") as cache:
            step = Step("refiner", config, load_prompts(), cache, client=ScriptedChat(script))
            results[reply_format] = dict(zip(script, step.run(items, ["draft"] * 2), strict=True))
    assert results["json"]["Shirts"].value is None and "no JSON object" in results["json"]["Shirts"].error
    text = results["text"]
    assert text["Shirts"].value == {"description": "Red cotton t-shirt for men, casual."}
    assert text["Shirts"].attempts == 1 and not text["Shirts"].repaired
    assert text["Caps"].value is None and "shorter than 3 characters" in text["Caps"].error
    with pytest.raises(ValueError, match="reply_format must be one of"):
        StepConfig(reply_format="yaml")
