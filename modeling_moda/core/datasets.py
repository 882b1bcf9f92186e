"""The one dataset loader: a `moda dataset build` folder, a `save_to_disk` folder, or a Hub id."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def load_split(source: str, split: str, revision: str | None = None, limit: int | None = None) -> Any:
    """One split of a dataset as a `datasets.Dataset`; `limit` keeps the first rows.

    `source` is a folder written by `save_to_disk` (a DatasetDict or one Dataset), a folder in the Hub layout
    (`data/<split>-*.parquet`, what `moda dataset build` writes), or a Hub id (`revision` pins a commit).
    Raises ValueError naming the source and the splits it has when `split` is missing.
    """
    import datasets

    if not source:
        raise ValueError("no dataset given: name a dataset folder or a Hub id")
    path = Path(source)
    saved = path.is_dir() and any(
        (path / marker).is_file() for marker in ("dataset_dict.json", "dataset_info.json", "state.json")
    )
    try:
        if saved:
            loaded = datasets.load_from_disk(str(path))
        else:
            loaded = datasets.load_dataset(str(source), revision=revision)
    except (FileNotFoundError, ValueError) as err:
        raise ValueError(f"{source}: cannot load the dataset: {err}") from err
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise ValueError(f"{source}: no split {split!r} (has {', '.join(loaded)})")
        loaded = loaded[split]
    if limit is not None and limit < len(loaded):
        loaded = loaded.select(range(limit))
    return loaded
