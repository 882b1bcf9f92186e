"""The shortened quickstart end to end (CI): catalog -> dataset -> train -> evaluate -> describe -> report."""

import json
import shutil

import pytest

from modeling_moda.cli import main


@pytest.mark.slow
def test_short_quickstart_writes_report_model_and_card(tmp_path):
    out = tmp_path / "qs"
    assert main(["quickstart", "--out", str(out), "--items", "200", "--epochs", "1", "--workers", "2"]) == 0
    summary = json.loads((out / "quickstart.json").read_text())
    assert set(summary["timings_s"]) >= {"catalog", "dataset", "train", "evaluate", "describe", "total"}
    assert set(summary["metrics_test"]) >= {"color_accuracy", "category_accuracy", "overall"}
    report = (out / "report.md").read_text()
    for needed in ("loss.png", "eval/samples.png", "Held-out images", "Reproduce"):
        assert needed in report
    card = (out / "model" / "README.md").read_text()
    assert "pipeline_tag: image-to-text" in card and "library_name: transformers" in card
    assert (out / "eval" / "samples.png").exists() and (out / "metrics_vs_tokens.png").exists()
    assert len(summary["described"]) == 6 and all(
        isinstance(r["description"], str) for r in summary["described"]
    )
    # a rerun skips the finished stages (resumable)
    assert main(["quickstart", "--out", str(out), "--items", "200", "--epochs", "1"]) == 0
    assert json.loads((out / "quickstart.json").read_text())["timings_s"]["train"] == 0.0


@pytest.mark.slow
def test_the_same_shortened_quickstart_twice_writes_the_same_metrics(tmp_path):
    out = tmp_path / "qs"
    command = ["quickstart", "--out", str(out), "--items", "200", "--epochs", "6", "--workers", "2"]
    runs = []
    for _ in range(2):
        shutil.rmtree(out, ignore_errors=True)
        assert main(command) == 0
        runs.append({name: (out / "eval" / name).read_bytes() for name in ("metrics.json", "samples.jsonl")})
    overall = json.loads(runs[0]["metrics.json"])["metrics"]["overall"]["mean"]
    assert overall > 0  # a trained model whose descriptions could differ, not an all-zero run
    assert runs[0] == runs[1]
