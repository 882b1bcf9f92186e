"""Training data: load the dataset a recipe names, and the rows Trainer iterates over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from .config import RecipeConfig


def load_split(config: RecipeConfig, split: str, limit: int | None = None) -> Any:
    """One split of the recipe's dataset: a local folder (`save_to_disk` output or data files) or a Hub id."""
    import datasets

    source = config.dataset
    if not source:
        raise ValueError("the recipe has no `dataset`: set it to a dataset folder or a Hub id")
    path = Path(source)
    if path.is_dir() and (
        (path / "dataset_dict.json").exists() or (path / split / "dataset_info.json").exists()
    ):
        loaded = datasets.load_from_disk(str(path))
        if split not in loaded:
            raise ValueError(f"{path}: no split {split!r} (has {sorted(loaded)})")
        ds = loaded[split]
    else:
        try:
            ds = datasets.load_dataset(source, split=split, revision=config.dataset_revision)
        except ValueError as err:
            raise ValueError(f"{source}: cannot load split {split!r}: {err}") from err
    for column in (config.id_column, config.image_column, config.text_column):
        if column not in ds.column_names:
            raise ValueError(
                f"{source} [{split}]: no column {column!r} (columns: {ds.column_names}); "
                "map yours with id_column / image_column / text_column in the recipe"
            )
    if limit is not None and limit < len(ds):
        ds = ds.select(range(limit))
    return ds


def feature_cache_root(config: RecipeConfig) -> Path:
    """Where cached features live: beside a local dataset, else under the run's output folder."""
    if config.feature_cache_dir:
        return Path(config.feature_cache_dir)
    if Path(config.dataset).is_dir():
        return Path(config.dataset) / "feature_cache"
    return Path(config.output_dir) / "feature_cache"


class LazyColumn:
    """`column[i]` reads row i only: images are decoded when asked for, not all at once."""

    def __init__(self, split: Any, column: str) -> None:
        self.split = split
        self.column = column

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> Any:
        return self.split[index][self.column]


class DescriptionRows(Dataset):
    """Rows for the collator: {"id", "description", and "vision_embeds" [N_v, D_v] or "image"}.

    With `features` (from the feature cache) images are never decoded; without, each row carries its image.
    """

    def __init__(self, split: Any, config: RecipeConfig, features: torch.Tensor | None = None) -> None:
        self.split = split
        self.config = config
        self.features = features
        columns = [config.id_column, config.text_column]
        self.table = split.select_columns(columns) if features is not None else split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.table[index]
        item = {"id": row[self.config.id_column], "description": row[self.config.text_column]}
        if self.features is not None:
            item["vision_embeds"] = self.features[index]
        else:
            item["image"] = row[self.config.image_column]
        return item
