"""Judge metrics during training, against training tokens seen (the seed's "metrics vs tokens" chart).

    from modeling_moda.evaluation.tracker import JudgeTracker
    from modeling_moda.inference.generate import generate_descriptions
    tracker = JudgeTracker(None, eval_split, out_dir, n_samples=64, describe=generate_descriptions)
    Trainer(..., callbacks=[tracker])     # needs TrainingArguments(include_num_input_tokens_seen=...)

The evaluation area judges text and does not generate it: `describe` is the caller's generation function, with
the signature of `inference.generate.generate_descriptions` (the orchestration layer hands that one in).

`every_steps=0` judges at each evaluation (and adds `eval_judge_<metric>` to the eval metrics, so
`metric_for_best_model="eval_judge_overall"` works); `every_steps=K > 0` judges every K optimizer steps.
Each point is appended to `<out_dir>/judge_metrics.jsonl` ({"step", "tokens_seen", "metrics", "n"}) and the
chart `<out_dir>/metrics_vs_tokens.png` is redrawn. Only the main process judges.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from transformers import TrainerCallback

from ..core.io import append_jsonl, read_jsonl
from .aggregate import aggregate
from .metrics import ALL_METRICS
from .plots import plot_metrics_vs_tokens

LOG_NAME = "judge_metrics.jsonl"
PLOT_NAME = "metrics_vs_tokens.png"


def track_metrics(
    model: Any,
    processor: Any,
    images: Sequence[Any],
    references: Sequence[dict],
    *,
    step: int,
    tokens_seen: int,
    out_dir: str | Path,
    judge: Any = None,
    batch_size: int = 16,
    max_new_tokens: int | None = None,
    prompt: str | None = None,
    describe: Callable[..., list[str]],
) -> dict:
    """Describe `images` with `describe`, score them against `references`, append the point to the log,
    redraw the chart.

    Returns {metric: mean} for the five metrics and overall."""
    from . import get_judge

    judge = judge or get_judge("rules")
    was_training = model.training
    model.eval()
    try:
        predictions = describe(
            model,
            processor,
            list(images),
            batch_size=batch_size,
            max_new_tokens=max_new_tokens,
            prompt=prompt,
            progress=False,
        )
    finally:
        model.train(was_training)
    summary = aggregate(judge.score(predictions, list(references)), n_boot=200)
    means = {m: summary[m]["mean"] for m in ALL_METRICS}
    point = {
        "step": int(step),
        "tokens_seen": int(tokens_seen),
        "metrics": means,
        "n": summary["n_scored"],
        "example": predictions[0] if predictions else "",
    }
    out = Path(out_dir)
    append_jsonl(out / LOG_NAME, point)
    plot_metrics_vs_tokens(read_jsonl(out / LOG_NAME), out / PLOT_NAME)
    return means


class JudgeTracker(TrainerCallback):
    """A `TrainerCallback` that runs `track_metrics` on the first `n_samples` items of `eval_split`.

    `processor=None` takes the Trainer's `processing_class` (so the tracker can be made before the model);
    `max_new_tokens=None` takes the model's generation config.
    """

    def __init__(
        self,
        processor: Any | None,
        eval_split: Any,
        out_dir: str | Path,
        judge: str = "rules",
        every_steps: int = 0,
        n_samples: int = 64,
        batch_size: int = 16,
        max_new_tokens: int | None = None,
        image_column: str = "image",
        prompt: str | None = None,
        *,
        describe: Callable[..., list[str]],
    ):
        from . import get_judge
        from .run import references_of

        subset = eval_split.select(range(min(n_samples, len(eval_split))))
        self.processor = processor
        self.images = [img.convert("RGB") for img in subset[image_column]]
        self.references = references_of(subset)
        self.out_dir = Path(out_dir)
        self.judge = get_judge(judge)
        self.every_steps = every_steps
        self.batch_size = batch_size
        self.max_new_tokens = max_new_tokens
        self.prompt = prompt
        self.describe = describe
        self._last_step = -1

    def _track(self, state: Any, model: Any, processing_class: Any = None) -> dict | None:
        if not state.is_world_process_zero or model is None or state.global_step == self._last_step:
            return None
        self._last_step = state.global_step
        return track_metrics(
            model,
            self.processor or processing_class,
            self.images,
            self.references,
            step=state.global_step,
            tokens_seen=getattr(state, "num_input_tokens_seen", 0) or 0,
            out_dir=self.out_dir,
            judge=self.judge,
            batch_size=self.batch_size,
            max_new_tokens=self.max_new_tokens,
            prompt=self.prompt,
            describe=self.describe,
        )

    def on_step_end(self, args, state, control, model=None, processing_class=None, **kwargs):
        if self.every_steps > 0 and state.global_step % self.every_steps == 0:
            self._track(state, model, processing_class)

    def on_evaluate(self, args, state, control, model=None, processing_class=None, metrics=None, **kwargs):
        if self.every_steps != 0:
            return
        means = self._track(state, model, processing_class)
        if means is not None and metrics is not None:
            metrics.update({f"eval_judge_{m}": v for m, v in means.items() if v is not None})
