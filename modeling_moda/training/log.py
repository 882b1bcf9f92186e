"""train_log.jsonl: every Trainer log (loss, lr, eval loss, judge metrics) with the tokens seen so far."""

from __future__ import annotations

from pathlib import Path

from transformers import TrainerCallback

from ..core.io import append_jsonl, read_jsonl, write_jsonl

read_log = read_jsonl  # the records of a train_log.jsonl; a torn last line (killed run) is skipped


class JsonlLogCallback(TrainerCallback):
    """Appends one JSON line per Trainer log event; on resume, drops lines after the checkpoint's step."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def on_train_begin(self, args, state, control, **kwargs):  # noqa: ANN001, ANN201 (TrainerCallback API)
        if not state.is_world_process_zero:
            return
        kept = [r for r in read_jsonl(self.path) if r.get("step", 0) <= state.global_step]
        write_jsonl(self.path, kept)

    def on_log(self, args, state, control, logs=None, **kwargs):  # noqa: ANN001, ANN201
        if not state.is_world_process_zero or not logs:
            return
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            "tokens": state.num_input_tokens_seen,
            **logs,
        }
        append_jsonl(self.path, record)
