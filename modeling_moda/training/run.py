"""One training run from a recipe, top to bottom: data -> model -> feature cache -> Trainer -> save and card.

The run directory (`output_dir`) ends up holding `checkpoint-*/` (Trainer's, resumable), `model/` (the best
model with remote code, processor, generation config and model card), `train_log.jsonl`, `loss.png`,
`recipe.yaml` (the keys this run set) and whatever the injected callbacks write (the judge's chart).
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelerate import PartialState
from transformers import TrainerCallback, set_seed

from .card import render_model_card
from .collator import ModaCollator
from .config import Recipe
from .data import DescriptionRows, LazyColumn, feature_cache_root, load_recipe_split
from .feature_cache import FeatureCache, encoder_fingerprint
from .log import JsonlLogCallback, read_log
from .modeling import apply_freezing_and_lora, build_model, merge_for_saving
from .plots import plot_losses
from .trainer import ModaTrainer

PLOTS = {"Train and validation loss": "loss.png", "Metrics vs tokens": "metrics_vs_tokens.png"}
JUDGE_PREFIX = "eval_judge_"  # what an in-training judge callback adds to the evaluation metrics


@dataclass
class TrainResult:
    output_dir: Path
    model_dir: Path
    train_runtime_s: float
    global_step: int
    log: list[dict[str, Any]]


class LastEvaluation(TrainerCallback):
    """Keeps the last evaluation's metrics, after the callbacks before it added theirs (the judge's)."""

    def __init__(self) -> None:
        self.metrics: dict[str, float] = {}

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):  # noqa: ANN001, ANN201
        self.metrics = dict(metrics or {})


def train(
    recipe: Recipe,
    callbacks: Sequence[TrainerCallback] = (),
    resume_from_checkpoint: str | bool | None = None,
) -> TrainResult:
    """Train a MODA as the recipe says; returns where everything went.

    `callbacks`: extra TrainerCallbacks (the judge tracker comes from the layer above).
    `resume_from_checkpoint` (default: the recipe's): a checkpoint folder, or True / "latest" for the newest
    checkpoint in `output_dir`.
    """
    model_args, options, data_args, args = recipe.groups
    set_seed(args.seed)
    out = Path(args.output_dir)
    if PartialState().is_main_process:  # TrainingArguments has set up the distributed state
        recipe.to_yaml(out / "recipe.yaml")

    # 1. data: the splits (first, because a tiny model's tokenizer is trained on the descriptions)
    train_split = load_recipe_split(data_args, data_args.train_split, data_args.max_train_samples)
    eval_split = None
    if args.eval_strategy != "no":
        eval_split = load_recipe_split(data_args, data_args.eval_split, data_args.max_eval_samples)

    # 2. model: backbones (or a saved MODA), frozen parts, LoRA
    model, processor = build_model(model_args, options, train_split[data_args.text_column], seed=args.seed)
    model = apply_freezing_and_lora(model, model_args)

    # 3. feature cache: a frozen encoder runs once per image; rank 0 encodes, the others read its cache
    cache = None
    if data_args.feature_cache and model.config.freeze_vision:
        root = feature_cache_root(data_args, args.output_dir)
        cache = FeatureCache(root, encoder_fingerprint(model, processor))

    def rows(split: Any, name: str) -> DescriptionRows:
        if cache is None:
            return DescriptionRows(split, data_args)
        with PartialState().main_process_first():
            ids, images = split[data_args.id_column], LazyColumn(split, data_args.image_column)
            features = cache.get_or_encode(
                name, ids, images, model, processor, batch_size=data_args.encode_batch_size
            )  # [N, N_v, D_v]
        return DescriptionRows(split, data_args, features=features)

    train_rows = rows(train_split, data_args.train_split)
    eval_rows = rows(eval_split, data_args.eval_split) if eval_split is not None else None

    # 4. Trainer: the loop, DDP/FSDP, mixed precision, checkpoints and resume are transformers'
    last_eval = LastEvaluation()
    trainer = ModaTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        data_collator=ModaCollator(processor, prompt=data_args.prompt),
        processing_class=processor,
        callbacks=[JsonlLogCallback(out / "train_log.jsonl"), *callbacks, last_eval],
    )
    resume = resume_from_checkpoint if resume_from_checkpoint is not None else args.resume_from_checkpoint
    if isinstance(resume, str) and resume.lower() in ("latest", "true"):
        resume = True
    output = trainer.train(resume_from_checkpoint=resume or None)

    # 5. save: the merged model, processor, plots and the model card (main process only)
    model_dir = out / "model"
    if trainer.is_world_process_zero():
        final = merge_for_saving(trainer.model)
        final.save_pretrained(model_dir)
        processor.save_pretrained(model_dir)
        plot_losses(read_log(out / "train_log.jsonl"), out / "loss.png")
        plots = {}
        for title, name in PLOTS.items():
            if (out / name).exists():
                shutil.copyfile(out / name, model_dir / name)
                plots[title] = name
        judged = {
            k[len(JUDGE_PREFIX) :]: v for k, v in last_eval.metrics.items() if k.startswith(JUDGE_PREFIX)
        }
        render_model_card(
            model_dir,
            recipe,
            final,
            n_train=len(train_split),
            n_eval=len(eval_split) if eval_split is not None else 0,
            results=judged,
            results_split=f"{data_args.eval_split} (last in-training evaluation)",
            results_n=min(args.judge_samples, len(eval_split)) if judged else 0,
            plots=plots,
        )
        if args.push_to_hub:
            push_folder(model_dir, args.hub_model_id, private=bool(args.hub_private_repo))
    trainer.accelerator.wait_for_everyone()
    return TrainResult(
        output_dir=out,
        model_dir=model_dir,
        train_runtime_s=float(output.metrics.get("train_runtime", 0.0)),
        global_step=trainer.state.global_step,
        log=read_log(out / "train_log.jsonl"),
    )


def push_folder(folder: Path, repo_id: str | None, private: bool = False) -> str:
    """Upload a model folder to the Hub repo `repo_id`; returns its URL."""
    from huggingface_hub import HfApi

    if not repo_id:
        raise ValueError("push_to_hub needs hub_model_id (e.g. your-name/moda-280m)")
    api = HfApi()
    api.create_repo(repo_id, private=private, exist_ok=True)
    api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message="Upload MODA")
    return f"https://huggingface.co/{repo_id}"
