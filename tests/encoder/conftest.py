"""ENCODER-area fixtures: a small synthetic catalog built into a dataset, and a tiny local CLIP folder."""

from __future__ import annotations

from pathlib import Path

import pytest

# a small shape so a test epoch takes a second
TINY_SHAPE = {
    "image_size": 32,
    "hidden_sizes": (16, 32, 64),
    "depths": (1, 1, 1),
    "text_hidden": 32,
    "projection_dim": 32,
}


@pytest.fixture(scope="session")
def synth_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 64-item synthetic catalog built into a dataset (template teacher), once per session."""
    from modeling_moda.data.build import build_dataset
    from modeling_moda.data.config import BuildConfig
    from modeling_moda.data.synth import synth_catalog

    root = tmp_path_factory.mktemp("encoder-data")
    synth_catalog(root / "catalog", n=64, seed=5, workers=1, progress=False)
    build_dataset(str(root / "catalog"), root / "dataset", BuildConfig(), progress=False)
    return root / "dataset"


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory, synth_dataset: Path) -> Path:
    """A tiny random CLIPModel saved with its processor: stands in for a Hub CLIP given to --init."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    from modeling_moda.core.datasets import load_split
    from modeling_moda.encoder.model import train_word_tokenizer
    from modeling_moda.encoder.texts import caption, item_values

    rows = load_split(str(synth_dataset), "train").remove_columns("image").to_list()
    tokenizer = train_word_tokenizer(caption(item_values(row)) for row in rows)
    tiny = {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(
        vision_config={**tiny, "image_size": 32, "patch_size": 8},
        text_config={**tiny, "vocab_size": len(tokenizer), "max_position_embeddings": 32, "eos_token_id": 3},
        projection_dim=32,
    )
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("clip") / "tiny-clip"
    CLIPModel(config).save_pretrained(path)
    image_processor = CLIPImageProcessorPil(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def trained_encoder(tmp_path_factory: pytest.TempPathFactory, synth_dataset: Path) -> Path:
    """A tiny encoder folder from `train_encoder` (one epoch, 64 px so the feature map has 2x2 cells)."""
    from modeling_moda.encoder import train_encoder

    out = tmp_path_factory.mktemp("encoder") / "encoder"
    shape = dict(TINY_SHAPE, image_size=64)
    train_encoder(str(synth_dataset), out, epochs=1, batch_size=16, progress=False, **shape)
    return out
