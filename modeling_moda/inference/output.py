"""Result rows for `moda describe`: text, JSONL, CSV or Parquet; per-rank part files; written atomically.

A run (one process or many) streams its rows to part files in `OUT.parts/` (one per rank and attempt, JSON
lines tagged with the input's index, flushed and fsynced per batch), and the merge writes `OUT` in input
order through a temporary file and one `os.replace`: `OUT` is never half-written. Every part line is one
physical line, so a line torn by a crash (SIGKILL mid-write) is recognised by its missing newline and
ignored; resuming keeps the described rows of the part files and redoes the rest (failed rows included).

Row fields: path, status ("ok" / "failed"), description or error, and the attributes with their confidence
(`core.attributes` schema). JSONL and Parquet keep the attributes nested; CSV flattens them into one value
and one confidence column per attribute (several colours joined with "; ") plus `min_confidence`; text is
`PATH<tab>DESCRIPTION`.
"""

from __future__ import annotations

import contextlib
import csv
import glob
import heapq
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from ..core.attributes import ATTRIBUTES, lowest_confidence
from ..core.io import atomic_path

FORMATS = ("text", "jsonl", "csv", "parquet")
CSV_FIELDS = (
    "path",
    "status",
    "description",
    "error",
    *(column for name in ATTRIBUTES for column in (name, f"{name}_confidence")),
    "min_confidence",
)
FAILED_MARK = "[failed] "
MULTI_VALUE_SEPARATOR = "; "  # several colours in one CSV cell
PARQUET_ROW_GROUP = 10_000  # rows buffered before a Parquet row group is written
PART_NAME = re.compile(r"part-a(\d+)-r(\d+)\.jsonl$")


@dataclass
class Row:
    path: str
    description: str | None = None  # None when the input failed
    error: str | None = None
    attributes: dict | None = None  # core.attributes schema, with confidence

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def min_confidence(self) -> float | None:
        weakest = lowest_confidence(self.attributes) if self.attributes else None
        return None if weakest is None else weakest[2]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def row_record(row: Row) -> dict:
    """The row as the JSON object of a JSONL line."""
    record: dict = {"path": row.path, "status": "ok" if row.ok else "failed"}
    if row.ok:
        record["description"] = _one_line(row.description or "")
        if row.attributes is not None:
            record["attributes"] = row.attributes
    else:
        record["error"] = _one_line(row.error or "")
    return record


def row_from_record(record: dict) -> Row:
    return Row(record["path"], record.get("description"), record.get("error"), record.get("attributes"))


def csv_values(row: Row) -> list[str]:
    status = "ok" if row.ok else "failed"
    values = [row.path, status, _one_line(row.description or ""), _one_line(row.error or "")]
    attributes = row.attributes or {}
    for name in ATTRIBUTES:
        found = attributes.get(name)
        entries = found if isinstance(found, list) else [found] if found else []
        values.append(MULTI_VALUE_SEPARATOR.join(str(e["value"]) for e in entries))
        values.append(MULTI_VALUE_SEPARATOR.join(str(e["confidence"]) for e in entries))
    weakest = row.min_confidence
    values.append("" if weakest is None else str(weakest))
    return values


def format_row(row: Row, fmt: str) -> str:
    """The row as one line of `fmt` (text, jsonl, csv), newline included."""
    if fmt == "jsonl":
        return json.dumps(row_record(row), ensure_ascii=False) + "\n"
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(csv_values(row))
        return buf.getvalue()
    if fmt == "text":
        body = _one_line(row.description or "") if row.ok else FAILED_MARK + _one_line(row.error or "")
        return f"{row.path}\t{body}\n"
    raise ValueError(f"unknown line format {fmt!r}; expected text, jsonl or csv")


def header(fmt: str) -> str:
    return ",".join(CSV_FIELDS) + "\n" if fmt == "csv" else ""


def parquet_schema() -> Any:
    import pyarrow as pa

    entry = pa.struct([("value", pa.string()), ("confidence", pa.float64())])
    article = pa.struct(
        [("value", pa.string()), ("types", pa.list_(pa.string())), ("confidence", pa.float64())]
    )
    attributes = pa.struct(
        [("colour", pa.list_(entry)), ("article_type", article), ("gender", entry), ("usage", entry)]
    )
    return pa.schema(
        [
            ("path", pa.string()),
            ("status", pa.string()),
            ("description", pa.string()),
            ("error", pa.string()),
            ("attributes", attributes),
            ("min_confidence", pa.float64()),
        ]
    )


def _parquet_row(row: Row) -> dict:
    record = row_record(row)
    return {
        "path": row.path,
        "status": record["status"],
        "description": record.get("description"),
        "error": record.get("error"),
        "attributes": row.attributes,
        "min_confidence": row.min_confidence,
    }


class OutputFile:
    """Rows in input order to `out` (atomically: a temporary file replaces `out` when the block ends without
    an error) or to stdout; Parquet is written in row groups, so no format holds all rows in memory."""

    def __init__(self, out: str | None, fmt: str) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
        if fmt == "parquet" and out is None:
            raise ValueError("--format parquet needs --out (Parquet is a binary file)")
        self.out, self.fmt = out, fmt
        self._stack = contextlib.ExitStack()
        self._file: IO[str] = sys.stdout
        self._parquet: Any = None
        self._pending: list[dict] = []

    def __enter__(self) -> OutputFile:
        if self.out is not None:
            tmp = self._stack.enter_context(atomic_path(self.out))
            if self.fmt == "parquet":
                import pyarrow.parquet as pq

                self._parquet = self._stack.enter_context(pq.ParquetWriter(str(tmp), parquet_schema()))
                return self
            self._file = self._stack.enter_context(open(tmp, "w", encoding="utf-8"))
        self._file.write(header(self.fmt))
        return self

    def write(self, row: Row) -> None:
        if self._parquet is None:
            self._file.write(format_row(row, self.fmt))
            return
        self._pending.append(_parquet_row(row))
        if len(self._pending) >= PARQUET_ROW_GROUP:
            self._flush_parquet()

    def _flush_parquet(self) -> None:
        import pyarrow as pa

        if self._pending:
            self._parquet.write_table(pa.Table.from_pylist(self._pending, schema=parquet_schema()))
            self._pending = []

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None and self._parquet is not None:
            self._flush_parquet()
        if self.out is not None and exc_type is None:
            self._file.flush()
            if self._parquet is None:
                os.fsync(self._file.fileno())
        elif self.out is None:
            self._file.flush()
        # the ExitStack closes the writer, then atomic_path moves the file into place (or drops it on error)
        self._stack.__exit__(exc_type, *_)


# --- part files: one per (attempt, rank); lines {"index": I, ...row_record} in increasing index ---


def _parts(parts_dir: str) -> list[tuple[int, int, str]]:
    """(attempt, rank, path) of the part files in `parts_dir`, oldest attempt first."""
    found = []
    for path in glob.glob(os.path.join(parts_dir, "part-a*-r*.jsonl")):
        match = PART_NAME.search(path)
        if match:
            found.append((int(match[1]), int(match[2]), path))
    return sorted(found)


def _part_records(path: str) -> Iterator[dict]:
    """The complete records of one part file (a torn last line, from a killed writer, is skipped)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.endswith("\n"):
                return
            try:
                yield json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash and then appended to: not a record
                continue


class PartWriter:
    """One rank's part file for this attempt: `PARTS/part-a<attempt>-r<rank>.jsonl`, never reopened, so
    each part file lists its indices in increasing order and parts merge as sorted streams."""

    def __init__(self, parts_dir: str, rank: int) -> None:
        os.makedirs(parts_dir, exist_ok=True)
        attempt = 1 + max((a for a, r, _ in _parts(parts_dir) if r == rank), default=-1)
        self.path = os.path.join(parts_dir, f"part-a{attempt:04d}-r{rank:05d}.jsonl")
        self._file = open(self.path, "x", encoding="utf-8")

    def write(self, rows: Iterable[tuple[int, Row]]) -> None:
        for index, row in rows:
            self._file.write(json.dumps({"index": index, **row_record(row)}, ensure_ascii=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def described_indices(parts_dir: str, wanted: Any = None) -> dict[int, str]:
    """{input index: path} of the inputs the part files describe (status ok); `wanted(index)` filters
    (a rank keeps only its own share)."""
    done: dict[int, str] = {}
    for _, _, path in _parts(parts_dir):
        for record in _part_records(path):
            index = record.get("index")
            if record.get("status") == "ok" and isinstance(index, int) and (wanted is None or wanted(index)):
                done[index] = record["path"]
    return done


def merged_records(parts_dir: str) -> Iterator[dict]:
    """Every part record, ordered by input index (for one index: older attempts first)."""
    streams = [_part_records(path) for _, _, path in _parts(parts_dir)]
    return heapq.merge(*streams, key=lambda record: record["index"])
