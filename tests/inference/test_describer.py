"""load_describer (torch): the same descriptions as generate_descriptions, streamed per row."""

from __future__ import annotations

import pytest

from modeling_moda.inference.describer import load_describer
from modeling_moda.inference.generate import generate_descriptions

from .inference_images import DESCRIPTIONS, colour_image

NAMES = ["red", "blue", "green"]


def test_torch_describer_equals_generate_and_streams_each_row(trained_tiny, trained_tiny_dir):
    model, processor = trained_tiny
    images = [colour_image(n) for n in NAMES]
    describer = load_describer(str(trained_tiny_dir), "torch", dtype="fp32")
    assert describer.model_id == str(trained_tiny_dir)
    assert describer.max_new_tokens == model.generation_config.max_new_tokens

    deltas: dict[int, list[str]] = {i: [] for i in range(len(images))}
    texts = describer.describe(images, on_text=lambda i, delta: deltas[i].append(delta))

    assert texts == generate_descriptions(model, processor, images, progress=False)
    assert texts == [DESCRIPTIONS[n] for n in NAMES]
    assert ["".join(parts) for _, parts in sorted(deltas.items())] == texts
    assert all(len(parts) > 1 for parts in deltas.values())  # streamed token by token, not in one piece


def test_torch_describer_max_new_tokens_and_errors(trained_tiny_dir):
    describer = load_describer(str(trained_tiny_dir), dtype="fp32")
    short = describer.describe([colour_image("red")], max_new_tokens=2)[0]
    assert DESCRIPTIONS["red"].startswith(short) and len(short) < len(DESCRIPTIONS["red"])
    assert describer.describe([]) == []
    with pytest.raises(ValueError, match="unknown runtime"):
        load_describer(str(trained_tiny_dir), "tensorflow")
    with pytest.raises(ValueError, match="unknown dtype"):
        load_describer(str(trained_tiny_dir), dtype="int3")
    with pytest.raises(ValueError, match="export onnx --quantize q4"):  # q4 exists on onnxruntime only
        load_describer(str(trained_tiny_dir), dtype="q4")
