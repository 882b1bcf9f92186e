"""Helpers that write small catalog fixtures (CSV tables, JPEG files)."""

from __future__ import annotations

import csv
from pathlib import Path

from PIL import Image

KAGGLE_HEADER = ["id", "gender", "masterCategory", "subCategory", "articleType", "baseColour", "season",
                 "year", "usage", "productDisplayName"]  # fmt: skip


def write_jpeg(path: Path, colour: tuple[int, int, int] = (200, 30, 30)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (24, 32), colour).save(path, format="JPEG")
    return path


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def kaggle_row(item_id: str, article: str = "Tshirts", colour: str = "Red") -> list[str]:
    return [item_id, "Men", "Apparel", "Topwear", article, colour, "Summer", "2012.0", "Casual",
            f"Acme Men {colour} {article}"]  # fmt: skip
