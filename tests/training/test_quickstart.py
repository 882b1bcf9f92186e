"""The shortened quickstart end to end (CI): catalog -> dataset -> encoder -> MODA -> evaluate -> calibrate ->
describe -> report."""

import json
import shutil

import pytest

from modeling_moda.cli import main


@pytest.mark.slow
def test_short_quickstart_writes_report_model_and_card(tmp_path):
    out = tmp_path / "qs"
    assert main(["quickstart", "--out", str(out), "--items", "200", "--epochs", "1", "--workers", "2"]) == 0
    summary = json.loads((out / "quickstart.json").read_text())
    stages = {"catalog", "dataset", "encoder", "train", "evaluate", "calibrate", "describe", "total"}
    assert set(summary["timings_s"]) == stages and all(summary["timings_s"][s] > 0 for s in stages)
    assert set(summary["metrics_test"]) >= {"color_accuracy", "category_accuracy", "overall"}
    # MODA reads the run's own encoder, frozen
    model_config = json.loads((out / "model" / "config.json").read_text())
    encoder_config = json.loads((out / "encoder" / "config.json").read_text())
    assert model_config["vision_config"]["model_type"] == "resnet" and model_config["freeze_vision"] is True
    assert model_config["vision_config"]["hidden_sizes"] == encoder_config["vision_config"]["hidden_sizes"]
    assert set(summary["encoder"]["zero_shot"]) == {"colour", "article_type", "gender", "usage"}
    report = (out / "report.md").read_text()
    for needed in (
        "loss.png",
        "eval/samples.png",
        "Held-out images",
        "Reproduce",
        "| encoder |",
        "Encoder: our FashionCLIP",
        "Ceiling: does the data or the model hold a metric back?",
        "Where MODA disagrees with the reference",
        "## Attributes and confidence (test split)",
        "![reliability diagram](eval/reliability.png)",
        "### Review threshold",
        "| 0.95 |",
    ):
        assert needed in report
    # calibration of the attributes' confidence on the test split: every item described, each ECE in [0, 1]
    calibration = json.loads((out / "eval" / "calibration.json").read_text())
    assert (
        calibration["items"]
        == summary["n_test"]
        == len((out / "eval" / "attributes.jsonl").read_text().splitlines())
    )
    assert all(0 <= stats["ece"] <= 1 for stats in calibration["attributes"].values() if stats["n"])
    assert [row["threshold"] for row in calibration["review"]] == [0.0, 0.8, 0.95, 0.99]
    assert (out / "eval" / "reliability.png").read_bytes()[:4] == b"\x89PNG"
    assert all(
        set(r["attributes"]) == {"colour", "article_type", "gender", "usage"} for r in summary["described"]
    )
    confusion = [p.name for p in out.glob("confusion_*.png")]
    assert len(confusion) == 1 and f"]({confusion[0]})" in report
    card = (out / "model" / "README.md").read_text()
    assert "pipeline_tag: image-to-text" in card and "library_name: transformers" in card
    assert (out / "eval" / "samples.png").exists() and (out / "metrics_vs_tokens.png").exists()
    assert len(summary["described"]) == 6 and all(
        isinstance(r["description"], str) for r in summary["described"]
    )
    # a rerun skips the finished stages (resumable)
    assert main(["quickstart", "--out", str(out), "--items", "200", "--epochs", "1"]) == 0
    rerun = json.loads((out / "quickstart.json").read_text())["timings_s"]
    assert rerun["encoder"] == 0.0 and rerun["train"] == 0.0


@pytest.mark.slow
def test_the_same_shortened_quickstart_twice_writes_the_same_metrics(tmp_path):
    out = tmp_path / "qs"
    command = ["quickstart", "--out", str(out), "--items", "200", "--epochs", "6", "--workers", "2"]
    runs = []
    for _ in range(2):
        shutil.rmtree(out, ignore_errors=True)
        assert main(command) == 0
        files = ("metrics.json", "samples.jsonl", "calibration.json", "attributes.jsonl")
        runs.append({name: (out / "eval" / name).read_bytes() for name in files})
        encoder = json.loads((out / "encoder" / "encoder_metrics.json").read_text())
        runs[-1]["encoder"] = {k: encoder[k] for k in ("zero_shot", "linear_probe", "epoch_losses")}
    overall = json.loads(runs[0]["metrics.json"])["metrics"]["overall"]["mean"]
    assert overall > 0  # a trained model whose descriptions could differ, not an all-zero run
    assert runs[0] == runs[1]
