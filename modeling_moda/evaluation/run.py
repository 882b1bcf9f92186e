"""Judge descriptions and write the report (`pipeline.evaluate` first generates them with a model)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.io import read_jsonl
from ..core.schema import METADATA_FIELDS
from .aggregate import aggregate
from .agreement import compare
from .report import sample_rows, write_report

REFERENCE_EXTRA_FIELDS = ("description",)  # a reference description, when the dataset has one


@dataclass
class EvalResult:
    out_dir: Path
    metrics: dict
    files: dict[str, Path] = field(default_factory=dict)
    agreement: dict | None = None


def references_of(rows: Any) -> list[dict]:
    """Each row's metadata in the internal schema (and its reference description, if any)."""
    columns = [c for c in (*METADATA_FIELDS, *REFERENCE_EXTRA_FIELDS) if c in rows.column_names]
    table = {c: rows[c] for c in columns}
    return [{c: table[c][i] for c in columns} for i in range(len(rows))]


def score_with(judge: Any, predictions: list, references: list[dict], images: list | None) -> list:
    if images is not None and getattr(judge, "use_images", False):
        return judge.score(predictions, references, images=images)
    return judge.score(predictions, references)


def judge_and_report(
    ids: list[str],
    references: list[dict],
    predictions: list,
    out_dir: str | Path,
    judge: Any,
    compare_judge: Any = None,
    run_info: dict | None = None,
    images: list | None = None,
    grid_size: int = 12,
    timings: dict | None = None,
) -> EvalResult:
    """Score `predictions` with `judge` (and `compare_judge`), then write metrics, samples, report, PNGs.

    `timings` (wall seconds, e.g. of generation) go to timings.json with the judging time.
    """
    start = time.perf_counter()
    scores = score_with(judge, predictions, references, images)
    timings = {**(timings or {}), "judging_s": round(time.perf_counter() - start, 3)}
    run_info = {
        **(run_info or {}),
        "judge": judge.name,
        "judge_model": getattr(getattr(judge, "backend", None), "model", "lexicon"),
    }
    others, agreement = {}, None
    if compare_judge is not None:
        other = score_with(compare_judge, predictions, references, images)
        others[compare_judge.name] = other
        agreement = {"judges": [judge.name, compare_judge.name], **compare(scores, other)}
    metrics = aggregate(scores)
    tally = judge.tally() if hasattr(judge, "tally") else None
    if compare_judge is not None and hasattr(compare_judge, "tally"):
        tally = {
            **(tally or {}),
            **{f"{compare_judge.name}.{k}": v for k, v in compare_judge.tally().items()},
        }
    files = write_report(
        out_dir,
        sample_rows(ids, references, predictions, scores, others or None),
        scores,
        metrics,
        run_info,
        images=images,
        agreement=agreement,
        tally=tally,
        grid_size=grid_size,
        timings=timings,
    )
    return EvalResult(out_dir=Path(out_dir), metrics=metrics, files=files, agreement=agreement)


def rejudge_samples(
    samples_path: str | Path, out_dir: str | Path, judge: Any, compare_judge: Any = None
) -> EvalResult:
    """Score the predictions of an earlier run's samples.jsonl again (another judge, no model needed)."""
    if not Path(samples_path).is_file():
        raise ValueError(f"{samples_path}: no such predictions file")
    rows = read_jsonl(samples_path)
    missing = [i for i, r in enumerate(rows, start=1) if not {"reference", "prediction"} <= set(r)]
    if missing:
        raise ValueError(f"{samples_path}: lines {missing[:5]} lack 'reference' or 'prediction'")
    return judge_and_report(
        [str(r.get("id", i)) for i, r in enumerate(rows)],
        [r["reference"] for r in rows],
        [r["prediction"] for r in rows],
        out_dir,
        judge,
        compare_judge,
        {"predictions": str(samples_path), "samples": len(rows)},
    )
