"""A MODA 0.1 checkpoint (one flat model holding a full causal LM) loads into today's llava layout.

`fixtures/moda-0.1-tiny` was written by MODA 0.1's own code (commit cc89551): `build_tiny_moda(seed=0,
vocab_size=300, vision_hidden=16, text_hidden=16, num_layers=1, image_size=16)`, `save_pretrained`, and its
logits for fixed inputs in `expected_outputs.safetensors`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file

from modeling_moda.modeling_moda import ModaForConditionalGeneration, ModaModel

LEGACY = Path(__file__).parent / "fixtures" / "moda-0.1-tiny"


def test_fixture_is_the_old_layout():
    with safe_open(LEGACY / "model.safetensors", "pt") as f:
        keys = list(f.keys())
    assert any(k.startswith("language_model.model.decoder.") for k in keys)
    assert not any(k.startswith("model.") for k in keys)


@pytest.mark.parametrize("model_class", [ModaForConditionalGeneration, ModaModel])
def test_legacy_checkpoint_loads_every_weight(model_class):
    model, info = model_class.from_pretrained(LEGACY, output_loading_info=True)
    assert info["missing_keys"] == set() and info["mismatched_keys"] == set()
    # the 0.1 file has no lm_head (tied to the embeddings); the base model has no head to fill
    assert info["unexpected_keys"] == set()


def test_legacy_checkpoint_gives_its_own_logits(tmp_path):
    expected = load_file(LEGACY / "expected_outputs.safetensors")
    inputs = {k: expected[k] for k in ("input_ids", "attention_mask", "pixel_values")}
    model = ModaForConditionalGeneration.from_pretrained(LEGACY).eval()
    with torch.no_grad():
        assert torch.allclose(model(**inputs).logits, expected["logits"], atol=1e-6)
    model.save_pretrained(tmp_path)  # re-saved and reloaded: still the same model
    again = ModaForConditionalGeneration.from_pretrained(tmp_path).eval()
    with torch.no_grad():
        assert torch.allclose(again(**inputs).logits, expected["logits"], atol=1e-6)
