"""An append-only JSONL response cache that survives being killed at any instant.

Each `put` appends one line `{"key": ..., "value": ...}` with a single write, then flushes and fsyncs, so a
finished call is on disk before the caller moves on. A process killed mid-write leaves at most one torn last
line; loading ignores it and cuts it off, so the next append starts on a clean line. A key written twice keeps
its last value. One process should write a given file (give each shard its own cache file); threads are safe.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any

__all__ = ["JsonlCache", "make_key"]


def make_key(**parts: Any) -> str:
    """A stable hash of JSON-serialisable parts: `make_key(item="1", step="teacher", model=m, prompt="v1")`.

    The same parts give the same key in any process and on any machine (keys are sorted, no `repr`).
    """
    blob = json.dumps(parts, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


class JsonlCache:
    """`cache.get(key)`, `cache.put(key, value)`, `key in cache`, `len(cache)`; values are any JSON."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._data: dict[str, Any] = {}
        self.torn_lines = 0  # a killed writer's half-written last line, dropped (and cut off) on load
        self.skipped_lines = 0  # unreadable complete lines, skipped with a warning naming file:line
        self._load()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return self._data.get(key, default)

    def put(self, key: str, value: Any) -> None:
        """Append `value` under `key` and make it durable (fsync) before returning."""
        line = json.dumps({"key": key, "value": value}, ensure_ascii=False, separators=(",", ":")) + "\n"
        data = line.encode("utf-8")
        with self._lock:
            written = 0
            while written < len(data):  # os.write may write less than asked
                written += os.write(self._fd, data[written:])
            os.fsync(self._fd)
            self._data[key] = value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._data

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._data)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> JsonlCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def _load(self) -> None:
        if not self.path.exists():
            return
        raw = self.path.read_bytes()
        *complete, tail = raw.split(b"\n")  # `tail` is what follows the last newline ("" when none)
        for lineno, line in enumerate(complete, start=1):
            if line.strip() and not self._read_line(line):
                self.skipped_lines += 1
                warnings.warn(f"{self.path}:{lineno}: skipping unreadable cache line", stacklevel=3)
        if not tail.strip():
            return
        # A last line without its newline: a writer died mid-line (drop it) or right before the newline.
        with open(self.path, "r+b") as f:
            if self._read_line(tail):
                f.seek(len(raw))
                f.write(b"\n")
            else:
                self.torn_lines += 1
                f.truncate(len(raw) - len(tail))
            f.flush()
            os.fsync(f.fileno())

    def _read_line(self, line: bytes) -> bool:
        try:
            record = json.loads(line)
            self._data[record["key"]] = record["value"]
        except (ValueError, KeyError, TypeError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return False
        return True
