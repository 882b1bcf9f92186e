"""MODA on a trained encoder: the conv tower feeds the projector, stays frozen, and keys the feature cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

from modeling_moda.builder import build_tiny_moda
from modeling_moda.training.feature_cache import FeatureCache, encoder_fingerprint

TEXTS = ["a red tshirts for men casual wear", "blue jeans for women"]


def _batch(processor, n: int = 2) -> dict:
    images = [Image.new("RGB", (240, 320), colour) for colour in ("red", "blue")][:n]
    prompts = [
        processor.apply_chat_template([{"role": "user", "content": [{"type": "image"}]}]) for _ in images
    ]
    batch = processor(images=images, text=[p + " " + t for p, t in zip(prompts, TEXTS, strict=True)],
                      return_tensors="pt", padding=True)  # fmt: skip
    batch["labels"] = batch["input_ids"].clone()
    return batch


@pytest.mark.slow
@pytest.mark.parametrize(("feature", "tokens"), [("pooled", 1), ("pooled", 4), ("patch", 4)])
def test_moda_reads_the_encoder_frozen(trained_encoder: Path, feature: str, tokens: int) -> None:
    model, processor = build_tiny_moda(TEXTS, vision=str(trained_encoder), vision_feature=feature,
                                       num_image_tokens=tokens)  # fmt: skip
    encoder = load_file(str(trained_encoder / "model.safetensors"))
    tower = model.vision_tower.state_dict()
    assert all(torch.equal(tower[k], encoder["vision_model." + k]) for k in tower)
    batch = _batch(processor)
    embeds = model.encode_images(batch["pixel_values"])
    if feature == "pooled":  # the contrastive embedding: ResNet pooled [B, 64] -> visual projection [B, 32]
        assert embeds.shape == (2, 1, 32)
        assert torch.equal(model.visual_projection.weight, encoder["visual_projection.weight"])
    else:  # the last feature map [B, 64, 4, 4] as 16 patch tokens (the projector pools them to 4)
        assert embeds.shape == (2, 16, 64)
    model.train()
    assert not model.vision_tower.training  # BatchNorm statistics stay the encoder's
    model(**batch).loss.backward()
    after = model.vision_tower.state_dict()
    assert all(torch.equal(after[k], encoder["vision_model." + k]) for k in after)
    vision_params = list(model.vision_tower.parameters()) + list(
        model.visual_projection.parameters() if model.visual_projection is not None else []
    )
    assert all(not p.requires_grad and p.grad is None for p in vision_params)
    assert all(p.grad is not None for p in model.projector.parameters())


@pytest.mark.slow
def test_the_feature_cache_invalidates_when_the_encoder_weights_change(
    trained_encoder: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "changed-encoder"
    shutil.copytree(trained_encoder, changed)
    weights = load_file(str(changed / "model.safetensors"))
    weights["visual_projection.weight"] = weights["visual_projection.weight"] * 1.5
    save_file(weights, str(changed / "model.safetensors"), metadata={"format": "pt"})

    def fingerprint(encoder: Path) -> str:
        model, processor = build_tiny_moda(TEXTS, vision=str(encoder))
        return encoder_fingerprint(model, processor)

    model, processor = build_tiny_moda(TEXTS, vision=str(trained_encoder))
    first = encoder_fingerprint(model, processor)
    images = [Image.new("RGB", (240, 320), "red")]
    cached = FeatureCache(tmp_path / "features", first).get_or_encode(
        "train", ["a"], images, model, processor
    )
    assert cached.shape == (1, 1, 32)
    assert fingerprint(trained_encoder) == first  # same weights: the cache is reused
    second = fingerprint(changed)
    assert second != first
    assert FeatureCache(tmp_path / "features", second).load("train") == {}  # new weights: nothing reused


@pytest.mark.slow
def test_moda_on_the_encoder_exports_to_onnx(trained_encoder: Path, tmp_path: Path) -> None:
    """The conv tower (BatchNorm, pooled [B, C, 1, 1] flattened) through `moda export onnx`: ONNX Runtime's
    image features and logits equal PyTorch's. (Greedy ids of this untrained LM are not compared: its
    near-even logits flip on float rounding.)"""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from modeling_moda.inference.onnx_export import export_onnx
    from modeling_moda.inference.onnx_runtime import OnnxModa

    model, processor = build_tiny_moda(TEXTS, vision=str(trained_encoder))
    model.save_pretrained(tmp_path / "moda")
    processor.save_pretrained(tmp_path / "moda")
    info = export_onnx(str(tmp_path / "moda"), str(tmp_path / "onnx"))
    assert info["validation"]["fp32"]["max_abs_logit_diff"] < 1e-4
    assert info["validation"]["fp32"]["greedy_argmax_agreement"] == 1.0
    pixels = _batch(processor)["pixel_values"]
    with torch.inference_mode():
        expected = model.get_image_features(pixel_values=pixels).pooler_output.numpy()  # [2, 1, D]
    ours = OnnxModa(tmp_path / "onnx").image_features(pixels.numpy())
    assert ours.shape == expected.shape
    assert abs(ours - expected).max() < 1e-4
