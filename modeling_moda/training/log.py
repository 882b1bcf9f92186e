"""train_log.jsonl: every Trainer log (loss, lr, eval loss, judge metrics) with the tokens seen so far."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from transformers import TrainerCallback


def read_log(path: str | Path) -> list[dict[str, Any]]:
    """The records of a train_log.jsonl (a torn last line, from a killed run, is ignored)."""
    records = []
    path = Path(path)
    if not path.exists():
        return records
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


class JsonlLogCallback(TrainerCallback):
    """Appends one JSON line per Trainer log event; on resume, drops lines after the checkpoint's step."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001, ANN201 (TrainerCallback API)
        if not state.is_world_process_zero:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        kept = [r for r in read_log(self.path) if r.get("step", 0) <= state.global_step]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(r) + "\n" for r in kept))
        os.replace(tmp, self.path)

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001, ANN201
        if not state.is_world_process_zero or not logs:
            return
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            "tokens": state.num_input_tokens_seen,
            **logs,
        }
        with self.path.open("a") as handle:
            handle.write(json.dumps(record) + "\n")
            handle.flush()
