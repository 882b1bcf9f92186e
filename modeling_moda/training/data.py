"""Training data: the recipe's splits (core's loader) and the rows Trainer iterates over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch.utils.data import Dataset

from modeling_moda.core.datasets import load_split

from .config import DataArguments


def load_recipe_split(data: DataArguments, split: str, limit: int | None = None) -> Any:
    """One split of the recipe's dataset, checked for the id / image / text columns the recipe names."""
    ds = load_split(data.dataset, split, revision=data.dataset_revision, limit=limit)
    for column in (data.id_column, data.image_column, data.text_column):
        if column not in ds.column_names:
            raise ValueError(
                f"{data.dataset} [{split}]: no column {column!r} (columns: {ds.column_names}); "
                "map yours with id_column / image_column / text_column in the recipe"
            )
    return ds


def feature_cache_root(data: DataArguments, output_dir: str) -> Path:
    """Where cached features live: beside a local dataset, else under the run's output folder."""
    if data.feature_cache_dir:
        return Path(data.feature_cache_dir)
    if Path(data.dataset).is_dir():
        return Path(data.dataset) / "feature_cache"
    return Path(output_dir) / "feature_cache"


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

    def __init__(self, split: Any, data: DataArguments, features: torch.Tensor | None = None) -> None:
        self.split = split
        self.data = data
        self.features = features
        columns = [data.id_column, data.text_column]
        self.table = split.select_columns(columns) if features is not None else split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.table[index]
        item = {"id": row[self.data.id_column], "description": row[self.data.text_column]}
        if self.features is not None:
            item["vision_embeds"] = self.features[index]
        else:
            item["image"] = row[self.data.image_column]
        return item
