"""The contrastive encoder: from scratch (conv image tower + small text tower) or a Hub/local CLIP.

Why ConvNeXt from scratch, measured on the quickstart catalog (5,000 items, 64 px, shared 2-core CPU):
- a tiny CLIP ViT trained contrastively learns colour (zero-shot 89%) but not shape (article type 9%)
  (TRANSFORMERS5-NOTES.md); ConvNeXt, 8 epochs, batch 64: zero-shot article type 62%, colour 26%; linear
  probe article type 83%, colour 52% (`encoder_metrics.json` of that run). It learns shape, not colour.
- ConvNeXt is the conv tower `VisionTextDualEncoderModel` takes as is: its pooler output is [B, C]. The
  dual encoder reads `vision_config.hidden_size`, which ConvNeXt's config lacks, so it is set to the last
  stage width (it survives save/load). Layer scale starts at 1 (ConvNeXt's 1e-6 learned slower still).
- Supervised heads, 3 epochs on 2,000 items (test colour / article type): ResNet 82% / 87%, ConvNeXt 82% /
  49%, MobileNetV1 / V2, EfficientNet and LeViT below 30% article type. ResNet learns both fastest, but its
  pooler output is [B, C, 1, 1], which the dual encoder cannot project: the open item for reaching 97%.
- Stem patch 4 (16x16 after the stem, a 2x2 final map) beat patch 8 (zero-shot article 51% vs 42%, 6 epochs).
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
    ConvNextConfig,
    PreTrainedTokenizerFast,
    VisionTextDualEncoderConfig,
    VisionTextDualEncoderModel,
)

# Shapes chosen by measurement on the quickstart catalog (see recipe notes in train.py).
SCRATCH_DEFAULTS: dict[str, Any] = {
    "image_size": 64,
    "patch_size": 4,  # ConvNeXt stem: 64 px -> 16x16, then 8x8, 4x4 and a 2x2 feature map
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
) -> tuple[VisionTextDualEncoderModel, Any, PreTrainedTokenizerFast]:
    """A ConvNeXt + CLIP-text dual encoder from configs, its image processor and a tokenizer over `texts`."""
    shape = dict(SCRATCH_DEFAULTS, **overrides)
    tokenizer = train_word_tokenizer(texts)
    tokenizer.model_max_length = shape["max_text_length"]
    vision_config = ConvNextConfig(
        patch_size=shape["patch_size"],
        num_stages=len(shape["hidden_sizes"]),
        hidden_sizes=list(shape["hidden_sizes"]),
        depths=list(shape["depths"]),
        image_size=shape["image_size"],
        layer_scale_init_value=1.0,
    )
    vision_config.hidden_size = vision_config.hidden_sizes[-1]  # what VisionTextDualEncoder reads
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
    config = VisionTextDualEncoderConfig.from_vision_text_configs(
        vision_config, text_config, projection_dim=shape["projection_dim"]
    )
    torch.manual_seed(seed)
    model = VisionTextDualEncoderModel(config)
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
