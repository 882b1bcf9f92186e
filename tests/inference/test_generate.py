"""generate_descriptions: batched == one at a time == features path == the image-to-text pipeline."""

from __future__ import annotations

import torch
from transformers import pipeline

from modeling_moda.inference.generate import generate_descriptions

from .inference_images import COLOURS, DESCRIPTIONS, colour_image

NAMES = list(COLOURS)


def test_batched_generation_learned_descriptions(trained_tiny):
    model, processor = trained_tiny
    images = [colour_image(n) for n in NAMES]
    batched = generate_descriptions(model, processor, images, batch_size=3, progress=False)
    assert batched == [DESCRIPTIONS[n] for n in NAMES]
    assert generate_descriptions(model, processor, images, batch_size=1, progress=False) == batched


def test_vision_embeds_equal_pixels(trained_tiny):
    model, processor = trained_tiny
    images = [colour_image(n) for n in NAMES]
    pixels = processor.image_processor(images, return_tensors="pt")["pixel_values"]
    with torch.inference_mode():
        embeds = model.encode_images(pixels)  # [B, 1, D_v]
    from_embeds = generate_descriptions(model, processor, vision_embeds=embeds, batch_size=4, progress=False)
    assert from_embeds == generate_descriptions(model, processor, images, progress=False)


def test_equals_image_to_text_pipeline(trained_tiny_dir, tmp_path):
    paths = []
    for n in NAMES:
        colour_image(n, size=(64, 50)).save(tmp_path / f"{n}.png")
        paths.append(str(tmp_path / f"{n}.png"))
    pipe = pipeline("image-to-text", model=str(trained_tiny_dir), trust_remote_code=True)
    expected = [out[0]["generated_text"] for out in pipe(paths, max_new_tokens=20)]
    ours = generate_descriptions(pipe.model, pipe.processor, paths, max_new_tokens=20, progress=False)
    assert ours == expected
    assert expected == [DESCRIPTIONS[n] for n in NAMES]


def test_prompt_and_empty_input(trained_tiny):
    model, processor = trained_tiny
    assert generate_descriptions(model, processor, [], progress=False) == []
    # a prompt changes the input; the loop still returns one string per image
    texts = generate_descriptions(model, processor, [colour_image("red")], prompt="Describe:", progress=False)
    assert len(texts) == 1 and isinstance(texts[0], str)


def test_int8_dynamic_quantization_keeps_descriptions(trained_tiny):
    import copy

    from modeling_moda.inference.runtime import prepare_model

    model, processor = trained_tiny
    int8 = prepare_model(copy.deepcopy(model), device="cpu", quantize="int8")
    float_linears = [m for m in int8.modules() if type(m) is torch.nn.Linear]
    projector_linears = [m for m in int8.projector.modules() if isinstance(m, torch.nn.Linear)]
    assert float_linears == projector_linears  # only the projector stays in float
    assert "quantized" in type(int8.lm_head).__module__
    images = [colour_image(n) for n in NAMES]
    assert generate_descriptions(int8, processor, images, progress=False) == [DESCRIPTIONS[n] for n in NAMES]
