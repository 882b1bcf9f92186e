"""The contrastive encoder: from scratch (ResNet image tower + small CLIP text tower) or a Hub/local CLIP.

From scratch it is `ModaEncoderModel` (modeling_moda_encoder.py, saved with the folder as remote code): the
dual encoder with a ResNet tower, which that file says why. Shapes, measured on the quickstart catalog (64 px,
2 CPU cores): basic blocks, widths 32-256, depths 1-1-2-1 (1.5 M parameters) learns article type and colour
in ~12 s an epoch; the text tower is 2 layers x 128 over a word-level vocabulary trained on the captions.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (
    AutoImageProcessor,
    AutoModel,
    AutoTokenizer,
    CLIPImageProcessorPil,
    CLIPTextConfig,
    PreTrainedTokenizerFast,
    ResNetConfig,
)

from ..modeling_moda_encoder import ModaEncoderConfig, ModaEncoderModel, register_auto_classes

register_auto_classes()

# Shapes chosen by measurement on the quickstart catalog (see recipe notes in train.py).
SCRATCH_DEFAULTS: dict[str, Any] = {
    "image_size": 64,  # the stem halves it twice: 16x16, then 8x8, 4x4 and a 2x2 feature map
    "hidden_sizes": (32, 64, 128, 256),
    "depths": (1, 1, 2, 1),
    "text_hidden": 128,
    "text_layers": 2,
    "projection_dim": 128,
    "max_text_length": 32,
}
SPECIAL_TOKENS = ("<pad>", "<unk>", "<s>", "</s>")  # ids 0..3; CLIP's text pooler finds </s> (id 3, not 2)


def train_word_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """A lower-case word-level tokenizer over `texts` (catalog vocabularies are small and closed)."""
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS)}
    splitter = pre_tokenizers.Whitespace()
    for text in texts:
        for word, _ in splitter.pre_tokenize_str(text.lower()):
            vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = splitter
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )


def build_scratch_encoder(
    texts: Iterable[str], seed: int = 0, **overrides: Any
) -> tuple[ModaEncoderModel, Any, PreTrainedTokenizerFast]:
    """A ResNet + CLIP-text dual encoder from configs, its image processor and a tokenizer over `texts`."""
    unknown = set(overrides) - set(SCRATCH_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown encoder shape keys {sorted(unknown)}; known: {sorted(SCRATCH_DEFAULTS)}")
    shape = dict(SCRATCH_DEFAULTS, **overrides)
    tokenizer = train_word_tokenizer(texts)
    tokenizer.model_max_length = shape["max_text_length"]
    vision_config = ResNetConfig(
        embedding_size=shape["hidden_sizes"][0],
        hidden_sizes=list(shape["hidden_sizes"]),
        depths=list(shape["depths"]),
        layer_type="basic",
    )
    text_config = CLIPTextConfig(
        vocab_size=len(tokenizer),
        hidden_size=shape["text_hidden"],
        intermediate_size=2 * shape["text_hidden"],
        num_hidden_layers=shape["text_layers"],
        num_attention_heads=4,
        max_position_embeddings=shape["max_text_length"],
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    config = ModaEncoderConfig.from_vision_text_configs(
        vision_config, text_config, projection_dim=shape["projection_dim"]
    )
    torch.manual_seed(seed)
    model = ModaEncoderModel(config)
    size = shape["image_size"]
    # the whole portrait photo squeezed to a square: a centre crop would cut the ends of tall items
    image_processor = CLIPImageProcessorPil(
        size={"height": size, "width": size}, do_center_crop=False, crop_size={"height": size, "width": size}
    )
    return model, image_processor, tokenizer


def load_encoder(source: str) -> tuple[Any, Any, Any]:
    """A saved encoder (ours, a local CLIP folder or a Hub CLIP id): model, image processor, tokenizer."""
    model = AutoModel.from_pretrained(source, dtype=torch.float32)
    if not hasattr(model, "get_image_features") or not hasattr(model, "get_text_features"):
        raise ValueError(f"{source}: {type(model).__name__} is not a dual image-text encoder (CLIP-like)")
    return model, AutoImageProcessor.from_pretrained(source), AutoTokenizer.from_pretrained(source)


def image_embeds(model: Any, pixel_values: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] -> L2-normalised image embeddings [B, P]."""
    out = model.get_image_features(pixel_values=pixel_values)
    pooled = out if isinstance(out, torch.Tensor) else out.pooler_output
    return torch.nn.functional.normalize(pooled, dim=-1)


def text_embeds(model: Any, tokenizer: Any, texts: list[str]) -> torch.Tensor:
    """Texts -> L2-normalised text embeddings [T, P]."""
    batch = tokenizer(texts, padding=True, truncation=True, return_tensors="pt")
    out = model.get_text_features(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"])
    pooled = out if isinstance(out, torch.Tensor) else out.pooler_output
    return torch.nn.functional.normalize(pooled, dim=-1)
