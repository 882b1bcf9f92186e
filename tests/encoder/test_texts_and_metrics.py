"""Captions, prompts and the linear probe: the pieces the encoder's scores are made of."""

from __future__ import annotations

import random

import torch

from modeling_moda.encoder.metrics import linear_probe, vocabulary
from modeling_moda.encoder.texts import caption, prompt, training_caption

ROW = {
    "base_colour": "Navy Blue",
    "article_type": "Tshirts",
    "gender": "Women",
    "usage": "Sports",
    "product_title": "Kestrel Women Navy Blue Striped T-shirt",
}


def test_a_prompt_is_the_caption_that_names_only_that_attribute() -> None:
    assert caption({"colour": "Navy Blue", "article_type": "Tshirts"}) == "navy blue tshirts"
    assert prompt("gender", "Women") == "for women"
    assert prompt("usage", "Smart Casual") == "smart casual wear"


def test_training_captions_name_random_non_empty_subsets_in_a_fixed_order() -> None:
    rng = random.Random(0)
    full = "navy blue striped tshirts for women sports wear"
    captions = {training_caption(ROW, rng) for _ in range(300)}
    assert full in captions and "tshirts" in captions and "" not in captions
    order = full.split()
    for text in captions:
        positions = [order.index(word) for word in text.split()]
        assert positions == sorted(positions)


def test_linear_probe_reads_a_linearly_separable_attribute_and_not_noise() -> None:
    generator = torch.Generator().manual_seed(0)
    colours = ["Red", "Blue", "Green"]
    rows = [
        {"base_colour": colours[i % 3], "article_type": "Tshirts" if i % 2 else "Jeans"} for i in range(120)
    ]
    centres = torch.randn(3, 16, generator=generator) * 3
    features = centres[torch.arange(120) % 3] + torch.randn(120, 16, generator=generator) * 0.3
    vocab = vocabulary(rows[:90])
    scores = linear_probe(features[:90], rows[:90], features[90:], rows[90:], vocab)
    assert scores["colour"] == 1.0  # the colour is in the features
    assert scores["article_type"] < 0.8  # the article (i % 2) is not
