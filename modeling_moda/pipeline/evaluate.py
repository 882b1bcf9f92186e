"""`moda evaluate` with a model: the inference area describes a split, the evaluation area judges it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from modeling_moda.core.datasets import load_split
from modeling_moda.evaluation import get_judge
from modeling_moda.evaluation.run import EvalResult, judge_and_report, references_of
from modeling_moda.inference.generate import generate_descriptions
from modeling_moda.inference.runtime import load_for_inference


def evaluate_model(
    model_dir: str,
    dataset: str,
    out_dir: str | Path,
    split: str = "test",
    judge: Any = None,
    compare_judge: Any = None,
    limit: int | None = None,
    batch_size: int = 16,
    max_new_tokens: int | None = None,
    device: str = "cpu",
    dtype: str = "float32",
    grid_size: int = 12,
    id_column: str = "id",
    image_column: str = "image",
    progress: bool = True,
) -> EvalResult:
    """Generate descriptions for `split` of `dataset` with the model in `model_dir`, score them with `judge`
    (a judge object from `get_judge`; default rules), optionally also with `compare_judge`, and write the
    report to `out_dir`. `max_new_tokens=None` takes the model's saved generation config."""
    judge = judge or get_judge("rules")
    rows = load_split(dataset, split, limit=limit)
    if image_column not in rows.column_names:
        raise ValueError(f"{dataset} [{split}]: no image column {image_column!r} (has {rows.column_names})")
    ids = (
        [str(x) for x in rows[id_column]]
        if id_column in rows.column_names
        else [str(i) for i in range(len(rows))]
    )
    references = references_of(rows)
    images = [img.convert("RGB") for img in rows[image_column]]

    model, processor = load_for_inference(str(model_dir), device=device, dtype=dtype)
    start = time.perf_counter()
    predictions = generate_descriptions(
        model, processor, images, batch_size=batch_size, max_new_tokens=max_new_tokens, progress=progress
    )
    gen_s = time.perf_counter() - start

    run_info = {
        "model": str(model_dir),
        "dataset": str(dataset),
        "split": split,
        "samples": len(rows),
        "max_new_tokens": max_new_tokens or model.generation_config.max_new_tokens,
    }
    return judge_and_report(
        ids,
        references,
        predictions,
        out_dir,
        judge,
        compare_judge,
        run_info,
        images=images,
        grid_size=grid_size,
        timings={"generation_s": round(gen_s, 2)},
    )
