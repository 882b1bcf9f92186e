"""The model a recipe trains: assembled (Hub/local or tiny backbones), frozen where asked, LoRA if asked."""

from __future__ import annotations

from typing import Any

from .config import RecipeConfig

_VISION = ("vision_tower", "visual_projection")


def model_overrides(config: RecipeConfig) -> dict[str, Any]:
    """The ModaConfig keys a recipe sets."""
    return {
        "projector_type": config.projector_type,
        "projector_hidden_ratio": config.projector_hidden_ratio,
        "projector_act": config.projector_act,
        "num_image_tokens": config.num_image_tokens,
        "vision_feature": config.vision_feature,
        "freeze_vision": config.freeze_vision,
    }


def build_model(config: RecipeConfig, texts: list[str]) -> tuple[Any, Any]:
    """(model, processor): from `init_from`, tiny configs (tokenizer trained on `texts`), or backbones."""
    from modeling_moda.builder import build_moda, build_tiny_moda
    from modeling_moda.modeling_moda import ModaForConditionalGeneration
    from modeling_moda.processing_moda import ModaProcessor

    if config.init_from:
        model = ModaForConditionalGeneration.from_pretrained(config.init_from, revision=config.revision)
        processor = ModaProcessor.from_pretrained(config.init_from, revision=config.revision)
        model.config.freeze_vision = config.freeze_vision
    elif config.is_tiny:
        model, processor = build_tiny_moda(
            texts=list(texts), seed=config.seed, **config.tiny, **model_overrides(config)
        )
    else:
        pinned = {"revision": config.revision} if config.revision else {}
        model, processor = build_moda(
            vision=config.vision,
            text=config.text,
            vision_kwargs=pinned,
            text_kwargs=pinned,
            **model_overrides(config),
        )
    return model, processor


def apply_freezing_and_lora(model: Any, config: RecipeConfig) -> Any:
    """Freeze the encoder and/or LM as the recipe says; wrap the LM's attention in LoRA adapters (peft)."""
    vision_modules = [m for m in (model.vision_tower, model.visual_projection) if m is not None]
    for module in vision_modules:
        module.requires_grad_(not config.freeze_vision)
    model.language_model.requires_grad_(not config.freeze_text)
    if not config.lora:
        return model
    from peft import get_peft_model

    from modeling_moda.builder import lora_config_for_lm

    lora = lora_config_for_lm(
        r=config.lora_r,
        alpha=config.lora_alpha,
        dropout=config.lora_dropout,
        modules=config.lora_target_modules,
    )
    if (
        not config.freeze_vision
    ):  # a trained encoder is saved in full next to the adapters, like the projector
        lora.modules_to_save = [*lora.modules_to_save, *(name for name in _VISION if getattr(model, name))]
    return get_peft_model(model, lora)


def merge_for_saving(model: Any) -> Any:
    """A plain MODA to save: LoRA adapters merged into the weights (so the folder loads without peft)."""
    from peft import PeftModel

    if isinstance(model, PeftModel):
        return model.merge_and_unload()
    return model
