"""Describe a stream of inputs in one process or across many (accelerate), each rank writing its own part
file; the main process merges them into one output, in input order.

    moda describe --model M photos/ --out out.jsonl                                   # one process
    ACCELERATE_USE_CPU=true accelerate launch --multi_gpu --num_processes 2 -m modeling_moda describe ...
    accelerate launch --multi_gpu --num_processes 8 -m modeling_moda describe ...     # 8 GPUs

Who does what: the input stream is cut into batches of `batch_size` in input order and batch b belongs to
rank b % world_size. Every rank walks the stream of names (cheap: no pixels), and loads and describes only
its own batches. A rank's batches are exactly the batches a one-process run forms, so each image meets the
same batched arithmetic and the merged output is the same bytes for any number of processes.

Resume: a rank keeps the inputs its share's part files describe (status ok, same path at the same index) and
redoes the rest, failed ones included, into a new part file; the merge takes the described row of each
index, else its latest failed row. Part files live in `OUT.parts/` and are removed after the merge. The
one thing held per input is, when resuming, the {index: path} map of the rank's already described inputs.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from ..core.attributes import held_for_review
from ..core.io import atomic_path
from .inputs import InputItem
from .loading import DEFAULT_MAX_FILE_MB, iter_loaded_batches
from .output import OutputFile, PartWriter, Row, described_indices, merged_records, row_from_record

# describer dtype names (load_describer) for the torch dtype names the CLI takes
DESCRIBER_DTYPES = {"auto": "auto", "float32": "fp32", "bfloat16": "bf16", "float16": "fp16"}


@dataclass
class Processes:
    """This process's place in the run: rank, world size, its device and its CPU threads."""

    state: Any  # accelerate.PartialState
    device: str
    threads: int

    @property
    def rank(self) -> int:
        return self.state.process_index

    @property
    def world_size(self) -> int:
        return self.state.num_processes

    @property
    def is_main(self) -> bool:
        return self.state.is_main_process

    def wait(self) -> None:
        self.state.wait_for_everyone()


def physical_cores() -> int:
    import psutil  # an accelerate dependency

    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


def start_processes(device: str = "auto", threads: int | None = None) -> Processes:
    """Join the run `accelerate launch` started (or be the only process): accelerate's `PartialState`.

    On CPUs (no CUDA, `--device cpu`, or `ACCELERATE_USE_CPU=true`) the processes talk over gloo and each
    takes its share of the physical cores (cores / processes on this machine) unless `threads` is given;
    with GPUs each process takes the GPU `accelerate launch` assigned it.
    """
    import torch
    from accelerate import PartialState
    from accelerate.utils import parse_flag_from_env

    cpu = device == "cpu" or parse_flag_from_env("ACCELERATE_USE_CPU") or not torch.cuda.is_available()
    state = PartialState(cpu=cpu)
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if device == "auto" or (device == "cuda" and state.device.type == "cuda"):
        device = str(state.device)  # this process's own GPU (cuda:LOCAL_RANK), or cpu
    return Processes(state, device, threads or max(1, physical_cores() // local_processes))


def owner(index: int, batch_size: int, world_size: int) -> int:
    """The rank that describes input `index`."""
    return (index // batch_size) % world_size


@dataclass
class MergeResult:
    rows: int = 0
    described: int = 0
    failed: int = 0
    held: int = 0  # rows written to the review file


def describe_shard(
    describer: Any,
    items: Iterable[InputItem],
    parts_dir: str,
    processes: Processes,
    *,
    batch_size: int,
    max_new_tokens: int | None = None,
    prompt: str | None = None,
    resume: bool = False,
    max_file_mb: float = DEFAULT_MAX_FILE_MB,
    progress: bool = True,
    name: str = "moda describe",
) -> None:
    """Describe this rank's share of `items` into a new part file in `parts_dir`; a bad input is reported
    on stderr once (by the rank that owns it) and becomes a failed row."""
    from tqdm.auto import tqdm

    rank, world = processes.rank, processes.world_size

    def mine(index: int) -> bool:
        return owner(index, batch_size, world) == rank

    done = described_indices(parts_dir, mine) if resume else {}
    skipped = 0

    def todo() -> Iterator[InputItem]:
        nonlocal skipped
        for i, item in enumerate(items):
            if mine(i):
                if done.get(i) == item.path:  # described by an earlier attempt (same input at this index)
                    skipped += 1
                else:
                    yield replace(item, index=i)

    batches = iter_loaded_batches(
        todo(), describer.processor.load_image, batch_size, int(max_file_mb * 2**20)
    )
    writer = PartWriter(parts_dir, rank)
    show = progress and processes.is_main
    with tqdm(desc="describe", unit="img", disable=not show, file=sys.stderr) as bar:
        for batch in batches:
            rows = []
            for item, reason in batch.failed:
                bar.write(f"{name}: failed: {item.path}: {reason}", file=sys.stderr)
                rows.append((item.index, Row(item.path, error=reason)))
            described = (
                describer.describe_detailed(batch.images, max_new_tokens=max_new_tokens, prompt=prompt)
                if batch.images
                else []
            )
            rows += [
                (item.index, Row(item.path, d.text, attributes=d.attributes))
                for item, d in zip(batch.items, described, strict=True)
            ]
            writer.write(sorted(rows, key=lambda indexed: indexed[0]))
            bar.update(len(rows))
    writer.close()
    if resume:
        where = f"rank {rank}/{world}: " if world > 1 else ""
        print(f"{name}: {where}resumed: {skipped} input(s) already described", file=sys.stderr)


def merge_parts(
    parts_dir: str,
    items: Iterable[InputItem],
    out: str | None,
    fmt: str,
    review_out: str | None = None,
    review_below: float | None = None,
) -> MergeResult:
    """One output in input order from the part files (atomically; stdout when `out` is None), and the
    review file: the described rows `core.attributes.held_for_review` holds at `review_below`."""
    result = MergeResult()
    records = merged_records(parts_dir)
    pending = next(records, None)
    with contextlib.ExitStack() as stack:
        output = stack.enter_context(OutputFile(out, fmt))
        review = None
        if review_out is not None:  # closed before atomic_path moves it into place (LIFO)
            tmp = stack.enter_context(atomic_path(review_out))
            review = stack.enter_context(open(tmp, "w", encoding="utf-8"))
        for index, item in enumerate(items):
            chosen = None
            while pending is not None and pending["index"] <= index:
                same = pending["index"] == index and pending["path"] == item.path
                if same and (chosen is None or chosen["status"] != "ok"):
                    chosen = pending
                pending = next(records, None)
            if chosen is None:
                missing = f"{parts_dir}: no row for input {index} ({item.path})"
                raise RuntimeError(f"{missing}; run the same command again with --resume")
            row = row_from_record(chosen)
            output.write(row)
            result.rows += 1
            result.described += row.ok
            result.failed += not row.ok
            if review is not None and row.ok:
                reason = held_for_review(row.attributes or {}, review_below or 0.0)
                if reason is not None:
                    record = {"path": row.path, "reason": reason, "description": row.description}
                    record["attributes"] = row.attributes
                    review.write(json.dumps(record, ensure_ascii=False) + "\n")
                    result.held += 1
    return result


def parts_dir_of(out: str) -> str:
    return out + ".parts"


def finished(out: str | None) -> bool:
    """`out` exists and no interrupted run left part files: there is nothing to resume."""
    return out is not None and os.path.exists(out) and not os.path.isdir(parts_dir_of(out))


def describe_and_merge(
    describer: Any,
    items: Callable[[], Iterable[InputItem]],
    out: str | None,
    fmt: str,
    processes: Processes,
    *,
    resume: bool = False,
    review_out: str | None = None,
    review_below: float | None = None,
    **describe_options: Any,
) -> MergeResult | None:
    """Every rank describes its share into `OUT.parts/`, then the main process merges them into `out` (and
    the review file) and removes the parts; returns the merge's counts on the main process, None elsewhere.

    `items()` gives a fresh stream of the same inputs each call (once to describe, once to merge). Without
    `resume` an earlier run's part files are discarded first. With `out=None` (one process) the parts go to
    a temporary folder and the rows to stdout.
    """
    if out is None and processes.world_size > 1:
        raise ValueError("several processes need --out (each writes its part beside it)")
    parts_dir = parts_dir_of(out) if out is not None else tempfile.mkdtemp(prefix="moda-describe-")
    if processes.is_main and not resume and os.path.isdir(parts_dir) and out is not None:
        shutil.rmtree(parts_dir)
    processes.wait()
    describe_shard(describer, items(), parts_dir, processes, resume=resume, **describe_options)
    processes.wait()
    if not processes.is_main:
        return None
    result = merge_parts(parts_dir, items(), out, fmt, review_out, review_below)
    shutil.rmtree(parts_dir)
    return result
