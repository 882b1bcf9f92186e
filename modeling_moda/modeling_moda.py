"""MODA: frozen vision encoder -> projector -> causal LM; the image enters as `<image>` placeholder tokens.

Remote code: imports only torch, transformers and `configuration_moda` (llava style, kept short).
"""

import os
from dataclasses import dataclass
from typing import Unpack

import torch
from torch import nn
from transformers import AutoModel, GenerationMixin, PreTrainedModel
from transformers.activations import ACT2FN
from transformers.modeling_outputs import (
    BaseModelOutputWithPast,
    BaseModelOutputWithPooling,
    CausalLMOutputWithPast,
)
from transformers.utils import TransformersKwargs, logging
from transformers.utils.deprecation import deprecate_kwarg
from transformers.utils.generic import can_return_tuple

from .configuration_moda import ModaConfig

# Imported so that the processor and the pipeline travel with the model: transformers copies a model file's
# relative imports on save_pretrained and fetches them with it on a trust_remote_code load.
from .pipeline_moda import ModaImageToTextPipeline  # noqa: F401
from .processing_moda import ModaProcessor  # noqa: F401

logger = logging.get_logger(__name__)

# Written into config.json on save, so every Auto class and the custom pipeline load with trust_remote_code.
AUTO_MAP = {
    "AutoConfig": "configuration_moda.ModaConfig",
    "AutoModel": "modeling_moda.ModaModel",
    "AutoModelForCausalLM": "modeling_moda.ModaForConditionalGeneration",
    "AutoModelForImageTextToText": "modeling_moda.ModaForConditionalGeneration",
    "AutoProcessor": "processing_moda.ModaProcessor",
}
# MODA 0.1 checkpoints had one flat model holding a full causal LM (`language_model.model.*`,
# `language_model.lm_head.*`); `from_pretrained` renames those keys to this llava layout (its `key_mapping`).
# No key of today's layout matches them, so a current checkpoint loads as saved.
LEGACY_KEY_RENAMES = {
    r"^language_model\.model\.": "language_model.",
    r"^language_model\.lm_head\.": "lm_head.",
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


@dataclass
class ModaModelOutputWithPast(BaseModelOutputWithPast):
    """The LM decoder's output for the merged sequence, plus `image_outputs`: the vision tower's output with
    `pooler_output` = the projected image tokens [B, N, D_text] (None for a text-only call)."""

    image_outputs: BaseModelOutputWithPooling | None = None


@dataclass
class ModaCausalLMOutputWithPast(CausalLMOutputWithPast):
    """The LM's logits, loss and cache for the merged sequence, plus `image_outputs` (as the base model)."""

    image_outputs: BaseModelOutputWithPooling | None = None


class ModaPreTrainedModel(PreTrainedModel):
    config: ModaConfig
    config_class = ModaConfig
    base_model_prefix = "model"
    main_input_name = "input_ids"
    input_modalities = ("image", "text")
    supports_gradient_checkpointing = True
    _supports_sdpa = True
    _supports_flash_attn = True
    _supports_attention_backend = True

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        kwargs["key_mapping"] = {**LEGACY_KEY_RENAMES, **(kwargs.get("key_mapping") or {})}
        loaded = super().from_pretrained(*args, **kwargs)  # loading replaces parameters: freeze again
        model = loaded[0] if isinstance(loaded, tuple) else loaded
        if model.config.freeze_vision:
            model.freeze_vision()
        return loaded

    @torch.no_grad()
    def initialize_weights(self) -> None:
        """transformers' dispatch (each sub-model's `_init_weights` on its own modules), with its
        remote-code guard decided per sub-model. transformers takes the top model's word for the whole tree:
        for remote code it skips every module without parameters of its own, in case that code's init
        overwrites loaded weights in place. That also skipped CLIPAttention and CLIPMLP, whose init sets
        their linears' std, so a built-in tower made from an empty state dict differed from one made from its
        config (transformers' test_can_init_all_missing_weights). MODA's own init is transformers' default,
        whose `transformers.initialization` functions leave loaded weights alone; a remote-code sub-model
        keeps the guard."""

        def dispatch(module: nn.Module, init_fn, guarded: bool) -> None:
            for child in module.children():
                if isinstance(child, PreTrainedModel):
                    dispatch(child, child._initialize_weights, child.is_custom_code())
                else:
                    dispatch(child, init_fn, guarded)
            init_fn(module, guarded)

        dispatch(self, self._initialize_weights, False)

    def freeze_vision(self) -> None:
        base = self.base_model
        for module in (base.vision_tower, base.visual_projection):
            if module is not None:
                module.requires_grad_(False)
        base.vision_tower.eval()

    def train(self, mode: bool = True):
        """A frozen encoder stays in eval mode: a conv tower's BatchNorm statistics must not move. Frozen
        means its weights are (`requires_grad` off); a tower someone unfroze trains like any module."""
        super().train(mode)
        tower = self.base_model.vision_tower
        if self.config.freeze_vision and not any(p.requires_grad for p in tower.parameters()):
            tower.eval()
        return self

    def save_pretrained(self, save_directory: str | os.PathLike, *args, **kwargs) -> None:
        """Weights + config with every auto_map entry and the custom pipeline (+ the four code files)."""
        self.config.auto_map = dict(AUTO_MAP)
        self.config.custom_pipelines = CUSTOM_PIPELINES
        super().save_pretrained(save_directory, *args, **kwargs)


class ModaModel(ModaPreTrainedModel):
    """`vision_tower` (+ CLIP's `visual_projection`) -> `projector` -> `language_model` (the LM's base model).

    As a model (AutoModel) it returns the LM's last hidden states, without the head: the transformers
    convention for a VLM's base model (llava's layout), and what vLLM's Transformers backend wraps (it adds
    its own LM head). `ModaForConditionalGeneration` holds one as `model` and adds `lm_head`: logits, loss,
    `generate`.
    """

    def __init__(self, config: ModaConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        vc = config.vision_config
        self.visual_projection = (
            nn.Linear(vc.hidden_size, vc.projection_dim, bias=False) if config.uses_clip_projection else None
        )
        self.language_model = AutoModel.from_config(config.text_config)
        text_dim = self.language_model.get_input_embeddings().embedding_dim
        widen = config.num_image_tokens if config.vision_feature == "pooled" else 1
        self.projector = ModaProjector(config.vision_embed_dim, text_dim, config, widen=widen)
        self.post_init()
        if config.freeze_vision:
            self.freeze_vision()

    def get_input_embeddings(self) -> nn.Module:
        return self.language_model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.language_model.set_input_embeddings(value)

    def generate(self, *args, **kwargs):
        raise TypeError(
            "ModaModel is MODA's base model (AutoModel): it returns hidden states and has no LM head, so it "
            "cannot generate. To describe an image load AutoModelForImageTextToText.from_pretrained(..., "
            "trust_remote_code=True), or use pipeline('image-to-text', model=..., trust_remote_code=True)."
        )

    def _vision_outputs(self, pixel_values: torch.Tensor, **kwargs) -> BaseModelOutputWithPooling:
        """The tower's output with `pooler_output` = its image embedding [B, N_v, D_v]: the encoder output
        that the projector reads and the feature cache stores (pooled: N_v = 1)."""
        dtype = next(self.vision_tower.parameters()).dtype
        out = self.vision_tower(pixel_values=pixel_values.to(dtype), return_dict=True, **kwargs)
        if self.config.vision_feature == "patch":
            hidden = out.last_hidden_state  # [B, 1? + P, D], or a conv tower's feature map [B, C, H, W]
            if hidden.ndim == 4:
                embeds = hidden.flatten(2).transpose(1, 2)  # [B, H*W, C]
            else:
                vc = self.config.vision_config
                num_patches = (vc.image_size // vc.patch_size) ** 2
                embeds = hidden[:, -num_patches:] if hidden.shape[1] > num_patches else hidden  # drop CLS
        else:
            pooled = getattr(out, "pooler_output", None)
            if pooled is None:
                pooled = out.last_hidden_state[:, 0]  # CLS
            pooled = pooled.flatten(1)  # a conv tower (ResNet) pools to [B, C, 1, 1]
            if self.visual_projection is not None:
                pooled = self.visual_projection(pooled)
            embeds = pooled[:, None, :]  # [B, 1, D_v]
        return BaseModelOutputWithPooling(
            last_hidden_state=out.last_hidden_state,
            pooler_output=embeds,
            hidden_states=getattr(out, "hidden_states", None),
            attentions=getattr(out, "attentions", None),
        )

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """[B, 3, H, W] -> vision_embeds [B, N_v, D_v]: the frozen encoder output (pooled: N_v = 1).

        ViT-like towers give patch tokens; conv towers (ResNet, from `moda encoder train`) give a feature
        map [B, C, H, W] whose H*W cells are the patch tokens, and a pooled [B, C] embedding."""
        return self._vision_outputs(pixel_values).pooler_output

    def project(self, vision_embeds: torch.Tensor) -> torch.Tensor:
        """Encoder output [B, N_v, D_v] (or [B, D_v]) -> image tokens [B, num_image_tokens, D_text]."""
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

    @can_return_tuple
    def get_image_features(
        self,
        pixel_values: torch.Tensor | None = None,
        vision_embeds: torch.Tensor | None = None,
        **kwargs,
    ) -> tuple | BaseModelOutputWithPooling:
        """Pixels (or precomputed encoder output) -> the vision tower's output, whose `pooler_output` is the
        projected image tokens [B, num_image_tokens, D_text] (the llava contract). `output_hidden_states` /
        `output_attentions` reach the tower. From `vision_embeds` there is no tower output:
        `last_hidden_state` is the given encoder output."""
        if (pixel_values is None) == (vision_embeds is None):
            raise ValueError("pass exactly one of pixel_values or vision_embeds")
        if vision_embeds is None:
            outputs = self._vision_outputs(pixel_values, **kwargs)
            vision_embeds = outputs.pooler_output
        else:
            outputs = BaseModelOutputWithPooling(last_hidden_state=vision_embeds)
        outputs.pooler_output = self.project(vision_embeds)
        return outputs

    def image_token_mask(
        self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor
    ) -> torch.Tensor:
        """[B, T] True at `<image>` positions, read from input_ids or, without them, from inputs_embeds rows
        equal to the `<image>` token's embedding (as llava does)."""
        if input_ids is not None:
            return input_ids == self.config.image_token_id
        image_token = torch.tensor(self.config.image_token_id, device=inputs_embeds.device)
        return (inputs_embeds == self.get_input_embeddings()(image_token)).all(-1)

    def merge_image_features(
        self, image_mask: torch.Tensor, inputs_embeds: torch.Tensor, image_features: torch.Tensor
    ) -> torch.Tensor:
        """Write image features [B, N, D] into the `<image>` positions (`image_mask` [B, T]) of the embeds."""
        per_row = image_mask.sum(dim=1)
        expected = image_features.shape[1]
        if image_mask.shape[0] != image_features.shape[0] or bool((per_row != expected).any()):
            raise ValueError(
                f"each sample needs {expected} <image> token(s) (id {self.config.image_token_id}) for "
                f"{image_features.shape[0]} image(s); got {per_row.tolist()} in {len(image_mask)} sample(s)"
            )
        flat = image_features.to(inputs_embeds.dtype).reshape(-1, inputs_embeds.shape[-1])  # [B*N, D]
        return inputs_embeds.masked_scatter(image_mask[..., None].expand_as(inputs_embeds), flat)

    def embed_inputs(
        self,
        input_ids: torch.LongTensor | None,
        attention_mask: torch.Tensor | None,
        pixel_values: torch.Tensor | None,
        vision_embeds: torch.Tensor | None,
        position_ids: torch.LongTensor | None,
        inputs_embeds: torch.Tensor | None,
        **kwargs,
    ) -> tuple[torch.Tensor, torch.LongTensor | None, BaseModelOutputWithPooling | None]:
        """Token embeddings with the image features in the `<image>` positions [B, T, D], positions, and the
        vision tower's output (None without an image)."""
        if (input_ids is None) == (inputs_embeds is None):
            raise ValueError("pass exactly one of input_ids or inputs_embeds")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)  # [B, T, D]
        image_outputs = None
        if pixel_values is not None or vision_embeds is not None:
            image_outputs = self.get_image_features(pixel_values, vision_embeds, return_dict=True, **kwargs)
            mask = self.image_token_mask(input_ids, inputs_embeds)
            inputs_embeds = self.merge_image_features(mask, inputs_embeds, image_outputs.pooler_output)
        elif input_ids is not None and bool((input_ids == self.config.image_token_id).any()):
            # as llava, <image> is then a plain token (numerical tests use random ids); generate() refuses
            logger.warning_once("input_ids hold <image> tokens but neither pixel_values nor vision_embeds")
        if position_ids is None and attention_mask is not None and attention_mask.ndim == 2:
            # positions over the full (image + text) sequence, so left padding shifts nothing
            position_ids = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
            position_ids = position_ids[:, -inputs_embeds.shape[1] :]  # [B, T]
        return inputs_embeds, position_ids, image_outputs

    @can_return_tuple
    @deprecate_kwarg("past_key_values", version="5.40.0", new_name="cache")
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        pixel_values: torch.Tensor | None = None,
        vision_embeds: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        cache=None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | ModaModelOutputWithPast:
        """The LM decoder's output for the merged sequence: `last_hidden_state` [B, T, D], no head."""
        inputs_embeds, position_ids, image_outputs = self.embed_inputs(
            input_ids, attention_mask, pixel_values, vision_embeds, position_ids, inputs_embeds
        )
        outputs = self.language_model(
            inputs_embeds=inputs_embeds,
            attention_mask=attention_mask,
            position_ids=position_ids,
            cache=cache,
            return_dict=True,
            **kwargs,
        )
        return ModaModelOutputWithPast(**outputs, image_outputs=image_outputs)


class ModaForConditionalGeneration(ModaPreTrainedModel, GenerationMixin):
    """A `ModaModel` (as `model`) and the LM's head (`lm_head`): logits, loss and `generate`."""

    def __init__(self, config: ModaConfig):
        super().__init__(config)
        self.model = ModaModel(config)
        embeddings = self.model.get_input_embeddings()
        self.lm_head = nn.Linear(embeddings.embedding_dim, config.text_config.vocab_size, bias=False)
        if config.tie_word_embeddings:  # the LM's own tying, wherever its embedding table sits
            name = next(n for n, p in self.model.named_parameters() if p is embeddings.weight)
            self._tied_weights_keys = {"lm_head.weight": f"model.{name}"}
        self.post_init()

    # the parts, reachable as on the base model (llava's properties)
    vision_tower = property(lambda self: self.model.vision_tower)
    visual_projection = property(lambda self: self.model.visual_projection)
    projector = property(lambda self: self.model.projector)
    language_model = property(lambda self: self.model.language_model)

    def get_input_embeddings(self) -> nn.Module:
        return self.model.get_input_embeddings()

    def set_input_embeddings(self, value: nn.Module) -> None:
        self.model.set_input_embeddings(value)

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    def set_output_embeddings(self, value: nn.Module) -> None:
        self.lm_head = value

    def encode_images(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model.encode_images(pixel_values)

    def get_image_features(self, pixel_values=None, vision_embeds=None, **kwargs):
        return self.model.get_image_features(pixel_values, vision_embeds, **kwargs)

    @can_return_tuple
    @deprecate_kwarg("past_key_values", version="5.40.0", new_name="cache")
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
        logits_to_keep: int | torch.Tensor = 0,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | ModaCausalLMOutputWithPast:
        """Logits [B, T, V] aligned with input_ids; loss = next-token CE on labels != -100 (text only)."""
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            pixel_values=pixel_values,
            vision_embeds=vision_embeds,
            position_ids=position_ids,
            cache=cache,
            inputs_embeds=inputs_embeds,
            return_dict=True,
            **kwargs,
        )
        hidden = outputs.last_hidden_state  # [B, T, D]
        keep = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden[:, keep, :])  # [B, T, V] (or the kept positions)
        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )
        return ModaCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            cache=outputs.cache,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_outputs=outputs.image_outputs,
        )

    def prepare_inputs_for_generation(self, *args, is_first_iteration: bool | None = False, **kwargs):
        # the image lives in the cache after the first step; `pixel_values` is dropped by transformers itself
        vision_embeds = kwargs.pop("vision_embeds", None)
        inputs = super().prepare_inputs_for_generation(*args, is_first_iteration=is_first_iteration, **kwargs)
        if is_first_iteration or not kwargs.get("use_cache", True):
            inputs["vision_embeds"] = vision_embeds
            has_image = inputs.get("pixel_values") is not None or vision_embeds is not None
            input_ids = inputs.get("input_ids")
            if (
                not has_image
                and input_ids is not None
                and bool((input_ids == self.config.image_token_id).any())
            ):
                # forward() reads <image> as a plain token then; generating a description from it is a mistake
                raise ValueError(
                    "input_ids hold <image> tokens but generate() got no pixel_values or vision_embeds: pass "
                    "the image (processor(images=..., ...)) or precomputed vision_embeds"
                )
        return inputs


ModaModel.register_for_auto_class("AutoModel")
ModaForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")

__all__ = [
    "ModaCausalLMOutputWithPast",
    "ModaForConditionalGeneration",
    "ModaModel",
    "ModaModelOutputWithPast",
    "ModaPreTrainedModel",
    "ModaProjector",
]
