"""Stream image inputs lazily: files, folders (recursive), glob patterns, CSV/JSONL listings, and datasets.

Nothing here reads pixels or holds the whole list of inputs: `iter_inputs` is a generator, so a run over
100,000 images keeps only the current batch in memory. A listing row that names no image becomes an
`InputItem` with an `error`, so the caller reports it as failed and goes on.

A dataset (a `save_to_disk` folder, a `moda dataset build` folder, or `hf://datasets/ORG/NAME`) is loaded
with the project's one loader (`core.datasets.load_split`: Arrow, memory-mapped) and yields one item per
row, named `SOURCE[SPLIT]#ROW`; a row's encoded image is read only when that item is loaded.
"""

from __future__ import annotations

import csv
import glob
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from modeling_moda.core.datasets import load_split

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".jfif", ".ppm", ".pgm"}
)
LISTING_EXTENSIONS = frozenset({".csv", ".jsonl"})
# column / key names that hold the image path in a listing, in order of preference
PATH_KEYS = ("image", "path", "image_path", "file", "filename", "file_name")
GLOB_CHARS = frozenset("*?[")
HUB_DATASET_PREFIX = "hf://datasets/"
# files that mark a folder as a `save_to_disk` dataset (as core.datasets.load_split reads them)
SAVED_DATASET_MARKERS = ("dataset_dict.json", "dataset_info.json", "state.json")
DEFAULT_SPLIT = "train"
DEFAULT_IMAGE_COLUMN = "image"


@dataclass(frozen=True)
class InputItem:
    """One input to describe: its path as the user named it (a dataset row: `SOURCE[SPLIT]#ROW`), or why it
    cannot be one. `fetch`, for a dataset row, reads its encoded image (bytes, or a path) when it is loaded;
    `index` is its position in the input stream, which a sharded run sets."""

    path: str
    error: str | None = None
    fetch: Callable[[], Any] | None = None
    index: int | None = None


def is_image_name(name: str) -> bool:
    return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def iter_folder(folder: str) -> Iterator[InputItem]:
    """Every image file under `folder`, recursively, in a stable (sorted, depth-first) order."""
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            if is_image_name(name):
                yield InputItem(os.path.join(root, name))


def _resolve(listing: str, value: str) -> str:
    """A relative path in a listing is relative to the listing's folder."""
    if os.path.isabs(value):
        return value
    return os.path.join(os.path.dirname(listing), value)


def _path_from_row(row: dict, listing: str, where: str) -> InputItem:
    for key in PATH_KEYS:
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return InputItem(_resolve(listing, value.strip()))
    return InputItem(where, error=f"no image path in this row (expected a key among {', '.join(PATH_KEYS)})")


def iter_csv(listing: str) -> Iterator[InputItem]:
    """Image paths from a CSV with a header; the column is the first of `PATH_KEYS` present."""
    with open(listing, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = [name.strip().lower() for name in reader.fieldnames or []]
        if not any(key in fields for key in PATH_KEYS):
            raise ValueError(f"{listing}: no image path column; expected one of {', '.join(PATH_KEYS)}")
        for line_no, row in enumerate(reader, start=2):
            row = {(k or "").strip().lower(): v for k, v in row.items()}
            yield _path_from_row(row, listing, f"{listing}:{line_no}")


def iter_jsonl(listing: str) -> Iterator[InputItem]:
    """Image paths from a JSONL file: one object per line with an image path under one of `PATH_KEYS`."""
    with open(listing, encoding="utf-8") as f:
        for line_no, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{listing}:{line_no}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                yield InputItem(where, error=f"invalid JSON ({e.msg})")
                continue
            if isinstance(row, str):
                row = {"path": row}
            if not isinstance(row, dict):
                yield InputItem(where, error="expected a JSON object or string")
                continue
            yield _path_from_row({str(k).lower(): v for k, v in row.items()}, listing, where)


def is_dataset_folder(folder: str) -> bool:
    """A `save_to_disk` folder or a folder in the Hub layout (`data/*.parquet`, what `moda dataset build`
    writes), rather than a folder of image files."""
    if any(os.path.isfile(os.path.join(folder, marker)) for marker in SAVED_DATASET_MARKERS):
        return True
    return bool(glob.glob(os.path.join(folder, "data", "*.parquet")))


def _row_image(value: Any, where: str) -> Any:
    """The encoded image of a dataset cell: bytes, or the path it names."""
    if isinstance(value, dict):  # an Image feature read with decode=False: {"bytes": ..., "path": ...}
        value = value.get("bytes") or value.get("path")
    if isinstance(value, (bytes, str)) and value:
        return value
    raise ValueError(f"{where}: no image in this row (got {type(value).__name__})")


def iter_dataset(
    source: str,
    split: str = DEFAULT_SPLIT,
    image_column: str = DEFAULT_IMAGE_COLUMN,
    limit: int | None = None,
) -> Iterator[InputItem]:
    """One item per row of a dataset split, in row order; each reads its image only when fetched."""
    import datasets

    rows = load_split(source.removeprefix(HUB_DATASET_PREFIX), split, limit=limit)
    if image_column not in rows.column_names:
        raise ValueError(f"{source} [{split}]: no image column {image_column!r} (has {rows.column_names})")
    if isinstance(rows.features[image_column], datasets.Image):
        rows = rows.cast_column(
            image_column, datasets.Image(decode=False)
        )  # the bytes, decoded by our loader
    cells = rows.select_columns([image_column])

    def fetch(row: int, where: str) -> Callable[[], Any]:
        return lambda: _row_image(cells[row][image_column], where)

    for row in range(len(cells)):
        where = f"{source}[{split}]#{row}"
        yield InputItem(where, fetch=fetch(row, where))


def iter_inputs(
    sources: Iterable[str], split: str = DEFAULT_SPLIT, image_column: str = DEFAULT_IMAGE_COLUMN
) -> Iterator[InputItem]:
    """Expand each source lazily: a folder -> its images, a .csv/.jsonl -> the paths it lists,
    a dataset folder or `hf://datasets/ORG/NAME` -> the `image_column` of its `split`'s rows,
    a glob pattern -> the matches (folders and listings among them are expanded too; with `**`, folders
    are skipped since their files match), anything else -> itself.

    A path that does not exist is yielded as is: loading it fails and it is reported like any bad file.
    """
    for source in sources:
        if source.startswith(HUB_DATASET_PREFIX) or (os.path.isdir(source) and is_dataset_folder(source)):
            yield from iter_dataset(source, split, image_column)
        elif os.path.isdir(source):
            yield from iter_folder(source)
        elif os.path.isfile(source) and os.path.splitext(source)[1].lower() in LISTING_EXTENSIONS:
            yield from (iter_csv(source) if source.lower().endswith(".csv") else iter_jsonl(source))
        elif not os.path.exists(source) and GLOB_CHARS & set(source):
            matched = False
            for match in glob.iglob(source, recursive=True):
                matched = True
                if os.path.isdir(match) and "**" in source:
                    continue  # a recursive pattern already matches the files below this folder
                yield from iter_inputs([match], split, image_column)
            if not matched:
                yield InputItem(source, error="glob pattern matched no files")
        else:
            yield InputItem(source)
