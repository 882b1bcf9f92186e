"""MODA configuration: a vision encoder, a projector and a causal language model.

Remote code: imports only transformers. The defaults are the seed's reference shapes: FashionCLIP (CLIP
ViT-B/32, 512-d projected image embedding) -> MLP 512 -> 3072 -> 768 (GELU) -> OPT-125M, one image token.
"""

from __future__ import annotations

from typing import Literal

from transformers import CONFIG_MAPPING, AutoConfig, PreTrainedConfig

IMAGE_TOKEN = "<image>"

# FashionCLIP = CLIP ViT-B/32 (patrickjohncyh/fashion-clip): only the vision half, with its visual projection.
CLIP_VIT_B32 = {
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "image_size": 224,
    "patch_size": 32,
    "projection_dim": 512,
    "hidden_act": "quick_gelu",
}
# facebook/opt-125m
OPT_125M = {
    "vocab_size": 50272,
    "hidden_size": 768,
    "ffn_dim": 3072,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "max_position_embeddings": 2048,
    "word_embed_proj_dim": 768,
    "do_layer_norm_before": True,
    "pad_token_id": 1,
    "bos_token_id": 2,
    "eos_token_id": 2,
}


def _sub_config(value: dict | PreTrainedConfig | None, model_type: str, defaults: dict) -> PreTrainedConfig:
    """A sub-config from a config, a dict (its `model_type` or the default one) or None (the defaults)."""
    if isinstance(value, PreTrainedConfig):
        return value
    if value is None:
        value = {"model_type": model_type, **defaults}
    value = dict(value)
    return CONFIG_MAPPING[value.pop("model_type", model_type)](**value)


class ModaConfig(PreTrainedConfig):
    """Configuration of a MODA model.

    Args:
        vision_config: any vision backbone config whose model yields an image embedding (CLIP/FashionCLIP
            vision, SigLIP vision, ViT, ...). A CLIP-style config with `projection_dim` gets CLIP's visual
            projection.
        text_config: any causal LM config (OPT, GPT-2, Llama/SmolLM2, Qwen, ...).
        projector_type: "mlp" (Linear -> act -> Linear, widening by `projector_hidden_ratio`; the seed) or
            "linear" (the baseline).
        projector_hidden_ratio: MLP hidden width as a multiple of the text hidden size (768 * 4 = 3072).
        projector_act: activation of the MLP (any `transformers.activations.ACT2FN` key).
        num_image_tokens: image positions in the text; 1 = the seed. With "pooled" features the
            projector widens the one embedding to N tokens; with "patch" features the patches are
            average-pooled to N.
        vision_feature: "pooled" (the projected/pooled image embedding; the seed) or "patch" (patch features).
        image_token_id: id of the `<image>` placeholder token in the tokenizer.
        freeze_vision: keep the encoder frozen (its features can then be cached once per image).
    """

    model_type = "moda"
    # a plain `sub_configs` built in __post_init__ (not 5.2x's SubConfigSpec): vLLM pins transformers < 5.20
    sub_configs = {"vision_config": AutoConfig, "text_config": AutoConfig}

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    projector_type: Literal["mlp", "linear"] = "mlp"
    projector_hidden_ratio: float = 4.0
    projector_act: str = "gelu"
    num_image_tokens: int = 1
    vision_feature: Literal["pooled", "patch"] = "pooled"
    image_token_id: int = 50265  # len(opt-125m tokenizer): the added <image> fits the padded 50272 rows
    freeze_vision: bool = True
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        self.vision_config = _sub_config(self.vision_config, "clip_vision_model", CLIP_VIT_B32)
        self.text_config = _sub_config(self.text_config, "opt", OPT_125M)
        super().__post_init__(**kwargs)
        if self.projector_type not in ("mlp", "linear"):
            raise ValueError(f"projector_type must be 'mlp' or 'linear', got {self.projector_type!r}")
        if self.vision_feature not in ("pooled", "patch"):
            raise ValueError(f"vision_feature must be 'pooled' or 'patch', got {self.vision_feature!r}")
        if self.num_image_tokens < 1:
            raise ValueError(f"num_image_tokens must be >= 1, got {self.num_image_tokens}")
        # the LM's tying decides (OPT and SmolLM2 tie lm_head to the input embeddings)
        self.tie_word_embeddings = bool(getattr(self.text_config, "tie_word_embeddings", False))

    @property
    def uses_clip_projection(self) -> bool:
        """CLIP-style towers expose the image embedding after their visual projection (512-d for ViT-B/32)."""
        return self.vision_feature == "pooled" and bool(getattr(self.vision_config, "projection_dim", None))

    @property
    def vision_embed_dim(self) -> int:
        """Width D_v of the encoder output that feeds the projector (what the feature cache stores)."""
        if self.uses_clip_projection:
            return self.vision_config.projection_dim
        return self.vision_config.hidden_size


ModaConfig.register_for_auto_class()

__all__ = ["IMAGE_TOKEN", "ModaConfig"]
