"""`moda catalog synth`: deterministic per seed, the promised variety, printed words outside the metadata."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
from PIL import Image

from modeling_moda.data.catalog import read_catalog
from modeling_moda.data.synth import synth_catalog
from modeling_moda.data.synth.sample import sample_item
from modeling_moda.data.synth.vocabulary import ARTICLES, COLOURS, PRINTS


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_catalog_any_worker_count(tmp_path: Path) -> None:
    synth_catalog(tmp_path / "a", n=24, seed=7, workers=1, progress=False)
    synth_catalog(tmp_path / "b", n=24, seed=7, workers=2, progress=False)
    synth_catalog(tmp_path / "c", n=24, seed=8, workers=1, progress=False)
    a, b, c = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert a == b
    assert a["styles.csv"] != c["styles.csv"] and a["images/10001.jpg"] != c["images/10001.jpg"]


def test_catalog_layout_and_photos(synth_dir: Path) -> None:
    items, rejects = read_catalog(str(synth_dir))
    assert len(items) == 60 and rejects == []
    assert (synth_dir / "contact_sheet.png").is_file()
    with Image.open(items[0].image) as photo:
        assert photo.size == (240, 320) and photo.format == "JPEG"
        corner = photo.convert("RGB").getpixel((2, 2))
    assert min(corner) > 190  # light background


def test_printed_words_are_in_the_sidecar_and_never_in_the_metadata(synth_dir: Path) -> None:
    printed = [json.loads(line) for line in (synth_dir / "printed_text.jsonl").read_text().splitlines()]
    assert printed and all(record["text"] in PRINTS for record in printed)
    table = (synth_dir / "styles.csv").read_text().lower()
    for words in PRINTS:
        assert words.lower() not in table
    items, _ = read_catalog(str(synth_dir))
    assert sum(bool(item.printed_text) for item in items) == len(printed)


def test_variety_of_the_vocabulary_and_the_draws() -> None:
    masters = {article.master for article in ARTICLES}
    assert len(ARTICLES) >= 15 and masters == {"Apparel", "Footwear", "Accessories"}
    assert len(COLOURS) >= 12
    specs = [sample_item(0, i) for i in range(1000)]
    assert {s.pattern for s in specs} == {"solid", "striped", "checked", "dotted"}
    assert len({s.article for s in specs}) == len(ARTICLES) and len({s.colour for s in specs}) == len(COLOURS)
    assert 0.15 < sum(s.printed is not None for s in specs) / len(specs) < 0.25  # about 1 in 5
    assert len({s.usage for s in specs}) >= 5 and {s.gender for s in specs} >= {"Men", "Women", "Unisex"}
    assert len({s.quality for s in specs}) > 20 and len({round(s.scale, 2) for s in specs}) > 20


def test_base_colour_dominates_the_item(synth_dir: Path) -> None:
    """Among the item's pixels (far from the background), the base colour is the most common paint."""
    with (synth_dir / "styles.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    hits = 0
    for row in rows:
        with Image.open(synth_dir / "images" / f"{row['id']}.jpg") as photo:
            pixels = [
                tuple(p) for p in np.asarray(photo.convert("RGB").resize((60, 80))).reshape(-1, 3).tolist()
            ]
        background = pixels[0]
        item = [p for p in pixels if sum(abs(x - y) for x, y in zip(p, background, strict=True)) > 60]
        target = COLOURS[row["baseColour"]]
        nearest = [
            min(COLOURS.values(), key=lambda c: sum((x - y) ** 2 for x, y in zip(p, c, strict=True)))
            for p in item
        ]
        if item and max(set(nearest), key=nearest.count) == target:
            hits += 1
    assert hits / len(rows) > 0.8


def test_cues_sidecar_names_the_visible_cue_of_each_attribute(tmp_path: Path) -> None:
    """Same seed -> same cues for any worker count; Unisex and Casual items carry no gender / usage cue."""
    synth_catalog(tmp_path / "a", n=40, seed=3, workers=1, progress=False)
    synth_catalog(tmp_path / "b", n=40, seed=3, workers=2, progress=False)
    assert (tmp_path / "a" / "cues.jsonl").read_bytes() == (tmp_path / "b" / "cues.jsonl").read_bytes()
    cues = {
        row["id"]: row for row in map(json.loads, (tmp_path / "a" / "cues.jsonl").read_text().splitlines())
    }
    with (tmp_path / "a" / "styles.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert set(cues) == {row["id"] for row in rows}
    for row in rows:
        cue = cues[row["id"]]
        if row["gender"] == "Unisex":
            assert cue["gender"] is None
        if row["usage"] == "Casual":
            assert cue["usage"] is None
        if row["usage"] == "Ethnic" and cue["usage"]:
            assert cue["usage"] == "gold embroidered borders"
    assert sum(cue["gender"] is not None for cue in cues.values()) > 20


def test_a_few_items_are_drawn_without_their_cues() -> None:
    """Ambiguity as in real catalogs: about 5% of items lose their gender cue, 5% their usage cue."""
    specs = [sample_item(0, i) for i in range(2000)]
    assert 0.02 < sum(not s.gender_cue for s in specs) / len(specs) < 0.08
    assert 0.02 < sum(not s.usage_cue for s in specs) / len(specs) < 0.08
