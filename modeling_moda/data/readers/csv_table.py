"""Reading a catalog CSV with per-row problems reported instead of raised."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


class CatalogError(ValueError):
    """A catalog that cannot be read at all (no table, no id column); names the file and the problem."""


def read_rows(path: Path, required: tuple[str, ...]) -> tuple[list[str], Iterator[tuple[int, dict | str]]]:
    """The header and an iterator of (line number, row dict | problem string).

    Rows with more fields than the header (Kaggle's styles.csv has product titles with unquoted commas)
    fold the extra fields into the last column; rows with fewer fields are reported as problems.
    Raises CatalogError when the file is missing, empty, or lacks a column in `required`.
    """
    if not path.is_file():
        raise CatalogError(f"catalog table not found: {path}")
    handle = path.open(newline="", encoding="utf-8-sig", errors="replace")
    reader = csv.reader(handle)
    header = [name.strip() for name in next(reader, [])]
    if not header:
        handle.close()
        raise CatalogError(f"{path}: empty file, expected a header row")
    missing = [name for name in required if name not in header]
    if missing:
        handle.close()
        raise CatalogError(f"{path}: missing required column(s) {missing}; found columns {header}")

    def rows() -> Iterator[tuple[int, dict | str]]:
        with handle:
            for fields in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in fields):
                    continue
                if len(fields) > len(header):
                    fields = fields[: len(header) - 1] + [",".join(fields[len(header) - 1 :])]
                if len(fields) < len(header):
                    yield (
                        line,
                        f"too few fields: {path.name} line {line} has {len(fields)}, expected {len(header)}",
                    )
                    continue
                yield line, dict(zip(header, fields, strict=True))

    return header, rows()
