"""INFERENCE-area fixtures: a tiny MODA trained for a few steps so each test image gets its own description
(a random model writes the same bytes for every image, which would hide mix-ups), and a folder of images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from .inference_images import COLOURS, DESCRIPTIONS, colour_image

STEPS = 40  # enough for a tiny model to learn four descriptions


@pytest.fixture(scope="session")
def trained_tiny():
    """(model, processor): a tiny MODA that learned one description per colour (a few seconds on a CPU)."""
    from modeling_moda.builder import build_tiny_moda

    model, processor = build_tiny_moda(texts=list(DESCRIPTIONS.values()) * 4, seed=0)
    names = list(COLOURS)
    batch = processor(suffix=[DESCRIPTIONS[n] for n in names])
    pixels = processor.image_processor([colour_image(n) for n in names], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        batch["vision_embeds"] = model.encode_images(pixels)  # frozen encoder: encode once
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    model.train()
    for _ in range(STEPS):
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval(), processor


@pytest.fixture(scope="session")
def trained_tiny_dir(trained_tiny, tmp_path_factory) -> Path:
    model, processor = trained_tiny
    out = tmp_path_factory.mktemp("trained-tiny-moda")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture()
def image_folder(tmp_path) -> Path:
    """photos/red.jpg, photos/blue.png, photos/sub/green.jpg, photos/sub/deeper/yellow.webp (+ a note.txt)."""
    root = tmp_path / "photos"
    (root / "sub" / "deeper").mkdir(parents=True)
    colour_image("red").save(root / "red.jpg", quality=95)
    colour_image("blue").save(root / "blue.png")
    colour_image("green").save(root / "sub" / "green.jpg", quality=95)
    colour_image("yellow").save(root / "sub" / "deeper" / "yellow.webp", lossless=True)
    (root / "note.txt").write_text("not an image, and not named like one")
    return root
