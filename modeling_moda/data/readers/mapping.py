"""Turning one source row into a `CatalogItem` through a column mapping (internal field -> source column)."""

from __future__ import annotations

import logging

from ...core.schema import METADATA_FIELDS, CatalogItem, clean_value, clean_year

logger = logging.getLogger(__name__)


def warn_missing_columns(source: str, columns: list[str], mapping: dict[str, str]) -> None:
    """Say once per catalog which mapped metadata columns it lacks (those fields stay empty)."""
    for field, column in mapping.items():
        if field in METADATA_FIELDS and column not in columns:
            logger.warning(
                "%s: no column %r (field %r stays empty); columns: %s", source, column, field, columns
            )


def item_from_row(
    row: dict, mapping: dict[str, str], item_id: str, image: str | bytes, source: str
) -> CatalogItem:
    """The item for one row; fields whose column is unmapped or absent are None."""
    values = {}
    for field in METADATA_FIELDS:
        column = mapping.get(field)
        raw = row.get(column) if column is not None else None
        values[field] = clean_year(raw) if field == "year" else clean_value(raw)
    return CatalogItem(id=item_id, image=image, source=source, **values)
