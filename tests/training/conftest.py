"""Fixtures for the training tests: a small image-description dataset on disk (save_to_disk layout)."""

from pathlib import Path

import pytest
import yaml

COLOURS = {"red": (200, 30, 36), "blue": (40, 100, 200), "green": (34, 139, 60), "black": (28, 28, 30)}
ARTICLES = {"shirt": (40, 40), "shoes": (40, 16), "watch": (20, 40)}


def _rows(n: int, offset: int) -> list[dict]:
    from PIL import Image

    rows = []
    for i in range(n):
        colour = list(COLOURS)[(i + offset) % len(COLOURS)]
        article = list(ARTICLES)[(i // len(COLOURS) + offset) % len(ARTICLES)]
        image = Image.new("RGB", (48, 48), (255, 255, 255))
        image.paste(Image.new("RGB", ARTICLES[article], COLOURS[colour]), (4, 4))
        rows.append(
            {
                "id": f"{offset}-{i}",
                "image": image,
                "description": f"A {colour} {article} for casual wear.",
                "base_colour": colour.title(),
                "article_type": article.title(),
                "usage": "Casual",
            }
        )
    return rows


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    import datasets

    path = tmp_path_factory.mktemp("data") / "ds"
    splits = {"train": (32, 0), "validation": (8, 1), "test": (8, 2)}
    dataset = datasets.DatasetDict(
        {s: datasets.Dataset.from_list(_rows(n, o)) for s, (n, o) in splits.items()}
    )
    dataset.cast_column("image", datasets.Image()).save_to_disk(str(path))
    return path


@pytest.fixture
def tiny_recipe(tiny_dataset, tmp_path):
    """Write a tiny recipe YAML (keys overridable) and return its path."""

    def make(**overrides) -> Path:
        recipe = {
            "dataset": str(tiny_dataset),
            "feature_cache_dir": str(tmp_path / "features"),
            "per_device_train_batch_size": 8,
            "gradient_accumulation_steps": 1,
            "num_train_epochs": 2,
            "learning_rate": 3e-3,
            "lr_scheduler_type": "constant",
            "lr_decay_every_epochs": 2,
            "eval_strategy": "epoch",
            "save_strategy": "epoch",
            "load_best_model_at_end": True,
            "logging_steps": 1,
            "judge_every_steps": -1,
            "tiny": {"num_layers": 1},
            "output_dir": str(tmp_path / "run"),
            **overrides,
        }
        path = tmp_path / "recipe.yaml"
        path.write_text(yaml.safe_dump(recipe))
        return path

    return make
