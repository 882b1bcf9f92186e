"""MODEL-area fixtures: a tiny MODA from configs (offline), saved once per session, and test images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# stand-ins for modules of transformers' test suite (see transformers_tests.py), not tests of ours
collect_ignore = ["transformers_shim"]


def make_images(n: int, seed: int = 0, size: tuple[int, int] = (48, 40)) -> list[Image.Image]:
    """Distinct RGB images (random blocks of colour) so the encoder sees different inputs."""
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)) for _ in range(n)]


@pytest.fixture(scope="session")
def tiny():
    """(model, processor) of a tiny MODA in eval mode. Do not mutate: build your own for training tests."""
    from modeling_moda.builder import build_tiny_moda

    model, processor = build_tiny_moda(seed=0)
    return model.eval(), processor


@pytest.fixture(scope="session")
def tiny_dir(tiny, tmp_path_factory) -> Path:
    """The tiny MODA saved with `model.save_pretrained` + `processor.save_pretrained`."""
    model, processor = tiny
    out = tmp_path_factory.mktemp("tiny-moda")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory) -> Path:
    """A tiny dual-encoder CLIP checkpoint (text tower included, like FashionCLIP) + image processor."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel

    torch.manual_seed(0)
    config = CLIPConfig(
        projection_dim=16,
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        text_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 1,
            "num_attention_heads": 2,
            "vocab_size": 99,
            "max_position_embeddings": 16,
            "bos_token_id": 0,
            "eos_token_id": 1,
            "pad_token_id": 1,
        },
    )
    out = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).save_pretrained(out)
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    image_processor.save_pretrained(out)
    return out
