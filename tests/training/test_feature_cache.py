"""Feature cache: encode once and reuse; new encoder or image processor invalidates; unfrozen bypasses."""

import torch

from modeling_moda.builder import build_tiny_moda
from modeling_moda.core.datasets import load_split
from modeling_moda.training.data import LazyColumn
from modeling_moda.training.feature_cache import FeatureCache, encoder_fingerprint


class CountingColumn(LazyColumn):
    reads = 0

    def __getitem__(self, index):
        CountingColumn.reads += 1
        return super().__getitem__(index)


def test_encode_once_then_reuse_by_id(tiny_dataset, tmp_path):
    split = load_split(str(tiny_dataset), "validation")
    model, processor = build_tiny_moda(seed=0, num_layers=1)
    cache = FeatureCache(tmp_path, encoder_fingerprint(model, processor))
    images = CountingColumn(split, "image")
    first = cache.get_or_encode("validation", split["id"], images, model, processor, batch_size=3)
    assert first.shape[0] == len(split) and CountingColumn.reads == len(split)
    again = cache.get_or_encode("validation", split["id"], images, model, processor)
    assert CountingColumn.reads == len(split)  # nothing re-encoded
    assert torch.equal(first, again)
    pixels = processor.image_processor([split[0]["image"]], return_tensors="pt")["pixel_values"]
    assert torch.allclose(first[0], model.encode_images(pixels)[0], atol=1e-5)


def test_fingerprint_changes_with_weights_and_image_processor():
    model, processor = build_tiny_moda(seed=0, num_layers=1)
    base = encoder_fingerprint(model, processor)
    assert encoder_fingerprint(model, processor) == base
    other_weights, _ = build_tiny_moda(seed=1, num_layers=1)
    assert encoder_fingerprint(other_weights, processor) != base
    processor.image_processor.image_mean = [0.0, 0.0, 0.0]
    assert encoder_fingerprint(model, processor) != base


def test_unfrozen_encoder_bypasses_the_cache(tiny_recipe, tmp_path):
    from modeling_moda.training.config import parse_recipe
    from modeling_moda.training.run import train

    recipe = tiny_recipe(freeze_vision=False, num_train_epochs=1, eval_strategy="no", save_strategy="no")
    result = train(parse_recipe([str(recipe)]))
    assert not (tmp_path / "features").exists()
    assert result.global_step == 4
