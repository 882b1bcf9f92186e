"""`moda evaluate` end to end on a tiny saved model and a small dataset; the report and its figures."""

import json

import pytest
from PIL import Image

from modeling_moda.cli import main
from modeling_moda.evaluation import ALL_METRICS

from ..scripted_openai import ScriptedOpenAIServer

LLM_VERDICT = json.dumps(
    {
        "color_accuracy": 2.5,
        "style_recognition": 10,
        "category_accuracy": 0,
        "gender_accuracy": 10,
        "factual_consistency": 7.5,
    }
)


def _png_ok(path):
    with Image.open(path) as im:
        return im.format == "PNG" and im.size[0] > 100


def _evaluate(model_dir, dataset_dir, out) -> int:
    return main(
        ["evaluate", "--model", str(model_dir), "--dataset", str(dataset_dir), "--split", "test"]
        + ["--limit", "5", "--max-new-tokens", "12", "--batch-size", "4", "--out", str(out)]
    )


def test_moda_evaluate_writes_report_and_pngs(tiny_model_dir, eval_dataset_dir, tmp_path, capsys):
    out = tmp_path / "eval"
    code = _evaluate(tiny_model_dir, eval_dataset_dir, out)
    assert code == 0
    assert "Overall" in capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["run"]["samples"] == 5 and metrics["run"]["judge"] == "rules"
    assert set(ALL_METRICS) <= set(metrics["metrics"]) and metrics["metrics"]["n_samples"] == 5
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 5
    assert {"id", "reference", "prediction", "scores", "reasons", "error"} <= set(rows[0])
    assert rows[0]["reference"]["article_type"] == "Tshirts" and isinstance(rows[0]["prediction"], str)
    for png in ("metrics.png", "per_category.png", "samples.png"):
        assert _png_ok(out / png), png
    report = (out / "report.md").read_text()
    assert "![samples](samples.png)" in report and "Color Accuracy" in report
    assert set(json.loads((out / "timings.json").read_text())) == {"generation_s", "judging_s"}


def test_the_same_evaluation_twice_gives_a_byte_identical_metrics_json(
    tiny_model_dir, eval_dataset_dir, tmp_path
):
    first, second = tmp_path / "first", tmp_path / "second"
    assert _evaluate(tiny_model_dir, eval_dataset_dir, first) == 0
    assert _evaluate(tiny_model_dir, eval_dataset_dir, second) == 0
    assert (first / "metrics.json").read_bytes() == (second / "metrics.json").read_bytes()


@pytest.mark.slow  # starts an HTTP server
def test_rejudge_predictions_and_compare_judges(tiny_model_dir, eval_dataset_dir, tmp_path):
    first = tmp_path / "first"
    main(
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            str(eval_dataset_dir),
            "--limit",
            "4",
            "--max-new-tokens",
            "8",
            "--out",
            str(first),
        ]
    )
    out = tmp_path / "again"
    # the other judge: the LLM judge on an OpenAI-compatible server that scripts one verdict for every sample
    server = ScriptedOpenAIServer([], default=LLM_VERDICT)
    try:
        code = main(
            ["evaluate", "--predictions", str(first / "samples.jsonl"), "--compare-judges", "rules", "openai",
             "--judge-base-url", server.url, "--judge-model", "scripted", "--out", str(out)]
        )  # fmt: skip
    finally:
        server.close()
    assert code == 0 and len(server.requests) == 4
    result = json.loads((out / "metrics.json").read_text())
    assert result["run"]["samples"] == 4
    assert result["metrics"] == json.loads((first / "metrics.json").read_text())["metrics"]  # rules, again
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    llm = [row["other_judges"]["openai"]["scores"] for row in rows]
    assert all(s["color_accuracy"] in (2.5, None) and s["factual_consistency"] == 7.5 for s in llm)
    assert result["agreement"]["judges"] == ["rules", "openai"]
    for metric in ("color_accuracy", "factual_consistency"):
        pairs = [(row["scores"][metric], s[metric]) for row, s in zip(rows, llm, strict=True)]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        reported = result["agreement"][metric]
        assert reported["n"] == len(pairs) > 0
        assert reported["mean_abs_diff"] == pytest.approx(
            sum(abs(a - b) for a, b in pairs) / len(pairs), abs=1e-4
        )
    assert "Judge agreement" in (out / "report.md").read_text()


def test_openai_judge_without_key_fails_clearly(
    tiny_model_dir, eval_dataset_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    code = main(
        [
            "evaluate",
            "--model",
            str(tiny_model_dir),
            "--dataset",
            str(eval_dataset_dir),
            "--judge",
            "openai",
            "--out",
            str(tmp_path / "x"),
        ]
    )
    assert code == 2 and "OPENAI_API_KEY" in capsys.readouterr().err
