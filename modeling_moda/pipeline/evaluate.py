"""`moda evaluate` with a model: the inference area describes a split, the evaluation area judges it.

The describing follows `moda describe`'s rules (`inference.sharding`): one process by default, or every
process `accelerate launch` started describes its share of the rows into `OUT/descriptions.jsonl.parts/`;
the main process merges them into `OUT/descriptions.jsonl` (the description, attributes and confidence of
each row, in row order) and then judges alone. A killed run started again with `resume=True` describes only
the rows that are missing; when `descriptions.jsonl` is complete it goes straight to judging.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from modeling_moda.core.datasets import load_split
from modeling_moda.core.io import read_jsonl
from modeling_moda.evaluation import get_judge
from modeling_moda.evaluation.run import EvalResult, judge_and_report, references_of
from modeling_moda.inference.describer import load_describer
from modeling_moda.inference.inputs import iter_dataset
from modeling_moda.inference.sharding import DESCRIBER_DTYPES, describe_and_merge, finished, start_processes

DESCRIPTIONS_FILE = "descriptions.jsonl"


class DatasetImages(Sequence):
    """A split's images as a sequence, each decoded when asked for (the report's grid reads a few)."""

    def __init__(self, rows: Any, column: str) -> None:
        self.rows, self.column = rows, column

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return self.rows[index][self.column].convert("RGB")


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
    resume: bool = False,
    threads: int | None = None,
) -> EvalResult | None:
    """Describe `split` of `dataset` with the model in `model_dir` (sharded over the processes of an
    `accelerate launch`, if any), score the descriptions with `judge` (a judge object from `get_judge`;
    default rules), optionally also with `compare_judge`, and write the report to `out_dir`.
    `max_new_tokens=None` takes the model's saved generation config. Returns the result on the main
    process, None on the others."""
    judge = judge or get_judge("rules")
    processes = start_processes(device, threads)
    descriptions = str(Path(out_dir) / DESCRIPTIONS_FILE)
    rows = load_split(dataset, split, limit=limit)
    if image_column not in rows.column_names:
        raise ValueError(f"{dataset} [{split}]: no image column {image_column!r} (has {rows.column_names})")

    timings = {}
    if not (resume and finished(descriptions)):
        describer = load_describer(
            str(model_dir),
            "torch",
            dtype=DESCRIBER_DTYPES.get(dtype, dtype),
            num_threads=processes.threads,
            device=processes.device,
        )
        max_new_tokens = max_new_tokens or describer.max_new_tokens
        start = time.perf_counter()
        describe_and_merge(
            describer,
            lambda: iter_dataset(dataset, split, image_column, limit),
            descriptions,
            "jsonl",
            processes,
            resume=resume,
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            progress=progress,
            name="moda evaluate",
        )
        timings["generation_s"] = round(time.perf_counter() - start, 2)
    if not processes.is_main:
        return None
    if max_new_tokens is None:  # resumed after the describing finished: the model was not loaded
        from transformers import GenerationConfig

        max_new_tokens = GenerationConfig.from_pretrained(str(model_dir)).max_new_tokens
    # a row whose image failed to load is judged as an empty description (the failure was reported)
    predictions = [row.get("description", "") for row in read_jsonl(descriptions)]
    ids = (
        [str(x) for x in rows[id_column]]
        if id_column in rows.column_names
        else [str(i) for i in range(len(rows))]
    )
    run_info = {
        "model": str(model_dir),
        "dataset": str(dataset),
        "split": split,
        "samples": len(rows),
        "max_new_tokens": max_new_tokens,
    }
    return judge_and_report(
        ids,
        references_of(rows),
        predictions,
        out_dir,
        judge,
        compare_judge,
        run_info,
        images=DatasetImages(rows, image_column),
        grid_size=grid_size,
        timings=timings,
    )
