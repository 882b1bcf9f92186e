"""`batch_inputs`: the batch with its images preprocessed on threads equals one processor call."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from modeling_moda.builder import build_tiny_moda
from modeling_moda.inference.batch_inputs import batch_inputs


@pytest.fixture(scope="module")
def processor():
    return build_tiny_moda(texts=["a red shirt", "blue jeans"], seed=0)[1]


def photos() -> list[Image.Image]:
    """Different sizes and colours, so a reordered or repeated image changes the pixel values."""
    return [Image.new("RGB", (60 + 13 * i, 80 + 7 * i), (30 * i, 200 - 20 * i, 90)) for i in range(5)]


@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_threaded_batch_equals_one_processor_call(processor, return_tensors):
    prompts = ["", "Describe:", "", "A photo of", ""]
    expected = processor(images=photos(), text=prompts, return_tensors=return_tensors)
    ours = batch_inputs(processor, photos(), prompts, num_threads=3, return_tensors=return_tensors)
    assert sorted(ours.keys()) == sorted(expected.keys())
    for key in expected:
        assert type(ours[key]) is type(expected[key]), key
        assert np.array_equal(np.asarray(ours[key]), np.asarray(expected[key])), key
    if return_tensors == "pt":
        assert ours["pixel_values"].dtype == torch.float32


def test_without_images_lays_out_the_placeholders(processor):
    ours = batch_inputs(processor, None, ["", ""], num_threads=2)
    expected = processor(text=[processor.image_token] * 2, return_tensors="pt")
    assert "pixel_values" not in ours
    assert torch.equal(ours["input_ids"], expected["input_ids"])
