"""ModaForConditionalGeneration: loss masking, frozen encoder, cached features, left-padded generation."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from modeling_moda.builder import build_tiny_moda, train_tokenizer
from modeling_moda.configuration_moda import IMAGE_TOKEN, ModaConfig
from modeling_moda.modeling_moda import ModaForConditionalGeneration

from .conftest import make_images

DESCRIPTIONS = ["A red dress.", "Black leather shoes for men with laces."]


def test_loss_counts_only_description_tokens(tiny):
    model, processor = tiny
    tok = processor.tokenizer
    batch = processor(images=make_images(2), text=["", "white shirt"], suffix=DESCRIPTIONS)

    # the label row, built by hand: BOS, <image>, prompt and pad are ignored; description + EOS are targets
    for row, (prompt, description) in enumerate(zip(["", "white shirt"], DESCRIPTIONS, strict=True)):
        prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        prefix = [tok.bos_token_id, processor.image_token_id] + prompt_ids
        target = tok(description, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        n_pad = batch["input_ids"].shape[1] - len(prefix) - len(target)
        assert batch["input_ids"][row].tolist() == prefix + target + [tok.pad_token_id] * n_pad
        assert batch["labels"][row].tolist() == [-100] * len(prefix) + target + [-100] * n_pad
        assert batch["attention_mask"][row].tolist() == [1] * (len(prefix) + len(target)) + [0] * n_pad

    out = model(**batch)
    logits, labels = out.logits, batch["labels"]
    assert logits.shape[:2] == labels.shape  # logits line up with labels (Trainer / TRL)
    terms = [
        F.cross_entropy(logits[b, t], labels[b, t + 1])
        for b in range(labels.shape[0])
        for t in range(labels.shape[1] - 1)
        if labels[b, t + 1] != -100
    ]
    assert torch.allclose(out.loss, torch.stack(terms).mean(), atol=1e-5)


def test_frozen_encoder_gets_no_gradient_projector_and_lm_do():
    model, processor = build_tiny_moda(seed=1)
    model.train()
    model(**processor(images=make_images(2), suffix=DESCRIPTIONS)).loss.backward()
    for name, param in model.named_parameters():
        if name.startswith(("model.vision_tower.", "model.visual_projection.")):
            assert not param.requires_grad and param.grad is None, name
    for part in (model.projector, model.language_model.decoder.layers[0]):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())


def test_unfrozen_encoder_trains():
    model, processor = build_tiny_moda(seed=1, freeze_vision=False)
    model(**processor(images=make_images(2), suffix=DESCRIPTIONS)).loss.backward()
    assert model.vision_tower.embeddings.patch_embedding.weight.grad.abs().sum() > 0
    assert model.visual_projection.weight.grad.abs().sum() > 0


def test_gradient_checkpointing_gives_the_same_loss_and_grads():
    model, processor = build_tiny_moda(seed=2)
    model.train()
    batch = processor(images=make_images(2), suffix=DESCRIPTIONS)
    torch.manual_seed(0)  # same dropout masks in both runs (checkpointing replays the RNG state)
    plain = model(**batch).loss
    plain.backward()
    grad = model.projector.net[0].weight.grad.clone()
    model.zero_grad()
    model.activation_checkpointing_enable()
    calls = {"vision": 0, "lm": 0}  # checkpointed runs of the first layer of each tower
    for part, layer in (
        ("vision", model.vision_tower.encoder.layers[0]),
        ("lm", model.language_model.decoder.layers[0]),
    ):

        def counted(*args, _checkpoint=layer._gradient_checkpointing_func, _part=part, **kwargs):
            calls[_part] += 1
            return _checkpoint(*args, **kwargs)

        layer._gradient_checkpointing_func = counted
    torch.manual_seed(0)
    checkpointed = model(**batch).loss
    checkpointed.backward()
    assert calls == {"vision": 0, "lm": 1}  # the trainable LM checkpoints; the frozen tower, in eval, not
    assert torch.allclose(plain, checkpointed)
    assert torch.allclose(grad, model.projector.net[0].weight.grad, atol=1e-6)


def test_cached_vision_embeds_equal_pixels(tiny):
    model, processor = tiny
    batch = processor(images=make_images(3), suffix=DESCRIPTIONS + ["Blue jeans."])
    pixel_values = batch.pop("pixel_values")
    embeds = model.encode_images(pixel_values)  # what the feature cache stores
    assert embeds.shape == (3, 1, model.config.vision_embed_dim)
    with torch.no_grad():
        from_pixels = model(**batch, pixel_values=pixel_values)
        from_embeds = model(**batch, vision_embeds=embeds)
    assert torch.allclose(from_pixels.logits, from_embeds.logits)
    assert torch.allclose(from_pixels.loss, from_embeds.loss)
    # the processor without images: same ids, no pixel_values
    text_only = processor(suffix=DESCRIPTIONS + ["Blue jeans."])
    assert "pixel_values" not in text_only and torch.equal(text_only["input_ids"], batch["input_ids"])


def test_placeholder_count_mismatch_is_a_clear_error(tiny):
    model, processor = tiny
    batch = processor(images=make_images(1), text=f"{IMAGE_TOKEN} and {IMAGE_TOKEN}")  # two for one image
    with pytest.raises(ValueError, match=r"<image> token"):
        model(**batch)
    ids = processor(suffix=["A red dress."])["input_ids"]
    with pytest.raises(ValueError, match="generate\\(\\) got no pixel_values or vision_embeds"):
        model.generate(input_ids=ids, max_new_tokens=2)  # forgot the image


def _generate(model, batch, **kwargs):
    out = model.generate(**batch, max_new_tokens=6, min_new_tokens=6, do_sample=False, **kwargs)
    return out[:, batch["input_ids"].shape[1] :]


def _lm_config(family: str, vocab: int, tok) -> dict:
    ids = {"pad_token_id": tok.pad_token_id, "bos_token_id": tok.bos_token_id}
    ids["eos_token_id"] = tok.eos_token_id
    if family == "opt":
        return {"model_type": "opt", "vocab_size": vocab, "hidden_size": 64, "word_embed_proj_dim": 64,
                "ffn_dim": 128, "num_hidden_layers": 2, "num_attention_heads": 4, **ids}  # fmt: skip
    if family == "llama":
        return {"model_type": "llama", "vocab_size": vocab, "hidden_size": 64, "intermediate_size": 128,
                "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
                **ids}  # fmt: skip
    return {"model_type": "gpt2", "vocab_size": vocab, "n_embd": 64, "n_layer": 2, "n_head": 4, **ids}


@pytest.mark.parametrize("family", ["opt", "llama", "gpt2"])
def test_generation_cache_and_left_padding(tiny, family):
    _, processor = tiny
    tok = processor.tokenizer
    if family == "opt":
        model = tiny[0]
    else:
        torch.manual_seed(0)
        config = ModaConfig(
            vision_config=tiny[0].config.vision_config.to_dict(),
            text_config=_lm_config(family, len(tok), tok),
            image_token_id=processor.image_token_id,
        )
        model = ModaForConditionalGeneration(config).eval()
    prompts = ["", "a red", "black leather shoes for"]
    images = make_images(3, seed=3)
    batch = processor(images=images, text=prompts)  # left-padded generation prompts
    assert batch["attention_mask"][0, 0] == 0 and batch["attention_mask"][:, -1].all()

    with torch.no_grad():
        # logits of every real position in the padded batch equal those of the unpadded single runs
        padded = model(**batch).logits
        for i in range(3):
            single = processor(images=images[i], text=prompts[i])
            n = single["input_ids"].shape[1]
            assert torch.allclose(padded[i, -n:], model(**single).logits[0], atol=1e-5)

        cached = _generate(model, batch)
        assert torch.equal(cached, _generate(model, batch, use_cache=False))
        for i in range(3):
            single = processor(images=images[i], text=prompts[i])
            assert torch.equal(cached[i], _generate(model, single)[0])
        # precomputed encoder features generate the same tokens
        embeds = model.encode_images(batch["pixel_values"])
        no_pixels = {k: v for k, v in batch.items() if k != "pixel_values"}
        assert torch.equal(cached, _generate(model, no_pixels, vision_embeds=embeds))


@pytest.mark.parametrize(
    "overrides",
    [
        {"projector_type": "linear"},
        {"num_image_tokens": 3},
        {"vision_feature": "patch", "num_image_tokens": 16},
        {
            "vision_feature": "patch",
            "num_image_tokens": 4,
            "projector_hidden_ratio": 2.0,
            "projector_act": "silu",
        },
    ],
)
def test_projector_options(overrides):
    model, processor = build_tiny_moda(seed=0, **overrides)
    batch = processor(images=make_images(2), suffix=DESCRIPTIONS)
    n = overrides.get("num_image_tokens", 1)
    assert (batch["input_ids"] == processor.image_token_id).sum(1).tolist() == [n, n]
    embeds = model.encode_images(batch["pixel_values"])
    patch = overrides.get("vision_feature") == "patch"
    assert embeds.shape == (2, 16 if patch else 1, model.config.vision_embed_dim)  # 32/8 = 4x4 patches
    assert model.get_image_features(vision_embeds=embeds).pooler_output.shape == (2, n, 64)
    assert torch.isfinite(model(**batch).loss)


@pytest.mark.parametrize(
    "vision_config",
    [
        {"model_type": "siglip_vision_model", "hidden_size": 32, "intermediate_size": 64,
         "num_hidden_layers": 2, "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
        {"model_type": "vit", "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
         "num_attention_heads": 2, "image_size": 32, "patch_size": 8},
    ],
)  # fmt: skip
@pytest.mark.parametrize("feature", ["pooled", "patch"])
def test_other_vision_towers(tiny, vision_config, feature):
    processor = tiny[1]
    tok = train_tokenizer(vocab_size=300)
    config = ModaConfig(
        vision_config=vision_config,
        text_config=_lm_config("opt", len(tok), tok),
        image_token_id=tok.convert_tokens_to_ids(IMAGE_TOKEN),
        vision_feature=feature,
    )
    model = ModaForConditionalGeneration(config)
    assert model.visual_projection is None and config.vision_embed_dim == 32
    pixels = processor.image_processor(make_images(2), return_tensors="pt")["pixel_values"]
    embeds = model.encode_images(pixels)
    assert embeds.shape == (2, 16 if feature == "patch" else 1, 32)  # no CLS among ViT's patches
    ids = torch.tensor([[tok.bos_token_id, config.image_token_id, 10, 11]] * 2)
    assert model(input_ids=ids, pixel_values=pixels).logits.shape == (2, 4, len(tok))
