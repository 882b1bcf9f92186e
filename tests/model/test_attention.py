"""What vLLM's Transformers backend relies on: attention through the attention interface, a base model."""

from __future__ import annotations

import pytest
import torch
from transformers import AttentionInterface, AutoModelForImageTextToText
from transformers.integrations.sdpa_attention import sdpa_attention_forward

from .conftest import make_images


def _load(model_dir, attn_implementation: str):
    return AutoModelForImageTextToText.from_pretrained(
        model_dir, trust_remote_code=True, attn_implementation=attn_implementation
    ).eval()


def test_eager_and_sdpa_give_the_same_logits(tiny, tiny_dir):
    processor = tiny[1]
    batch = processor(images=make_images(2), text=["", "a red"])  # left-padded: the mask matters
    logits = {}
    for impl in ("eager", "sdpa"):
        model = _load(tiny_dir, impl)
        assert model.config.text_config._attn_implementation == impl  # the LM sub-config follows
        assert model.language_model.config._attn_implementation == impl
        with torch.no_grad():
            logits[impl] = model(**batch).logits  # [B, T, V]
    real = batch["attention_mask"].bool()
    assert torch.allclose(logits["eager"][real], logits["sdpa"][real], atol=1e-5)


def test_every_lm_layer_dispatches_through_the_attention_interface(tiny, tiny_dir):
    calls: list[str] = []

    def probe(module, *args, **kwargs):
        calls.append(type(module).__name__)
        return sdpa_attention_forward(module, *args, **kwargs)

    AttentionInterface.register("moda_probe", probe)  # vLLM registers its own kernel the same way
    model = _load(tiny_dir, "moda_probe")
    with torch.no_grad():
        probed = model(**tiny[1](images=make_images(1), text="a red")).logits
        reference = tiny[0](**tiny[1](images=make_images(1), text="a red")).logits
    assert calls.count("OPTAttention") == model.config.text_config.num_hidden_layers
    assert torch.allclose(probed, reference, atol=1e-5)


def test_base_model_gives_the_hidden_states_the_head_turns_into_logits(tiny, tiny_dir):
    """AutoModel = ModaModel: the LM decoder's last hidden states (what vLLM wraps, adding its own head)."""
    from transformers import AutoModel

    model, processor = tiny
    batch = processor(images=make_images(2), text=["", "a red"])
    base = AutoModel.from_pretrained(tiny_dir, trust_remote_code=True).eval()
    assert type(base).__name__ == "ModaModel"
    with pytest.raises(TypeError, match=r"AutoModelForImageTextToText.*pipeline\('image-to-text'"):
        base.generate(**batch)  # the base model has no head: the error names the class that describes
    with torch.no_grad():
        hidden = base(**batch).last_hidden_state  # [B, T, D]
        logits = model(**batch).logits  # [B, T, V]
        image_out = base.get_image_features(batch["pixel_values"])
    assert hidden.shape == (*batch["input_ids"].shape, model.config.text_config.hidden_size)
    assert torch.allclose(model.lm_head(hidden), logits, atol=1e-5)
    assert torch.equal(image_out.pooler_output, model.get_image_features(batch["pixel_values"]).pooler_output)
