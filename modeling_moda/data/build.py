"""`moda dataset build`: catalog -> teacher (Prompt I) -> refiner (Prompt II) -> checks -> Hub dataset folder.

Output folder:
  README.md                                 the dataset card, rendered with the measured statistics
  data/<split>-<shard>-of-<n>-partK.parquet  rows (image as datasets.Image) — `load_dataset(OUT)` loads them
  rejects/rejects-<shard>-of-<n>.jsonl      every item left out, with its stage and reason
  .moda/cache-<shard>-of-<n>.jsonl          every teacher/refiner reply (append-only; what resuming reads)
  .moda/stats-<shard>-of-<n>.json           this shard's statistics (the card sums all shards)

Resuming: run the same command again (same --num-shards); finished calls come from the cache, rows are
written afresh from the catalog (no duplicates). Shards split the catalog by a hash of the item id, so any
number of processes or machines can share one catalog and one output folder.

A teacher or refiner endpoint that is down (unreachable, refusing the key, or failing call after call) stops
the build with `backends.EndpointDown`: no rows reach data/, no statistics or card are written, and the
replies that did arrive are in the cache, so the same command resumes once the endpoint is back.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

from tqdm import tqdm

from modeling_moda.backends.cache import JsonlCache

from ..core.images import image_bytes
from ..core.io import write_json, write_jsonl
from ..core.schema import METADATA_FIELDS, CatalogItem, Reject
from .card import write_card
from .catalog import read_catalog
from .config import BuildConfig
from .ocr_check import remove_printed_text, suspect_spans
from .prompts import load_prompts
from .stats import count_reject, count_row, load_shard_stats, merge, new_stats
from .steps import Outcome, Step
from .writer import ShardWriter, shard_tag

logger = logging.getLogger(__name__)
MIN_WORDS = 3


def _fraction(text: str) -> float:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def split_of(item_id: str, validation: float, test: float) -> str:
    """train / validation / test from a hash of the id: stable across runs, shards and catalog order."""
    x = _fraction(f"moda-split/{item_id}")
    return "validation" if x < validation else "test" if x < validation + test else "train"


def shard_of(item_id: str, num_shards: int) -> int:
    return int(_fraction(f"moda-shard/{item_id}") * num_shards)


def _image_cell(item: CatalogItem) -> dict:
    name = Path(item.image).name if isinstance(item.image, str) else f"{item.id}.jpg"
    return {"bytes": image_bytes(item.image), "path": name}


def _contradiction(description: str, item: CatalogItem) -> str | None:
    """Why the description disagrees with the metadata: colour, gender or article claims of which none
    agrees, or no article named at all (for article types the lexicon knows); None when it agrees."""
    from modeling_moda.core import lexicon

    claims = lexicon.extract_attributes(description)
    colours = lexicon.colours_of(item.base_colour)
    if colours and claims["colours"]:
        if not any(lexicon.colour_matches(c, m) for c in claims["colours"] for m in colours):
            return f"colour {claims['colours']} contradicts base colour {item.base_colour!r}"
    gender = lexicon.canonical(item.gender)
    if gender and claims["genders"] and not any(lexicon.gender_matches(c, gender) for c in claims["genders"]):
        return f"gender {claims['genders']} contradicts {item.gender!r}"
    article = lexicon.canonical(item.article_type)
    if article and lexicon.article_is_known(article):
        if not claims["articles"]:
            return f"it never names the kind of item ({item.article_type})"
        if not any(article in claim["types"] for claim in claims["articles"]):
            return f"article {[a['phrase'] for a in claims['articles']]} contradicts {item.article_type!r}"
    return None


class _Shard:
    """The per-item logic of one shard run: steps, checks, rows, rejects, statistics."""

    def __init__(self, config: BuildConfig, teacher: Step, refiner: Step, writer: ShardWriter, stats: dict):
        self.config, self.teacher, self.refiner, self.writer, self.stats = (
            config,
            teacher,
            refiner,
            writer,
            stats,
        )
        self.rejects: list[Reject] = []

    def reject(self, item: CatalogItem, stage: str, reason: str) -> None:
        reject = Reject(id=item.id, stage=stage, reason=reason, source=item.source)
        self.rejects.append(reject)
        count_reject(self.stats, reject)

    def _tally(self, step: str, outcomes: list[Outcome]) -> None:
        for outcome in outcomes:
            if outcome.value is not None:
                self.stats[f"{step}_repaired"] += outcome.repaired
                self.stats[f"{step}_retried"] += outcome.attempts > 1
            for name in ("prompt_tokens", "completion_tokens"):
                self.stats[name] += (outcome.usage or {}).get(name, 0)

    def process(self, batch: list[CatalogItem]) -> None:
        drafts = self.teacher.run(batch)
        self._tally("teacher", drafts)
        kept = []
        for item, draft in zip(batch, drafts, strict=True):
            if draft.value is None:
                self.reject(item, "teacher", draft.error or "no reply")
            else:
                kept.append((item, draft))
        finals = self.refiner.run([i for i, _ in kept], [d.value["description"] for _, d in kept])
        self._tally("refiner", finals)
        for (item, draft), final in zip(kept, finals, strict=True):
            if final.value is None:
                self.reject(item, "refiner", final.error or "no reply")
                continue
            self.finish(item, draft, final)

    def finish(self, item: CatalogItem, draft: Outcome, final: Outcome) -> None:
        metadata = item.metadata()
        raw = draft.value["description"]
        in_raw = suspect_spans(raw, item.printed_text, metadata)
        description, removed = remove_printed_text(final.value["description"], item.printed_text, metadata)
        self.stats["raw_with_printed_text"] += bool(in_raw)
        self.stats["removed_by_refiner"] += bool(in_raw) and not removed
        self.stats["check_rows"] += bool(removed)
        self.stats["check_spans"] += len(removed)
        if len(description.split()) < MIN_WORDS:
            self.reject(item, "check", f"too short after removing printed text: {removed}")
            return
        contradiction = _contradiction(description, item)
        if contradiction:
            self.reject(item, "agreement", f"final description disagrees with metadata: {contradiction}")
            return
        row = {
            "id": item.id,
            "image": _image_cell(item),
            **{name: metadata[name] for name in METADATA_FIELDS},
            "raw_description": raw,
            "description": description,
            "attributes": json.dumps(draft.value.get("attributes") or {}, ensure_ascii=False),
            "teacher": self.teacher.label,
            "refiner": self.refiner.label,
            "prompt_version": self.config.prompt_version,
        }
        split = split_of(item.id, self.config.validation_fraction, self.config.test_fraction)
        self.writer.add(split, row)
        count_row(self.stats, split, row)


def build_dataset(
    source: str,
    out: str | Path,
    config: BuildConfig | None = None,
    num_shards: int = 1,
    shard_index: int = 0,
    progress: bool = True,
) -> dict:
    """Build (or resume) one shard of the dataset; returns this shard's statistics (also saved as JSON).

    Raises `backends.EndpointDown` (having marked nothing finished) when a step's endpoint is down."""
    config = config or BuildConfig()
    if not 0 <= shard_index < num_shards:
        raise ValueError(f"--shard-index must be in [0, {num_shards}), got {shard_index}")
    start = time.perf_counter()
    out = Path(out)
    tag = shard_tag(shard_index, num_shards)
    prompts = load_prompts(config.prompt_version)
    items, catalog_rejects = read_catalog(
        source, format=config.catalog.format, columns=config.catalog.columns, split=config.catalog.split
    )
    items = [item for item in items if shard_of(item.id, num_shards) == shard_index]
    catalog_rejects = [r for r in catalog_rejects if shard_of(r.id, num_shards) == shard_index]

    stats = new_stats()
    stats.update(source=str(source), num_shards=num_shards, shard_index=shard_index)
    stats["catalog_items"] = len(items) + len(catalog_rejects)
    for reject in catalog_rejects:
        count_reject(stats, reject)
    (out / ".moda").mkdir(parents=True, exist_ok=True)
    with JsonlCache(out / ".moda" / f"cache-{tag}.jsonl") as cache:
        teacher = Step("teacher", config.teacher, prompts, cache)
        refiner = Step("refiner", config.refiner, prompts, cache)
        stats.update(teacher=teacher.label, refiner=refiner.label, prompt_version=prompts.version)
        shard = _Shard(
            config, teacher, refiner, ShardWriter(out, shard_index, num_shards, config.rows_per_file), stats
        )
        with tqdm(
            total=len(items), desc=f"building {out.name} [{tag}]", unit="item", disable=not progress
        ) as bar:
            for begin in range(0, len(items), config.batch_size):
                batch = items[begin : begin + config.batch_size]
                shard.process(batch)
                bar.update(len(batch))
                bar.set_postfix(rejected=len(shard.rejects), calls=teacher.calls + refiner.calls)
        shard.writer.commit()
    stats.update(teacher_calls=teacher.calls, refiner_calls=refiner.calls)
    stats["seconds"] = round(time.perf_counter() - start, 2)
    rejects = [vars(r) for r in catalog_rejects + shard.rejects]
    write_jsonl(out / "rejects" / f"rejects-{tag}.jsonl", rejects)
    write_json(out / ".moda" / f"stats-{tag}.json", stats, indent=1)
    write_card(out, merge(load_shard_stats(out / ".moda", num_shards)), config, prompts)
    logger.info("%s: %s rows, %d rejects", tag, stats["rows"], len(rejects))
    return stats
