"""Statistics a build measures (per shard, saved as JSON) and their merge across shards for the card."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from pathlib import Path

from ..core.schema import SPLITS, Reject

COUNTED = ("master_category", "article_type", "base_colour", "gender", "usage")
SUMMED = ("teacher_calls", "refiner_calls", "teacher_repaired", "refiner_repaired", "teacher_retried",
          "refiner_retried", "raw_with_printed_text", "removed_by_refiner", "check_rows", "check_spans",
          "prompt_tokens", "completion_tokens", "catalog_items")  # fmt: skip


def new_stats() -> dict:
    return {
        "rows": dict.fromkeys(SPLITS, 0),
        "counts": {name: {} for name in COUNTED},
        "description_words": {},
        "rejects": {},
        "reject_reasons": {},
        **dict.fromkeys(SUMMED, 0),
    }


def count_row(stats: dict, split: str, row: dict) -> None:
    stats["rows"][split] += 1
    for name in COUNTED:
        value = row.get(name) or "(none)"
        stats["counts"][name][value] = stats["counts"][name].get(value, 0) + 1
    words = str(len(row["description"].split()))
    stats["description_words"][words] = stats["description_words"].get(words, 0) + 1


def count_reject(stats: dict, reject: Reject) -> None:
    stats["rejects"][reject.stage] = stats["rejects"].get(reject.stage, 0) + 1
    kind = (
        f"{reject.stage}: {reject.reason.split(':')[0]}"  # reasons start with their kind: "duplicate id: ..."
    )
    stats["reject_reasons"][kind] = stats["reject_reasons"].get(kind, 0) + 1


def merge(all_stats: list[dict]) -> dict:
    """One stats dict summing every shard's counts; labels (teacher, refiner, ...) from the first shard."""
    merged = new_stats()
    for key in ("teacher", "refiner", "prompt_version", "source", "num_shards"):
        merged[key] = all_stats[0].get(key) if all_stats else None
    merged["shards"] = len(all_stats)
    for stats in all_stats:
        for key in ("rows", "description_words", "rejects", "reject_reasons"):
            merged[key] = dict(Counter(merged[key]) + Counter(stats[key]))
        for name in COUNTED:
            merged["counts"][name] = dict(Counter(merged["counts"][name]) + Counter(stats["counts"][name]))
        for key in SUMMED:
            merged[key] += stats.get(key, 0)
    merged["rows"] = {split: merged["rows"].get(split, 0) for split in SPLITS}
    return merged


def length_summary(words: dict[str, int]) -> dict:
    """Mean / median / min / max description length in words."""
    lengths = [int(n) for n, count in words.items() for _ in range(count)]
    if not lengths:
        return {"mean": 0, "median": 0, "min": 0, "max": 0}
    return {
        "mean": round(statistics.fmean(lengths), 1),
        "median": statistics.median(lengths),
        "min": min(lengths),
        "max": max(lengths),
    }


def load_shard_stats(folder: Path, num_shards: int) -> list[dict]:
    """The stats of every finished shard of this shard count."""
    found = []
    for path in sorted(folder.glob(f"stats-*-of-{num_shards:05d}.json")):
        found.append(json.loads(path.read_text(encoding="utf-8")))
    return found
