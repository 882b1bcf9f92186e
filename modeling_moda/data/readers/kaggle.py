"""Kaggle "Fashion Product Images" layout: `styles.csv` + `images/<id>.jpg` (`moda catalog synth` too).

An optional sidecar `printed_text.jsonl` ({"id", "text"} per line) lists words printed on products.
"""

from __future__ import annotations

from pathlib import Path

from ...core.io import read_jsonl
from ...core.schema import CatalogItem, Reject, clean_value
from .csv_table import read_rows
from .mapping import item_from_row, warn_missing_columns

TABLE = "styles.csv"
SIDECAR = "printed_text.jsonl"
COLUMNS = {
    "id": "id",
    "gender": "gender",
    "master_category": "masterCategory",
    "sub_category": "subCategory",
    "article_type": "articleType",
    "base_colour": "baseColour",
    "season": "season",
    "year": "year",
    "usage": "usage",
    "product_title": "productDisplayName",
}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def is_kaggle_layout(root: Path) -> bool:
    return (root / TABLE).is_file()


def read_printed_text(root: Path) -> dict[str, list[str]]:
    """id -> printed words from the sidecar, if the catalog has one (a torn last line is ignored)."""
    printed: dict[str, list[str]] = {}
    for record in read_jsonl(root / SIDECAR):
        printed.setdefault(str(record["id"]), []).append(str(record["text"]))
    return printed


def find_image(images_dir: Path, item_id: str) -> str:
    for suffix in IMAGE_SUFFIXES:
        path = images_dir / f"{item_id}{suffix}"
        if path.is_file():
            return str(path)
    return str(images_dir / f"{item_id}.jpg")  # missing: the image check rejects it with this path


def read_kaggle(root: Path) -> tuple[list[CatalogItem], list[Reject]]:
    """Items and row-level rejects of a Kaggle-layout catalog folder."""
    header, rows = read_rows(root / TABLE, required=("id",))
    warn_missing_columns(str(root / TABLE), header, COLUMNS)
    printed = read_printed_text(root)
    items: list[CatalogItem] = []
    rejects: list[Reject] = []
    for line, row in rows:
        source = f"{TABLE} line {line}"
        if isinstance(row, str):
            rejects.append(Reject(id=f"<line {line}>", stage="catalog", reason=row, source=source))
            continue
        item_id = clean_value(row["id"])
        if item_id is None:
            rejects.append(Reject(id=f"<line {line}>", stage="catalog", reason="empty id", source=source))
            continue
        item = item_from_row(row, COLUMNS, item_id, find_image(root / "images", item_id), source)
        item.printed_text = printed.get(item_id, [])
        items.append(item)
    return items, rejects
