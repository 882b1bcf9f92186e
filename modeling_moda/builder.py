"""Assemble MODA models: from two pretrained backbones, tiny from configs (offline), or reference shapes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import (
    AutoConfig,
    AutoImageProcessor,
    AutoModel,
    AutoModelForCausalLM,
    AutoTokenizer,
    CLIPImageProcessorPil,
    GenerationConfig,
    PreTrainedTokenizerFast,
)

from .configuration_moda import IMAGE_TOKEN, ModaConfig
from .modeling_moda import ModaForConditionalGeneration
from .modeling_moda_encoder import register_auto_classes
from .processing_moda import CHATML_CHAT_TEMPLATE, PLAIN_CHAT_TEMPLATE, ModaProcessor

DEFAULT_MAX_NEW_TOKENS = 48
register_auto_classes()  # `moda encoder train` folders load as vision backbones without trust_remote_code

# A small built-in corpus so `build_tiny_moda()` needs no data at all.
TINY_CORPUS = [
    "A navy blue cotton t-shirt for men with a round neck and short sleeves, for casual wear.",
    "Black leather formal shoes for men with laces, suitable for office wear.",
    "A red floral printed dress for women, sleeveless, knee length, ideal for parties.",
    "White sports shoes for women with mesh upper and cushioned sole.",
    "A grey analog watch for men with a metal strap and a round dial.",
    "Pink handbag for women in synthetic leather with a zip closure and two handles.",
    "Green checked casual shirt for men, full sleeves, with a button-down collar.",
    "Blue denim jeans for women, slim fit, mid rise, with five pockets.",
    "A brown leather belt for men with a silver buckle.",
    "Yellow kurta for women with ethnic embroidery, three-quarter sleeves.",
    "Purple sunglasses for women with a plastic frame and tinted lenses.",
    "Olive track pants for men in polyester, with an elastic waist, for sports.",
    "Beige flip flops for unisex casual use with a textured footbed.",
    "Maroon sweatshirt for boys with a hood and a kangaroo pocket.",
    "Silver earrings for women, drop style, with stone detailing.",
    "Orange backpack with padded straps and a laptop compartment, unisex.",
]


def train_tokenizer(
    texts: Iterable[str] | None = None, vocab_size: int = 512, extra_special_tokens: Iterable[str] = ()
) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer on `texts` (default: a built-in fashion corpus), OPT-style.

    Special tokens: <pad> (0), </s> (1, BOS = EOS, prepended like OPT), <unk> (2), <image> (3).
    """
    texts = list(texts) if texts is not None else TINY_CORPUS
    specials = ["<pad>", "</s>", "<unk>", IMAGE_TOKEN, *extra_special_tokens]
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    bos_id = tok.token_to_id("</s>")
    tok.post_processor = processors.TemplateProcessing(
        single="</s> $A", pair="</s> $A </s> $B", special_tokens=[("</s>", bos_id)]
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="</s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="left",
    )
    fast.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    return fast


def build_reference_config(**overrides: Any) -> ModaConfig:
    """The seed's shapes from configs: FashionCLIP ViT-B/32 (512-d) -> MLP 512->3072->768 -> OPT-125M."""
    return ModaConfig(**overrides)


def _led_by_bos(chat_template: str, tokenizer) -> str:
    """The template led by `{{ bos_token }}` when the tokenizer starts every text with its BOS (OPT does).

    vLLM's chat API tokenizes the rendered template without special tokens, so only then does its prompt
    start like the processor's; transformers' apply_chat_template skips its own BOS for such a prompt.
    """
    start = tokenizer("", add_special_tokens=True)["input_ids"]
    if tokenizer.bos_token_id is not None and start[:1] == [tokenizer.bos_token_id]:
        return "{{ bos_token }}" + chat_template
    return chat_template


def _finish(
    model: ModaForConditionalGeneration, tokenizer, image_processor, chat_template: str
) -> tuple[ModaForConditionalGeneration, ModaProcessor]:
    model.generation_config = GenerationConfig(
        max_new_tokens=DEFAULT_MAX_NEW_TOKENS,
        do_sample=False,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    processor = ModaProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        num_image_tokens=model.config.num_image_tokens,
        chat_template=_led_by_bos(chat_template, tokenizer),
    )
    return model, processor


def build_tiny_moda(
    texts: list[str] | None = None,
    vocab_size: int = 512,
    seed: int = 0,
    image_size: int = 32,
    vision_hidden: int = 32,
    text_hidden: int = 64,
    num_layers: int = 2,
    vision: str | None = None,
    **config_overrides: Any,
) -> tuple[ModaForConditionalGeneration, ModaProcessor]:
    """A small MODA from configs (tiny CLIP vision tower + tiny OPT), tokenizer trained on `texts`.

    `vision` (a local folder or Hub id, e.g. a `moda encoder train` output) replaces the tiny CLIP tower with
    that trained encoder and its image processor: a tiny LM reading a real encoder, offline.
    """
    torch.manual_seed(seed)
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    vision_config = {
        "model_type": "clip_vision_model",
        "hidden_size": vision_hidden,
        "intermediate_size": 2 * vision_hidden,
        "num_hidden_layers": num_layers,
        "num_attention_heads": 2,
        "image_size": image_size,
        "patch_size": image_size // 4,
        "projection_dim": vision_hidden // 2,
    }
    if vision:
        vision_config = _vision_half(vision)
    text_config = {
        "model_type": "opt",
        "vocab_size": len(tokenizer),
        "hidden_size": text_hidden,
        "word_embed_proj_dim": text_hidden,
        "ffn_dim": 2 * text_hidden,
        "num_hidden_layers": num_layers,
        "num_attention_heads": 4,
        "max_position_embeddings": 256,
        "pad_token_id": tokenizer.pad_token_id,
        "bos_token_id": tokenizer.bos_token_id,
        "eos_token_id": tokenizer.eos_token_id,
    }
    config = ModaConfig(
        vision_config=vision_config,
        text_config=text_config,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        **config_overrides,
    )
    model = ModaForConditionalGeneration(config)
    if vision:
        _load_vision_weights(model, vision)
        return _finish(model, tokenizer, AutoImageProcessor.from_pretrained(vision), PLAIN_CHAT_TEMPLATE)
    image_processor = CLIPImageProcessorPil(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    return _finish(model, tokenizer, image_processor, PLAIN_CHAT_TEMPLATE)


def _vision_half(vision: str, **kwargs: Any):
    """Config of the image tower of a vision checkpoint (the vision half of CLIP/SigLIP/a dual encoder, or a
    ViT / conv backbone). A dual encoder's `projection_dim` goes onto the tower config, so MODA gets its
    visual projection: the contrastive image embedding (CLIP B/32: 512; `moda encoder train`: ResNet)."""
    config = AutoConfig.from_pretrained(vision, **kwargs)
    vision_config = getattr(config, "vision_config", None) or config
    if getattr(config, "projection_dim", None) and vision_config is not config:
        vision_config.projection_dim = config.projection_dim
    return vision_config


def _load_vision_weights(model: ModaForConditionalGeneration, vision: str, **kwargs: Any) -> None:
    """Copy the vision tower (and the visual projection MODA uses) from the checkpoint into `model`."""
    full = AutoModel.from_pretrained(vision, dtype=torch.float32, **kwargs).state_dict()
    wanted = list(model.vision_tower.state_dict())
    # a vision-only checkpoint has the tower's own keys; dual encoders nest it in `vision_model.`
    prefix = next((p for p in ("", "vision_model.") if all(p + k in full for k in wanted)), None)
    if prefix is None:
        raise ValueError(f"{vision}: checkpoint lacks the vision-tower weights, e.g. {wanted[:2]}")
    model.vision_tower.load_state_dict({k: full[prefix + k] for k in wanted})
    if model.visual_projection is not None:
        if "visual_projection.weight" not in full:
            raise ValueError(f"{vision}: checkpoint has no visual_projection.weight for the pooled embedding")
        model.visual_projection.weight.data.copy_(full["visual_projection.weight"])


def build_moda(
    vision: str,
    text: str,
    vision_kwargs: dict | None = None,
    text_kwargs: dict | None = None,
    chat_template: str | None = None,
    **config_overrides: Any,
) -> tuple[ModaForConditionalGeneration, ModaProcessor]:
    """MODA from a pretrained vision checkpoint and a pretrained causal LM (Hub ids or local folders).

    `text_kwargs` go to the LM/tokenizer loaders (e.g. `{"gguf_file": "SmolLM2-135M-Instruct.Q4_1.gguf"}`).
    Adds the `<image>` token (resizing the embeddings only when the tokenizer outgrows them).
    """
    vision_kwargs, text_kwargs = vision_kwargs or {}, text_kwargs or {}
    tokenizer = AutoTokenizer.from_pretrained(text, **text_kwargs)
    tokenizer.add_special_tokens({"additional_special_tokens": [IMAGE_TOKEN]})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"

    lm = AutoModelForCausalLM.from_pretrained(text, dtype=torch.float32, **text_kwargs)
    config = ModaConfig(
        vision_config=_vision_half(vision, **vision_kwargs),
        text_config=lm.config,
        image_token_id=tokenizer.convert_tokens_to_ids(IMAGE_TOKEN),
        **config_overrides,
    )
    model = ModaForConditionalGeneration(config)
    model.language_model.load_state_dict(lm.base_model.state_dict())
    model.lm_head.load_state_dict(lm.get_output_embeddings().state_dict())
    del lm

    _load_vision_weights(model, vision, **vision_kwargs)

    if len(tokenizer) > model.get_input_embeddings().num_embeddings:
        model.resize_token_embeddings(len(tokenizer))
    model.tie_weights()
    if chat_template is None:
        chatml = "<|im_start|>" in tokenizer.get_vocab()
        chat_template = CHATML_CHAT_TEMPLATE if chatml else PLAIN_CHAT_TEMPLATE
    image_processor = AutoImageProcessor.from_pretrained(vision, **vision_kwargs)
    return _finish(model, tokenizer, image_processor, chat_template)


def parameter_counts(model: ModaForConditionalGeneration) -> dict[str, int]:
    """Parameters per part (shared/tied tensors counted once), and trainable/frozen totals."""

    def count(*modules: torch.nn.Module | None, trainable: bool | None = None) -> int:
        params = {id(p): p for m in modules if m is not None for p in m.parameters()}  # tied weights once
        return sum(p.numel() for p in params.values() if trainable is None or p.requires_grad == trainable)

    return {
        "vision_tower": count(model.vision_tower),
        "visual_projection": count(model.visual_projection),
        "projector": count(model.projector),
        "language_model": count(model.language_model, model.lm_head),  # with its head
        "language_model_input_embeddings": count(model.get_input_embeddings()),
        "total": count(model),
        "trainable": count(model, trainable=True),
        "frozen": count(model, trainable=False),
    }


def lora_config_for_lm(
    r: int = 8,
    alpha: int = 16,
    dropout: float = 0.05,
    modules: Iterable[str] = ("q_proj", "v_proj"),
    train_projector: bool = True,
):
    """A peft LoraConfig that adapts only the language model (the encoder has layers with the same names).

    The projector stays fully trainable (and saved with the adapter) when `train_projector`.
    """
    from peft import LoraConfig

    names = "|".join(modules)
    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=dropout,
        target_modules=rf"^model\.language_model\..*\.({names})$",
        modules_to_save=["projector"] if train_projector else None,
        task_type="CAUSAL_LM",
    )


__all__ = [
    "TINY_CORPUS",
    "build_moda",
    "build_reference_config",
    "build_tiny_moda",
    "lora_config_for_lm",
    "parameter_counts",
    "train_tokenizer",
]
