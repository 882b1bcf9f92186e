"""The seed notebook's "fashion-images" layout: `fashion.csv` + image folders.

Columns ProductId, Gender, Category, SubCategory, ProductType, Colour, Usage, ProductTitle, Image; the Image
column names a file found anywhere under the folder (the original splits images into
`<Category>/<Gender>/Images/images_with_product_ids/`). A file name found in several folders is resolved
by the folder that names the row's category and gender.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from ...core.schema import CatalogItem, Reject, clean_value
from .csv_table import read_rows
from .mapping import item_from_row, warn_missing_columns

TABLE = "fashion.csv"
COLUMNS = {
    "id": "ProductId",
    "gender": "Gender",
    "master_category": "Category",
    "sub_category": "SubCategory",
    "article_type": "ProductType",
    "base_colour": "Colour",
    "usage": "Usage",
    "product_title": "ProductTitle",
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def is_fashion_images_layout(root: Path) -> bool:
    return (root / TABLE).is_file()


def index_images(root: Path) -> dict[str, list[Path]]:
    """file name -> every path with that name under root."""
    index: dict[str, list[Path]] = defaultdict(list)
    for path in root.rglob("*"):
        if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file():
            index[path.name].append(path)
    return index


def resolve_image(candidates: list[Path], row: dict, root: Path) -> Path | str:
    """The one path for a row, or a problem string."""
    if len(candidates) == 1:
        return candidates[0]
    hints = {str(row.get("Category", "")).lower(), str(row.get("Gender", "")).lower()} - {""}
    matching = [p for p in candidates if hints <= {part.lower() for part in p.relative_to(root).parts}]
    if len(matching) == 1:
        return matching[0]
    return f"image name is ambiguous: {[str(p) for p in candidates]}"


def read_fashion_images(root: Path) -> tuple[list[CatalogItem], list[Reject]]:
    """Items and row-level rejects of a fashion-images catalog folder."""
    header, rows = read_rows(root / TABLE, required=("ProductId", "Image"))
    warn_missing_columns(str(root / TABLE), header, COLUMNS)
    images = index_images(root)
    items: list[CatalogItem] = []
    rejects: list[Reject] = []
    for line, row in rows:
        source = f"{TABLE} line {line}"
        if isinstance(row, str):
            rejects.append(Reject(id=f"<line {line}>", stage="catalog", reason=row, source=source))
            continue
        item_id = clean_value(row["ProductId"])
        name = clean_value(row["Image"])
        if item_id is None or name is None:
            reason = "empty ProductId" if item_id is None else "empty Image cell"
            rejects.append(
                Reject(id=item_id or f"<line {line}>", stage="catalog", reason=reason, source=source)
            )
            continue
        found = resolve_image(images.get(name, []), row, root) if images.get(name) else root / name
        if isinstance(found, str):
            rejects.append(Reject(id=item_id, stage="catalog", reason=found, source=source))
            continue
        items.append(item_from_row(row, COLUMNS, item_id, str(found), source))
    return items, rejects
