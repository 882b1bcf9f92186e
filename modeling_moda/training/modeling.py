"""The model a recipe trains: assembled (Hub/local or tiny backbones), frozen where asked, LoRA if asked."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from peft import PeftModel, get_peft_model

from modeling_moda.builder import build_moda, build_tiny_moda, lora_config_for_lm
from modeling_moda.modeling_moda import ModaForConditionalGeneration
from modeling_moda.processing_moda import ModaProcessor

from .config import ModelArguments

_VISION = ("vision_tower", "visual_projection")


def build_model(
    model_args: ModelArguments, options: Any, texts: Sequence[str], seed: int = 0
) -> tuple[ModaForConditionalGeneration, ModaProcessor]:
    """(model, processor): from `init_from`, a tiny LM (tokenizer trained on `texts`) on the tiny CLIP
    tower or on an encoder folder (`moda encoder train`), or two pretrained backbones.

    `options` (ModaOptions) are ModaConfig keys; `init_from` keeps the saved model's except `freeze_vision`.
    """
    overrides = dataclasses.asdict(options)
    if model_args.init_from:
        pinned = {"revision": model_args.revision}
        model = ModaForConditionalGeneration.from_pretrained(model_args.init_from, **pinned)
        processor = ModaProcessor.from_pretrained(model_args.init_from, **pinned)
        model.config.freeze_vision = options.freeze_vision
    elif model_args.text == "tiny":
        encoder = None if model_args.vision == "tiny" else model_args.vision
        sizes = model_args.tiny or {}
        model, processor = build_tiny_moda(texts=list(texts), seed=seed, vision=encoder, **sizes, **overrides)
    else:
        pinned = {"revision": model_args.revision} if model_args.revision else {}
        model, processor = build_moda(
            model_args.vision, model_args.text, vision_kwargs=pinned, text_kwargs=pinned, **overrides
        )
    if model_args.max_new_tokens is not None:
        model.generation_config.max_new_tokens = model_args.max_new_tokens  # saved with the model
    return model, processor


def apply_freezing_and_lora(model: ModaForConditionalGeneration, model_args: ModelArguments) -> Any:
    """Freeze the encoder (config.freeze_vision) and/or the LM; wrap the LM's attention in LoRA (peft)."""
    train_vision = not model.config.freeze_vision
    for module in (model.vision_tower, model.visual_projection):
        if module is not None:
            module.requires_grad_(train_vision)
    for module in (model.language_model, model.lm_head):
        module.requires_grad_(not model_args.freeze_text)
    if not model_args.lora:
        return model
    lora = lora_config_for_lm(
        r=model_args.lora_r,
        alpha=model_args.lora_alpha,
        dropout=model_args.lora_dropout,
        modules=model_args.lora_target_modules,
    )
    if train_vision:  # a trained encoder is saved in full next to the adapters, like the projector
        lora.modules_to_save = [*lora.modules_to_save, *(name for name in _VISION if getattr(model, name))]
    return get_peft_model(model, lora)


def merge_for_saving(model: Any) -> ModaForConditionalGeneration:
    """A plain MODA to save: LoRA adapters merged into the weights (so the folder loads without peft)."""
    return model.merge_and_unload() if isinstance(model, PeftModel) else model
