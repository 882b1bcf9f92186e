"""MODA: frozen vision encoder -> projector -> causal LM; the image enters as `<image>` placeholder tokens.

Remote code: imports only torch, transformers and `configuration_moda` (llava style, kept short).
"""

from __future__ import annotations

import os

import torch
from torch import nn
from transformers import AutoModel, AutoModelForCausalLM, GenerationMixin, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.modeling_outputs import BaseModelOutputWithPooling

from .configuration_moda import ModaConfig

# Imported so that the processor and the pipeline travel with the model: transformers copies a model file's
# relative imports on save_pretrained and fetches them with it on a trust_remote_code load.
from .pipeline_moda import ModaImageToTextPipeline  # noqa: F401
from .processing_moda import ModaProcessor  # noqa: F401

# Written into config.json on save, so every Auto class and the custom pipeline load with trust_remote_code.
AUTO_MAP = {
    "AutoConfig": "configuration_moda.ModaConfig",
    "AutoModel": "modeling_moda.ModaModel",
    "AutoModelForCausalLM": "modeling_moda.ModaForConditionalGeneration",
    "AutoModelForImageTextToText": "modeling_moda.ModaForConditionalGeneration",
    "AutoProcessor": "processing_moda.ModaProcessor",
}
CUSTOM_PIPELINES = {
    "image-to-text": {
        "impl": "pipeline_moda.ModaImageToTextPipeline",
        "pt": ["AutoModelForImageTextToText"],
        "type": "multimodal",
    }
}


class ModaProjector(nn.Module):
    """Maps encoder features [B, N_v, D_v] to LM embeddings [B, N_v * widen, D_text].

    "mlp" is the seed's Linear(D_v, ratio * D_text) -> act -> Linear(., widen * D_text); "linear" one Linear.
    `widen` > 1 turns one pooled embedding into several image tokens.
    """

    def __init__(self, in_dim: int, text_dim: int, config: ModaConfig, widen: int = 1):
        super().__init__()
        self.text_dim = text_dim
        out_dim = widen * text_dim
        if config.projector_type == "mlp":
            hidden = int(round(config.projector_hidden_ratio * text_dim))
            self.net = nn.Sequential(
                nn.Linear(in_dim, hidden), ACT2FN[config.projector_act], nn.Linear(hidden, out_dim)
            )
        else:
            self.net = nn.Linear(in_dim, out_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        batch = features.shape[0]
        return self.net(features).reshape(batch, -1, self.text_dim)  # [B, N_v * widen, D_text]


class ModaPreTrainedModel(PreTrainedModel):
    config: ModaConfig
    config_class = ModaConfig
    base_model_prefix = "moda"
    main_input_name = "input_ids"
    input_modalities = ("image", "text")
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True


class ModaModel(ModaPreTrainedModel):
    """`vision_tower` (+ CLIP's `visual_projection`) -> `projector` -> `language_model` (a full causal LM).

    As a model (AutoModel) it returns the LM's last hidden states, without the head: the transformers
    convention for a VLM's base model, and what vLLM's Transformers backend wraps (it adds its own LM head).
    `ModaForConditionalGeneration` has the same weights and gives logits, loss and `generate`.
    """

    def __init__(self, config: ModaConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        vc = config.vision_config
        self.visual_projection = (
            nn.Linear(vc.hidden_size, vc.projection_dim, bias=False) if config.uses_clip_projection else None
        )
        self.language_model = AutoModelForCausalLM.from_config(config.text_config)
        text_dim = self.language_model.get_input_embeddings().embedding_dim
        widen = config.num_image_tokens if config.vision_feature == "pooled" else 1
        self.projector = ModaProjector(config.vision_embed_dim, text_dim, config, widen=widen)
        self.post_init()
        if config.freeze_vision:
            self.freeze_vision()

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        loaded = super().from_pretrained(*args, **kwargs)  # loading replaces parameters: freeze again
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        if model.config.freeze_vision:
            model.freeze_vision()
        return loaded

    def freeze_vision(self) -> None:
        for module in (self.vision_tower, self.visual_projection):
            if module is not None:
                module.requires_grad_(False)
        self.vision_tower.eval()

    def train(self, mode: bool = True) -> ModaModel:
        """A frozen encoder stays in eval mode: a conv tower's BatchNorm statistics must not move."""
        super().train(mode)
        if self.config.freeze_vision:
            self.vision_tower.eval()
        return self

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.language_model.get_output_embeddings()

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_output_embeddings(value)

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] -> vision_embeds [B, N_v, D_v]: the frozen encoder output (pooled: N_v = 1).

        ViT-like towers give patch tokens; conv towers (ResNet, from `moda encoder train`) give a feature
        map [B, C, H, W] whose H*W cells are the patch tokens, and a pooled [B, C] embedding."""
        dtype = next(self.vision_tower.parameters()).dtype
        out = self.vision_tower(pixel_values=pixel_values.to(dtype), return_dict=True)
        if self.config.vision_feature == "patch":
            hidden = out.last_hidden_state  # [B, 1? + P, D], or a conv tower's feature map [B, C, H, W]
            if hidden.ndim == 4:
                return hidden.flatten(2).transpose(1, 2)  # [B, H*W, C]
            vc = self.config.vision_config
            num_patches = (vc.image_size // vc.patch_size) ** 2
            return hidden[:, -num_patches:] if hidden.shape[1] > num_patches else hidden  # drop CLS
        pooled = getattr(out, "pooler_output", None)
        if pooled is None:
            pooled = out.last_hidden_state[:, 0]  # CLS
        pooled = pooled.flatten(1)  # a conv tower (ResNet) pools to [B, C, 1, 1]
        if self.visual_projection is not None:
            pooled = self.visual_projection(pooled)
        return pooled[:, None, :]  # [B, 1, D_v]

    def get_image_features(
        self,
        pixel_values: torch.Tensor | None = None,
        vision_embeds: torch.Tensor | None = None,
        return_dict: bool = False,
        **kwargs,
    ) -> torch.Tensor | BaseModelOutputWithPooling:
        """Pixels or precomputed encoder output -> projected image tokens [B, num_image_tokens, D_text].

        With `return_dict=True` (transformers 5 / vLLM) the tokens are the output's `pooler_output`.
        """
        if return_dict:
            tokens = self.get_image_features(pixel_values, vision_embeds)
            return BaseModelOutputWithPooling(last_hidden_state=tokens, pooler_output=tokens)
        if (pixel_values is None) == (vision_embeds is None):
            raise ValueError("pass exactly one of pixel_values or vision_embeds")
        if vision_embeds is None:
            vision_embeds = self.encode_images(pixel_values)
        if vision_embeds.ndim == 2:
            vision_embeds = vision_embeds[:, None, :]  # [B, 1, D_v]
        if vision_embeds.shape[-1] != self.config.vision_embed_dim:
            raise ValueError(
                f"vision_embeds have width {vision_embeds.shape[-1]}, the projector expects "
                f"{self.config.vision_embed_dim}"
            )
        n_tokens = self.config.num_image_tokens
        if self.config.vision_feature == "patch" and vision_embeds.shape[1] != n_tokens:
            pooled = nn.functional.adaptive_avg_pool1d(vision_embeds.transpose(1, 2), n_tokens)
            vision_embeds = pooled.transpose(1, 2)  # [B, N, D_v]
        dtype = next(self.projector.parameters()).dtype
        return self.projector(vision_embeds.to(dtype))  # [B, N, D_text]

    def merge_image_features(
        self, input_ids: torch.LongTensor, inputs_embeds: torch.Tensor, image_features: torch.Tensor
    ) -> torch.Tensor:
        """Write image features [B, N, D] into the `<image>` positions of inputs_embeds [B, T, D]."""
        mask = input_ids == self.config.image_token_id  # [B, T]
        per_row = mask.sum(dim=1)
        expected = image_features.shape[1]
        if mask.shape[0] != image_features.shape[0] or bool((per_row != expected).any()):
            raise ValueError(
                f"each sample needs {expected} <image> token(s) (id {self.config.image_token_id}) for "
                f"{image_features.shape[0]} image(s); got {per_row.tolist()} in {mask.shape[0]} sample(s)"
            )
        flat = image_features.to(inputs_embeds.dtype).reshape(-1, inputs_embeds.shape[-1])  # [B*N, D]
        return inputs_embeds.masked_scatter(mask[..., None].expand_as(inputs_embeds), flat)

    def embed_inputs(
        self,
        input_ids: torch.LongTensor | None,
        attention_mask: torch.Tensor | None,
        pixel_values: torch.Tensor | None,
        vision_embeds: torch.Tensor | None,
        position_ids: torch.LongTensor | None,
        inputs_embeds: torch.Tensor | None,
    ) -> tuple[torch.Tensor, torch.LongTensor | None]:
        """Token embeddings with the image features in the `<image>` positions [B, T, D], and positions."""
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)  # [B, T, D]
            if pixel_values is not None or vision_embeds is not None:
                image_features = self.get_image_features(pixel_values, vision_embeds)  # [B, N, D]
                inputs_embeds = self.merge_image_features(input_ids, inputs_embeds, image_features)
            elif bool((input_ids == self.config.image_token_id).any()):
                raise ValueError("input_ids hold <image> tokens but no pixel_values or vision_embeds")
        if position_ids is None and attention_mask is not None and attention_mask.ndim == 2:
            # positions over the full (image + text) sequence, so left padding shifts nothing
            position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
            position_ids = position_ids[:, -inputs_embeds.shape[1] :]  # [B, T]
        return inputs_embeds, position_ids

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        vision_embeds: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs,
    ):
        """The LM decoder's output for the merged sequence: `last_hidden_state` [B, T, D], no head."""
        inputs_embeds, position_ids = self.embed_inputs(
            input_ids, attention_mask, pixel_values, vision_embeds, position_ids, inputs_embeds
        )
        return self.language_model.base_model(
            inputs_embeds=inputs_embeds, attention_mask=attention_mask, position_ids=position_ids, **kwargs
        )

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs) -> None:
        """Weights + config with every auto_map entry and the custom pipeline (+ the four code files)."""
        self.config.auto_map = dict(AUTO_MAP)
        self.config.custom_pipelines = CUSTOM_PIPELINES
        super().save_pretrained(save_directory, *args, **kwargs)


class ModaForConditionalGeneration(ModaModel, GenerationMixin):
    """`ModaModel` read through the LM's head: logits, loss and `generate` (same weights, same names)."""

    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        vision_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache=None,
        inputs_embeds: torch.Tensor | None = None,
        use_cache: bool | None = None,
        **kwargs,
    ):
        """Logits [B, T, V] aligned with input_ids; loss = next-token CE on labels != -100 (text only)."""
        inputs_embeds, position_ids = self.embed_inputs(
            input_ids, attention_mask, pixel_values, vision_embeds, position_ids, inputs_embeds
        )
        return self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            use_cache=use_cache,
            labels=labels,
            **kwargs,
        )

    def prepare_inputs_for_generation(self, *args, is_first_iteration: bool | None = False, **kwargs):
        # the image lives in the cache after the first step; `pixel_values` is dropped by transformers itself
        vision_embeds = kwargs.pop("vision_embeds", None)
        inputs = super().prepare_inputs_for_generation(*args, is_first_iteration=is_first_iteration, **kwargs)
        if is_first_iteration or not kwargs.get("use_cache", True):
            inputs["vision_embeds"] = vision_embeds
        return inputs


ModaModel.register_for_auto_class("AutoModel")
ModaForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")

__all__ = ["ModaForConditionalGeneration", "ModaModel", "ModaPreTrainedModel", "ModaProjector"]
