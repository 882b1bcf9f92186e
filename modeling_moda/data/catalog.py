"""Reading any supported catalog into checked `CatalogItem`s plus `Reject`s (with a reason each)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..core.images import image_problem
from ..core.schema import REQUIRED_FIELDS, CatalogItem, Reject
from .readers.csv_table import CatalogError
from .readers.fashion_images import is_fashion_images_layout, read_fashion_images
from .readers.hf_dataset import read_hf_dataset
from .readers.kaggle import is_kaggle_layout, read_kaggle

logger = logging.getLogger(__name__)
FORMATS = ("auto", "kaggle", "fashion-images", "datasets")

__all__ = ["CatalogError", "FORMATS", "read_catalog", "check_items"]


def detect_format(source: str) -> str:
    root = Path(source)
    if is_kaggle_layout(root):
        return "kaggle"
    if is_fashion_images_layout(root):
        return "fashion-images"
    return "datasets"


def item_problem(item: CatalogItem) -> str | None:
    """Why a read item cannot be described, or None."""
    metadata = item.metadata()
    if all(value is None for value in metadata.values()):
        return "empty metadata: every metadata field is empty"
    missing = [name for name in REQUIRED_FIELDS if metadata[name] is None]
    if missing:
        return f"empty metadata: {', '.join(missing)} missing"
    if isinstance(item.image, str) and not os.path.isfile(item.image):
        return f"image file not found: {item.image}"
    problem = image_problem(item.image)
    return None if problem is None else f"unreadable image: {problem}"


def check_items(items: list[CatalogItem]) -> tuple[list[CatalogItem], list[Reject]]:
    """Keep items with an id seen once, usable metadata and a decodable image; reject the rest.

    Every copy of a duplicated id is rejected: which row is right cannot be known.
    """
    counts: dict[str, int] = {}
    for item in items:
        counts[item.id] = counts.get(item.id, 0) + 1
    kept: list[CatalogItem] = []
    rejects: list[Reject] = []
    for item in items:
        if counts[item.id] > 1:
            problem = f"duplicate id: {counts[item.id]} rows share id {item.id!r}"
        else:
            problem = item_problem(item)
        if problem is None:
            kept.append(item)
        else:
            rejects.append(Reject(id=item.id, stage="catalog", reason=problem, source=item.source))
    return kept, rejects


def read_catalog(
    source: str, format: str = "auto", columns: dict[str, str] | None = None, split: str = "train"
) -> tuple[list[CatalogItem], list[Reject]]:
    """All usable items of a catalog and the rejected ones; logs one warning per problem.

    `source` is a catalog folder (Kaggle `styles.csv` layout, `fashion.csv` layout) or a `datasets` source
    (Hub id or folder) read with the column mapping `columns`. Raises CatalogError when the catalog as a
    whole is unreadable (no table, no id/image column).
    """
    if format not in FORMATS:
        raise ValueError(f"unknown catalog format {format!r}; one of {FORMATS}")
    chosen = detect_format(source) if format == "auto" else format
    if chosen == "kaggle":
        items, rejects = read_kaggle(Path(source))
    elif chosen == "fashion-images":
        items, rejects = read_fashion_images(Path(source))
    else:
        items, rejects = read_hf_dataset(source, columns=columns, split=split)
    kept, more = check_items(items)
    rejects += more
    for reject in rejects:
        logger.warning("rejected %s (%s): %s", reject.id, reject.source, reject.reason)
    logger.info("%s: %d items usable, %d rejected (%s layout)", source, len(kept), len(rejects), chosen)
    return kept, rejects
