"""Calibration of a model's attribute confidence on a dataset split: the inference area describes each image
with its attributes (`describe_detailed`), the evaluation area checks them against the catalog metadata."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from modeling_moda.core.datasets import load_split
from modeling_moda.core.io import write_json, write_jsonl
from modeling_moda.evaluation.calibration import DEFAULT_THRESHOLDS, calibration_report, plot_reliability
from modeling_moda.evaluation.run import references_of
from modeling_moda.inference.describer import load_describer

CALIBRATION_FILE = "calibration.json"
RELIABILITY_PNG = "reliability.png"
ATTRIBUTES_FILE = "attributes.jsonl"
NO_REVIEW = 0.0  # a threshold no confidence falls under: the baseline error rate, nothing held for review


def calibrate_model(
    model_dir: str | Path,
    dataset: str | Path,
    out_dir: str | Path,
    split: str = "test",
    thresholds: Sequence[float] = (NO_REVIEW, *DEFAULT_THRESHOLDS),
    batch_size: int = 16,
    runtime: str = "torch",
    dtype: str = "fp32",
    limit: int | None = None,
    progress: bool = True,
) -> dict:
    """Describe `split` with attributes, then write `out_dir`/calibration.json (ECE per attribute, review
    table), reliability.png and attributes.jsonl (id, text, attributes per item); returns the report."""
    rows = load_split(str(dataset), split, limit=limit)
    ids = [str(x) for x in rows["id"]] if "id" in rows.column_names else [str(i) for i in range(len(rows))]
    references = references_of(rows)
    describer = load_describer(str(model_dir), runtime, dtype=dtype)
    described = []
    with tqdm(total=len(rows), desc="describe with attributes", unit="img", disable=not progress) as bar:
        for start in range(0, len(rows), batch_size):
            images = [image.convert("RGB") for image in rows[start : start + batch_size]["image"]]
            described += describer.describe_detailed(images)
            bar.update(len(images))
    attributes = [d.attributes for d in described]
    report = {
        "model": str(model_dir),
        "dataset": str(dataset),
        "split": split,
        "runtime": runtime,
        "dtype": dtype,
        **calibration_report(attributes, references, thresholds),
    }
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(
        out_dir / ATTRIBUTES_FILE,
        [{"id": i, "text": d.text, "attributes": d.attributes} for i, d in zip(ids, described, strict=True)],
    )
    write_json(out_dir / CALIBRATION_FILE, report)
    plot_reliability(report, out_dir / RELIABILITY_PNG, title=f"Attribute confidence on the {split} split")
    return report


def without_bins(report: dict) -> dict:
    """The report's figures without the reliability bins (a summary's size)."""

    def strip(stats: dict) -> dict:
        return {k: v for k, v in stats.items() if k != "bins"}

    return {
        **report,
        "attributes": {name: strip(stats) for name, stats in report["attributes"].items()},
        "all": strip(report["all"]),
    }
