"""Evaluation-area fixtures: a tiny saved MODA and a small image dataset with catalog metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

# (gender, article_type, base_colour, usage, season, product_title, RGB)
ITEMS = [
    ("Men", "Tshirts", "Navy Blue", "Casual", "Summer", "Roadster Men Navy Blue T-shirt", (20, 30, 90)),
    ("Women", "Dresses", "Red", "Party", "Winter", "Vero Moda Women Red Dress", (200, 20, 30)),
    ("Men", "Casual Shoes", "White", "Casual", "Fall", "Puma Men White Sneakers", (240, 240, 240)),
    ("Women", "Handbags", "Black", "Casual", "Summer", "Baggit Women Black Handbag", (10, 10, 10)),
    ("Boys", "Shorts", "Green", "Casual", "Summer", "Gini Jony Boys Green Shorts", (30, 150, 40)),
    ("Unisex", "Backpacks", "Grey", "Casual", "Fall", "Wildcraft Unisex Grey Backpack", (128, 128, 128)),
]


def _description(gender, article, colour, usage):
    return f"A {colour.lower()} {article.lower()} for {gender.lower()}, {usage.lower()} wear."


@pytest.fixture(scope="session")
def eval_dataset_dir(tmp_path_factory) -> Path:
    """A DatasetDict (train/validation/test) saved with `save_to_disk`: solid-colour images + metadata."""
    import datasets
    from PIL import Image

    rows = {
        k: []
        for k in (
            "id",
            "image",
            "gender",
            "article_type",
            "base_colour",
            "usage",
            "season",
            "product_title",
            "description",
        )
    }
    for i, (gender, article, colour, usage, season, title, rgb) in enumerate(ITEMS * 2):
        rows["id"].append(str(1000 + i))
        rows["image"].append(Image.new("RGB", (32, 32), rgb))
        for key, value in zip(
            ("gender", "article_type", "base_colour", "usage", "season", "product_title"),
            (gender, article, colour, usage, season, title),
            strict=True,
        ):
            rows[key].append(value)
        rows["description"].append(_description(gender, article, colour, usage))
    features = datasets.Features({k: datasets.Value("string") for k in rows} | {"image": datasets.Image()})
    ds = datasets.Dataset.from_dict(rows, features=features)
    out = tmp_path_factory.mktemp("eval-data") / "moda-mini"
    datasets.DatasetDict(
        {"train": ds, "validation": ds.select(range(6)), "test": ds.select(range(6, 12))}
    ).save_to_disk(out)
    return out


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A tiny MODA (random weights, tokenizer trained on the descriptions) saved to a folder."""
    from modeling_moda.builder import build_tiny_moda

    texts = [_description(g, a, c, u) for g, a, c, u, *_ in ITEMS]
    model, processor = build_tiny_moda(texts=texts * 4)
    out = tmp_path_factory.mktemp("tiny-moda") / "model"
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out
