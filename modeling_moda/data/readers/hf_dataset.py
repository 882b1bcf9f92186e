"""Any `datasets` dataset (Hub id, local Hub-layout folder, or `save_to_disk` folder) via a column mapping."""

from __future__ import annotations

from pathlib import Path

from ...core.datasets import load_split
from ...core.schema import CatalogItem, Reject, clean_value
from .csv_table import CatalogError
from .kaggle import COLUMNS as KAGGLE_COLUMNS
from .mapping import item_from_row, warn_missing_columns

# Default mapping: the Kaggle column names (which Hub copies of that catalog keep) + an `image` column.
DEFAULT_COLUMNS = {**KAGGLE_COLUMNS, "image": "image"}


def read_hf_dataset(
    source: str, columns: dict[str, str] | None = None, split: str = "train"
) -> tuple[list[CatalogItem], list[Reject]]:
    """Items and row-level rejects of a `datasets` dataset; `columns` maps internal fields to its columns
    (over the defaults: Kaggle names or internal names; map "id" to a missing column to number rows)."""
    from datasets import Image

    try:
        dataset = load_split(source, split)
    except ValueError as err:
        raise CatalogError(str(err)) from err
    names = list(dataset.column_names)
    # Kaggle column names, else internal field names (as `moda dataset build` writes), then `columns`.
    mapping = {
        field: column if column in names or field not in names else field
        for field, column in DEFAULT_COLUMNS.items()
    }
    mapping.update(columns or {})
    if mapping["image"] not in names:
        raise CatalogError(f"{source}: no image column {mapping['image']!r}; columns: {names}")
    warn_missing_columns(source, names, mapping)
    if isinstance(dataset.features[mapping["image"]], Image):
        dataset = dataset.cast_column(mapping["image"], Image(decode=False))
    base = Path(source) if Path(source).is_dir() else Path.cwd()
    items: list[CatalogItem] = []
    rejects: list[Reject] = []
    for index, row in enumerate(dataset):
        where = f"{source} [{split}] row {index}"
        item_id = clean_value(row.get(mapping["id"])) if mapping["id"] in names else str(index)
        if item_id is None:
            rejects.append(Reject(id=f"<row {index}>", stage="catalog", reason="empty id", source=where))
            continue
        cell = row[mapping["image"]]
        if isinstance(cell, dict):
            image = cell.get("bytes") or (str(base / cell["path"]) if cell.get("path") else None)
        else:
            image = str(base / cell) if cell else None
        if image is None:
            rejects.append(Reject(id=item_id, stage="catalog", reason="empty image cell", source=where))
            continue
        items.append(item_from_row(row, mapping, item_id, image, where))
    return items, rejects
