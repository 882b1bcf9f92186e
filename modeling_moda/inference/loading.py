"""Load input images for a batch run: checked, one batch at a time, the next batch decoded in the background.

Every image goes through the processor's `load_image` (the one loader: any mode -> RGB, EXIF orientation,
decompression-bomb guard). Cheap checks run first so the reason a file failed is plain: missing, empty,
larger than the size limit. Whatever the loader raises becomes the reason; the run goes on.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from modeling_moda.inference.inputs import InputItem

DEFAULT_MAX_FILE_MB = 64.0


@dataclass
class LoadedBatch:
    """The inputs of one batch that loaded with their images, and the inputs that did not (item, reason)."""

    items: list[Any] = field(default_factory=list)  # InputItem-like: .path, .error, .fetch
    images: list[Any] = field(default_factory=list)  # PIL images, RGB
    failed: list[tuple[Any, str]] = field(default_factory=list)

    @property
    def paths(self) -> list[str]:
        return [item.path for item in self.items]


def check_file(path: str, max_file_bytes: int) -> str | None:
    """The reason `path` cannot be an image before reading a byte of it, or None."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        return "file not found"
    except OSError as e:
        return f"cannot stat file ({e.strerror or e})"
    if not os.path.isfile(path):
        return "not a regular file"
    if size == 0:
        return "empty file (0 bytes)"
    if size > max_file_bytes:
        return f"file too large ({size / 2**20:.1f} MB > limit {max_file_bytes / 2**20:.0f} MB)"
    return None


def _reason(path: str, error: Exception) -> str:
    """The loader's message without the path it starts with (the row already names the path)."""
    message = str(error).removeprefix(f"{path}: ").removeprefix("<bytes>: ")  # bytes: a dataset row
    return message if isinstance(error, ValueError) else f"{type(error).__name__}: {message}"


def load_batch(
    items: Iterable[InputItem], load_image: Callable[[Any], Any], max_file_bytes: int
) -> LoadedBatch:
    """Load each item's image: a file by its path (checked first), a dataset row by its `fetch`."""
    batch = LoadedBatch()
    for item in items:
        reason = item.error or (None if item.fetch else check_file(item.path, max_file_bytes))
        if reason is None:
            try:
                image = load_image(item.fetch() if item.fetch else item.path)
                image.load()  # decode now: a truncated file fails here, not inside the processor
                batch.items.append(item)
                batch.images.append(image)
                continue
            except Exception as e:  # the loader's own error names the problem; keep the run going
                reason = _reason(item.path, e)
        batch.failed.append((item, reason))
    return batch


def iter_loaded_batches(
    items: Iterable[InputItem],
    load_image: Callable[[Any], Any],
    batch_size: int,
    max_file_bytes: int = int(DEFAULT_MAX_FILE_MB * 2**20),
) -> Iterator[LoadedBatch]:
    """Group `items` into batches of `batch_size` inputs and load them, one batch ahead in a thread
    (image decoding releases the GIL, so it overlaps the model's work). At most two batches live at once.
    """
    source = iter(items)
    chunks = iter(lambda: list(itertools.islice(source, batch_size)), [])
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = None
        for chunk in chunks:
            future = pool.submit(load_batch, chunk, load_image, max_file_bytes)
            if pending is not None:
                yield pending.result()
            pending = future
        if pending is not None:
            yield pending.result()
