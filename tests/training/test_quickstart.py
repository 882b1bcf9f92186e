"""The shortened quickstart end to end (CI): catalog -> dataset -> train -> evaluate -> describe -> report."""

import json

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
