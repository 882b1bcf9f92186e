"""Training as `moda train` and `recipes/train.py` run it: the recipe's run with the judge watching.

The training area may not import the evaluation area, so the judge's callback is made here and handed in.
"""

from __future__ import annotations

from transformers import TrainerCallback

from modeling_moda.core.datasets import load_split
from modeling_moda.evaluation.tracker import JudgeTracker
from modeling_moda.inference.generate import generate_descriptions
from modeling_moda.training.config import Recipe


def judge_callbacks(recipe: Recipe) -> list[TrainerCallback]:
    """The evaluation area's JudgeTracker on the first `judge_samples` validation items, unless turned off.

    It scores descriptions against tokens seen (`judge_metrics.jsonl`, `metrics_vs_tokens.png` in the run
    directory) and adds `eval_judge_<metric>` to each evaluation's metrics.
    """
    data, args = recipe.data, recipe.training
    if args.judge_every_steps < 0 or args.judge_samples <= 0 or args.eval_strategy == "no":
        return []
    subset = load_split(
        data.dataset, data.eval_split, revision=data.dataset_revision, limit=args.judge_samples
    )
    tracker = JudgeTracker(
        None,  # the Trainer's processor
        subset,
        args.output_dir,
        judge=args.judge,
        every_steps=args.judge_every_steps,
        n_samples=args.judge_samples,
        batch_size=args.per_device_eval_batch_size,
        image_column=data.image_column,
        prompt=data.prompt,
        describe=generate_descriptions,
    )
    return [tracker]
