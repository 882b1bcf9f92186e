"""Result rows for `moda describe`: text, JSONL or CSV; written atomically; resumable.

Rows are streamed to `OUT.partial` (flushed and fsynced per batch, so an interrupted run keeps its work) and
the finished file replaces `OUT` in one `os.replace`: `OUT` is never half-written. `--resume` keeps the
described rows of `OUT.partial` (or of `OUT` when no partial exists), drops failed ones so they are retried,
and skips the inputs already described. Every row is one physical line (descriptions are single-spaced), so
a line torn by a crash is recognised by its missing newline and ignored.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from ..core.io import atomic_path

FORMATS = ("text", "jsonl", "csv")
CSV_FIELDS = ("path", "status", "description", "error")
FAILED_MARK = "[failed] "


@dataclass
class Row:
    path: str
    description: str | None = None  # None when the input failed
    error: str | None = None
    attributes: dict | None = None  # parsed from the description (JSONL only)

    @property
    def ok(self) -> bool:
        return self.error is None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def format_row(row: Row, fmt: str) -> str:
    """The row as one line of `fmt`, newline included."""
    if fmt == "jsonl":
        record: dict = {"path": row.path, "status": "ok" if row.ok else "failed"}
        if row.ok:
            record["description"] = _one_line(row.description or "")
            if row.attributes is not None:
                record["attributes"] = row.attributes
        else:
            record["error"] = _one_line(row.error or "")
        return json.dumps(record, ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        status = "ok" if row.ok else "failed"
        values = [row.path, status, _one_line(row.description or ""), _one_line(row.error or "")]
        csv.writer(buf, lineterminator="\n").writerow(values)
        return buf.getvalue()
    if fmt == "text":
        body = _one_line(row.description or "") if row.ok else FAILED_MARK + _one_line(row.error or "")
        return f"{row.path}\t{body}\n"
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")


def header(fmt: str) -> str:
    return ",".join(CSV_FIELDS) + "\n" if fmt == "csv" else ""


def parse_line(line: str, fmt: str) -> tuple[str, bool] | None:
    """(path, described ok) of one complete output line, or None for a header or an unreadable line."""
    try:
        if fmt == "jsonl":
            record = json.loads(line)
            return record["path"], record.get("status") == "ok"
        if fmt == "csv":
            values = next(csv.reader([line]))
            if values == list(CSV_FIELDS):
                return None
            return values[0], values[1] == "ok"
        path, body = line.rstrip("\n").split("\t", 1)
        return path, not body.startswith(FAILED_MARK)
    except (ValueError, KeyError, IndexError, StopIteration, TypeError):
        return None


def _complete_lines(path: str) -> Iterator[str]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.endswith("\n"):  # a torn last line (crash mid-write) has no newline
                yield line


class ResultWriter:
    """Writes rows to stdout, or to `out` via `out.partial` and an atomic rename on `close()`."""

    def __init__(self, out: str | None, fmt: str, resume: bool = False) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        if resume and out is None:
            raise ValueError("--resume needs --out (the file whose described inputs are skipped)")
        self.out, self.fmt = out, fmt
        self.done: set[str] = set()
        self.failed = 0
        if out is None:
            self._file: IO[str] = sys.stdout
            self._file.write(header(fmt))
            return
        self.partial = out + ".partial"
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        if resume:
            self._keep_described_rows()
            self._file = open(self.partial, "a", encoding="utf-8")
        else:
            self._file = open(self.partial, "w", encoding="utf-8")
            self._file.write(header(fmt))

    def _keep_described_rows(self) -> None:
        """Rewrite `out.partial` with the header and the described rows of the previous run."""
        source = self.partial if os.path.exists(self.partial) else self.out
        with atomic_path(self.partial) as tmp, open(tmp, "w", encoding="utf-8") as dst:
            dst.write(header(self.fmt))
            if os.path.exists(source):
                for line in _complete_lines(source):
                    parsed = parse_line(line, self.fmt)
                    if parsed is not None and parsed[1] and parsed[0] not in self.done:
                        self.done.add(parsed[0])
                        dst.write(line)
            dst.flush()
            os.fsync(dst.fileno())

    def write(self, rows: list[Row]) -> None:
        for row in rows:
            self.failed += not row.ok
            self._file.write(format_row(row, self.fmt))
        self._file.flush()
        if self.out is not None:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        """Finish: the partial file becomes `out` atomically."""
        if self.out is None:
            return
        self._file.close()
        os.replace(self.partial, self.out)
