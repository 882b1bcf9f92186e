"""One training run from a recipe: model, data (feature cache), Trainer loop, then the run directory.

The run directory (`output_dir`) ends up holding `checkpoint-*/` (Trainer's, resumable), `model/` (the best
model with remote code, processor and model card), `train_log.jsonl`, `loss.png`, `metrics_vs_tokens.png`
(when the judge ran) and `recipe.yaml` (the resolved config).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .card import render_model_card
from .collator import ModaCollator
from .config import RecipeConfig
from .data import DescriptionRows, LazyColumn, feature_cache_root, load_split
from .feature_cache import FeatureCache, encoder_fingerprint
from .log import JsonlLogCallback, read_log
from .modeling import apply_freezing_and_lora, build_model, merge_for_saving
from .plots import plot_losses
from .trainer import ModaTrainer

logger = logging.getLogger(__name__)
METRICS_PLOT = "metrics_vs_tokens.png"  # drawn by the evaluation area's JudgeTracker


@dataclass
class TrainResult:
    output_dir: Path
    model_dir: Path
    train_runtime_s: float
    global_step: int
    log: list[dict[str, Any]]


def precision_flags(precision: str) -> dict[str, bool]:
    """bf16/fp16 flags. "auto": bf16 on GPUs that have it, else fp16 on GPUs, fp32 on CPU."""
    if precision == "auto":
        if torch.cuda.is_available():
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        else:
            precision = "fp32"
    return {"bf16": precision == "bf16", "fp16": precision == "fp16"}


def training_arguments(config: RecipeConfig) -> Any:
    from transformers import TrainingArguments

    judge_metric = config.metric_for_best_model
    return TrainingArguments(
        output_dir=config.output_dir,
        run_name=config.run_name,
        seed=config.seed,
        data_seed=config.seed,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        lr_scheduler_type="constant" if config.lr_scheduler == "step_decay" else config.lr_scheduler,
        warmup_steps=config.warmup_ratio,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=config.eval_batch_size or config.batch_size,
        gradient_accumulation_steps=config.gradient_accumulation_steps,
        num_train_epochs=config.num_epochs,
        max_steps=config.max_steps,
        max_grad_norm=config.max_grad_norm,
        activation_checkpointing=config.gradient_checkpointing,
        eval_strategy=config.eval_strategy,
        eval_steps=config.eval_steps,
        save_strategy=config.save_strategy,
        save_steps=config.save_steps,
        save_total_limit=config.save_total_limit,
        load_best_model_at_end=config.load_best_model_at_end and config.eval_strategy != "no",
        metric_for_best_model=judge_metric,
        greater_is_better=not judge_metric.endswith("loss"),
        logging_steps=config.logging_steps,
        logging_first_step=True,
        include_num_input_tokens_seen="non_padding",
        prediction_loss_only=True,
        remove_unused_columns=False,
        dataloader_num_workers=config.dataloader_num_workers,
        dataloader_pin_memory=torch.cuda.is_available(),
        report_to=config.report_to or "none",
        disable_tqdm=False,
        **precision_flags(config.precision),
    )


def _rows(config: RecipeConfig, split: Any, split_name: str, model: Any, processor: Any, use_cache: bool):
    if not use_cache:
        return DescriptionRows(split, config)
    from accelerate import PartialState

    cache = FeatureCache(feature_cache_root(config), encoder_fingerprint(model, processor))
    with PartialState().main_process_first():  # rank 0 encodes; the others then read its cache
        features = cache.get_or_encode(
            split_name,
            split[config.id_column],
            LazyColumn(split, config.image_column),
            model,
            processor,
            batch_size=config.encode_batch_size,
        )
    return DescriptionRows(split, config, features=features)


def train(
    config: RecipeConfig, resume_from_checkpoint: str | bool | None = None, callbacks: Sequence[Any] = ()
) -> TrainResult:
    """Train a MODA as the recipe says; returns where everything went. `callbacks`: extra TrainerCallbacks."""
    from accelerate import PartialState
    from transformers import set_seed

    set_seed(config.seed)
    out = Path(config.output_dir)
    args = training_arguments(config)  # first: it sets up the distributed state PartialState then reports
    state = PartialState()
    if state.is_main_process:
        out.mkdir(parents=True, exist_ok=True)
        config.to_yaml(out / "recipe.yaml")

    train_split = load_split(config, config.train_split, config.max_train_samples)
    eval_split = None
    if config.eval_strategy != "no":
        eval_split = load_split(config, config.eval_split, config.max_eval_samples)
    model, processor = build_model(config, texts=train_split[config.text_column])
    model = apply_freezing_and_lora(model, config)

    use_cache = config.feature_cache and config.freeze_vision
    train_rows = _rows(config, train_split, config.train_split, model, processor, use_cache)
    eval_rows = None
    if eval_split is not None:
        eval_rows = _rows(config, eval_split, config.eval_split, model, processor, use_cache)

    callbacks = [JsonlLogCallback(out / "train_log.jsonl"), *callbacks]
    tracker = _judge_tracker(config, processor, eval_split)
    if tracker is not None:
        callbacks.append(tracker)

    trainer = ModaTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        eval_dataset=eval_rows,
        data_collator=ModaCollator(processor, prompt=config.prompt),
        processing_class=processor,
        callbacks=callbacks,
        step_decay=(config.lr_decay_every_epochs, config.lr_decay_factor)
        if config.lr_scheduler == "step_decay"
        else None,
    )
    output = trainer.train(resume_from_checkpoint=resume_from_checkpoint)

    model_dir = out / "model"
    if trainer.is_world_process_zero():
        final = merge_for_saving(trainer.model)
        final.save_pretrained(model_dir)
        processor.save_pretrained(model_dir)
        plot_losses(read_log(out / "train_log.jsonl"), out / "loss.png")
        plots = {}
        for title, name in (("Train and validation loss", "loss.png"), ("Metrics vs tokens", METRICS_PLOT)):
            if (out / name).exists():
                shutil.copyfile(out / name, model_dir / name)
                plots[title] = name
        results, results_n = _latest_judge_metrics(out)
        render_model_card(
            model_dir,
            config,
            final,
            n_train=len(train_split),
            n_eval=len(eval_split) if eval_split is not None else 0,
            results=results,
            results_split=f"{config.eval_split} (last in-training evaluation)",
            results_n=results_n,
            plots=plots,
        )
        if config.push_to_hub:
            push_folder(model_dir, config)
    trainer.accelerator.wait_for_everyone()
    return TrainResult(
        output_dir=out,
        model_dir=model_dir,
        train_runtime_s=float(output.metrics.get("train_runtime", 0.0)),
        global_step=trainer.state.global_step,
        log=read_log(out / "train_log.jsonl"),
    )


def _judge_tracker(config: RecipeConfig, processor: Any, eval_split: Any) -> Any | None:
    """The evaluation area's tracker: the judge scores a validation subset against tokens seen."""
    if config.judge_every_steps < 0 or eval_split is None or config.judge_samples <= 0:
        return None
    from modeling_moda.evaluation.tracker import JudgeTracker

    return JudgeTracker(
        processor,
        eval_split,
        config.output_dir,
        judge=config.judge,
        every_steps=config.judge_every_steps,
        n_samples=config.judge_samples,
        batch_size=config.eval_batch_size or config.batch_size,
        max_new_tokens=config.max_new_tokens,
        image_column=config.image_column,
        prompt=config.prompt,
    )


def _latest_judge_metrics(out: Path) -> tuple[dict[str, float], int]:
    from modeling_moda.evaluation.tracker import LOG_NAME, read_history

    history = read_history(out / LOG_NAME)
    if not history:
        return {}, 0
    last = history[-1]
    return {k: v for k, v in last["metrics"].items() if v is not None}, int(last.get("n", 0))


def push_folder(folder: Path, config: RecipeConfig) -> str:
    """Upload a model folder to `hub_model_id`; returns its URL."""
    from huggingface_hub import HfApi

    if not config.hub_model_id:
        raise ValueError("push_to_hub needs hub_model_id (e.g. your-name/moda-280m)")
    api = HfApi()
    api.create_repo(config.hub_model_id, private=config.hub_private, exist_ok=True)
    api.upload_folder(repo_id=config.hub_model_id, folder_path=str(folder), commit_message="Upload MODA")
    return f"https://huggingface.co/{config.hub_model_id}"
