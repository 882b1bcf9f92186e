"""The model card (README.md of a model folder), rendered from `model_card/template.md`."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from ..core.io import write_text
from .config import Recipe

# the top-level model_card/, linked into the package as training/model_card so that it ships in the wheel
TEMPLATE = resources.files(__package__) / "model_card" / "template.md"
_HYPERPARAMETERS = (
    "learning_rate",
    "lr_scheduler_type",
    "lr_decay_factor",
    "lr_decay_every_epochs",
    "warmup_steps",
    "weight_decay",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "num_train_epochs",
    "max_steps",
    "bf16",
    "fp16",
    "freeze_vision",
    "freeze_text",
    "lora",
    "seed",
)


def _millions(n: int) -> str:
    return f"{n / 1e6:.1f} M" if n >= 1e5 else f"{n / 1e3:.1f} K"


def _part_sizes(model: Any) -> dict[str, str]:
    """Parameters per part (vision / projector / text / total), human-readable."""
    from modeling_moda.builder import parameter_counts

    counts = parameter_counts(model)
    return {
        "vision": _millions(counts["vision_tower"] + counts["visual_projection"]),
        "projector": _millions(counts["projector"]),
        "text": _millions(counts["language_model"]),
        "total": _millions(counts["total"]),
    }


def _backbone_name(sub_config: Any, fallback: str) -> str:
    name = getattr(sub_config, "_name_or_path", "") or ""
    model_type = getattr(sub_config, "model_type", "?")
    return f"`{name}` ({model_type})" if name else f"{fallback} {model_type}, from config"


def render_model_card(
    model_dir: str | Path,
    recipe: Recipe,
    model: Any,
    n_train: int,
    n_eval: int,
    results: dict[str, float] | None = None,
    results_split: str = "test",
    results_n: int = 0,
    plots: dict[str, str] | None = None,
    reproduce: str = "",
    summary: str = "",
) -> Path:
    """Write `model_dir/README.md`: Hub YAML metadata + the template's sections. Returns its path.

    `plots` maps a title to a file name inside `model_dir` (copy the PNGs there first).
    """
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    mc = model.config
    settings = recipe.settings()
    backbones = (settings["vision"], settings["text"], settings["init_from"])
    base_models = [name for name in backbones if name and name != "tiny"]
    model_id = settings["hub_model_id"] or str(model_dir)
    model_name = (
        settings["hub_model_id"].split("/")[-1]
        if settings["hub_model_id"]
        else f"MODA ({Path(settings['output_dir']).name})"
    )
    eval_results = [
        EvalResult(
            task_type="image-to-text",
            dataset_type=settings["dataset"],
            dataset_name=settings["dataset"],
            dataset_split=results_split,
            metric_type=name,
            metric_name=name,
            metric_value=float(value),
        )
        for name, value in (results or {}).items()
    ]
    card_data = ModelCardData(
        library_name="transformers",
        pipeline_tag="image-to-text",
        license=settings["license"],
        base_model=base_models or None,
        datasets=[settings["dataset"]] if settings["dataset"] else None,
        tags=["moda", "vision-language", "fashion", "image-captioning", "custom_code"],
        model_name=model_name,
        eval_results=eval_results or None,
    )
    text_dim = mc.text_config.hidden_size
    projector = (
        f"{mc.projector_type} {mc.vision_embed_dim} -> "
        + (
            f"{int(mc.projector_hidden_ratio * text_dim)} ({mc.projector_act}) -> "
            if mc.projector_type == "mlp"
            else ""
        )
        + f"{mc.text_config.hidden_size}"
        + (f" x {mc.num_image_tokens} tokens" if mc.num_image_tokens > 1 else "")
    )
    card = ModelCard.from_template(
        card_data,
        template_path=str(TEMPLATE),
        model_name=model_name,
        model_id=model_id,
        summary=summary,
        vision=_backbone_name(mc.vision_config, "tiny"),
        text=_backbone_name(mc.text_config, "tiny"),
        projector=projector,
        freeze_vision=settings["freeze_vision"],
        num_image_tokens=mc.num_image_tokens,
        vision_feature=mc.vision_feature,
        params=_part_sizes(model),
        dataset=f"`{settings['dataset']}`",
        n_train=n_train,
        n_eval=n_eval,
        hyperparameters={key: settings[key] for key in _HYPERPARAMETERS},
        reproduce=reproduce or f"moda train {Path(settings['output_dir']) / 'recipe.yaml'}",
        judge=settings["judge"],
        results={k: f"{v:.2f}" for k, v in (results or {}).items()},
        results_split=results_split,
        results_n=results_n,
        plots=plots or {},
    )
    return write_text(Path(model_dir) / "README.md", str(card))
