"""Writing a shard's rows as parquet files in the Hub dataset layout, atomically.

Files are `data/<split>-<shard>-of-<num_shards>-part<k>.parquet`, with the `datasets` features (the image as
`datasets.Image`, stored as its original encoded bytes) in the parquet schema metadata. Rows stream into
temporary files under `.moda/`; `commit()` moves them into `data/` (one `os.replace` each) after removing the
shard's files of an earlier run. A split without rows gets no file (`load_dataset` refuses empty splits).
"""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ..core.schema import SPLITS, dataset_features


def shard_tag(shard_index: int, num_shards: int) -> str:
    return f"{shard_index:05d}-of-{num_shards:05d}"


class ShardWriter:
    def __init__(self, out: Path, shard_index: int, num_shards: int, rows_per_file: int = 1000):
        self.out = out
        self.tag = shard_tag(shard_index, num_shards)
        self.num_shards = num_shards
        self.rows_per_file = rows_per_file
        self.features = dataset_features()
        self.schema = self.features.arrow_schema
        self.tmp_dir = out / ".moda" / f"tmp-{self.tag}"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.tmp_dir.glob("*.parquet"):
            stale.unlink()
        self._writers: dict[str, pq.ParquetWriter] = {}
        self._rows_in_file: dict[str, int] = {}
        self._files: dict[str, list[Path]] = {split: [] for split in SPLITS}
        self._buffers: dict[str, list[dict]] = {split: [] for split in SPLITS}

    def add(self, split: str, row: dict) -> None:
        self._buffers[split].append(self.features.encode_example(row))
        if len(self._buffers[split]) >= 64:
            self._flush(split)

    def _flush(self, split: str) -> None:
        rows = self._buffers[split]
        while rows:
            writer = self._writer(split)
            room = self.rows_per_file - self._rows_in_file[split]
            chunk, rows = rows[:room], rows[room:]
            writer.write_table(pa.Table.from_pylist(chunk, schema=self.schema))
            self._rows_in_file[split] += len(chunk)
            if self._rows_in_file[split] >= self.rows_per_file:
                writer.close()
                del self._writers[split]
        self._buffers[split] = []

    def _writer(self, split: str) -> pq.ParquetWriter:
        if split not in self._writers:
            path = self.tmp_dir / f"{split}-{self.tag}-part{len(self._files[split]):03d}.parquet"
            self._files[split].append(path)
            self._writers[split] = pq.ParquetWriter(path, self.schema)
            self._rows_in_file[split] = 0
        return self._writers[split]

    def commit(self) -> list[Path]:
        """Close the files and move them into `data/`, replacing this shard's files of earlier runs (and any
        file written under a different number of shards). Returns the final paths."""
        for split in SPLITS:
            self._flush(split)
        for writer in self._writers.values():
            writer.close()
        self._writers.clear()
        data = self.out / "data"
        data.mkdir(parents=True, exist_ok=True)
        for old in data.glob("*.parquet"):
            if f"-{self.tag}-" in old.name or f"-of-{self.num_shards:05d}-" not in old.name:
                old.unlink()
        final = []
        for split in SPLITS:
            for path in self._files[split]:
                target = data / path.name
                os.replace(path, target)
                final.append(target)
        self.tmp_dir.rmdir()
        return final
