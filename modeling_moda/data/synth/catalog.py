"""Writing a synthetic catalog folder in the Kaggle layout.

DIR/images/<id>.jpg, DIR/styles.csv (the Kaggle columns), DIR/printed_text.jsonl (the words printed on
products, never part of the metadata), DIR/cues.jsonl (the visible cue of each attribute, see cues.py) and
DIR/contact_sheet.png. The table is written last and atomically,
so a folder with styles.csv is complete.
"""

from __future__ import annotations

import csv
import json
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import Image, ImageDraw
from tqdm import tqdm

from ...core.io import write_jsonl
from ..readers.kaggle import COLUMNS, SIDECAR, TABLE
from .cues import cue_record
from .render import render_item
from .sample import ItemSpec, sample_item
from .vocabulary import ARTICLES_BY_NAME

CONTACT_SHEET = "contact_sheet.png"
CUES = "cues.jsonl"


def _render_and_save(job: tuple[int, int, str]) -> ItemSpec:
    seed, index, images_dir = job
    spec = sample_item(seed, index)
    path = os.path.join(images_dir, f"{spec.id}.jpg")
    tmp = path + ".tmp"
    render_item(spec).save(tmp, format="JPEG", quality=spec.quality)
    os.replace(tmp, path)
    return spec


def _row(spec: ItemSpec) -> dict[str, str]:
    article = ARTICLES_BY_NAME[spec.article]
    values = {
        "id": spec.id,
        "gender": spec.gender,
        "master_category": article.master,
        "sub_category": article.sub,
        "article_type": article.name,
        "base_colour": spec.colour,
        "season": spec.season,
        "year": str(spec.year),
        "usage": spec.usage,
        "product_title": spec.title,
    }
    return {COLUMNS[field]: value for field, value in values.items()}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _write_table(path: Path, specs: list[ItemSpec]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS.values()))
        writer.writeheader()
        writer.writerows(_row(spec) for spec in specs)
    os.replace(tmp, path)


def contact_sheet(images_dir: Path, specs: list[ItemSpec], path: Path, columns: int = 8) -> None:
    """A grid of photos, each captioned with its colour, article type and printed words."""
    tile_w, tile_h, caption = 120, 160, 30
    rows = (len(specs) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tile_w, rows * (tile_h + caption)), "white")
    draw = ImageDraw.Draw(sheet)
    for i, spec in enumerate(specs):
        x, y = (i % columns) * tile_w, (i // columns) * (tile_h + caption)
        with Image.open(images_dir / f"{spec.id}.jpg") as photo:
            sheet.paste(photo.resize((tile_w, tile_h)), (x, y))
        draw.text((x + 3, y + tile_h + 2), f"{spec.colour} {spec.gender} {spec.usage}", fill="black")
        extra = f" [{spec.printed}]" if spec.printed else ""
        draw.text((x + 3, y + tile_h + 15), f"{spec.article}{extra}", fill=(160, 0, 0) if extra else "black")
    sheet.save(path.with_name(path.name + ".tmp"), format="PNG")
    os.replace(path.with_name(path.name + ".tmp"), path)


def synth_catalog(
    out: str | Path, n: int, seed: int = 0, workers: int | None = None, progress: bool = True
) -> dict:
    """Render n items into `out` (Kaggle layout); the same (n, seed) always gives the same files.

    Returns a summary: items, printed items, article types, colours and the contact sheet path.
    """
    out = Path(out)
    images_dir = out / "images"
    images_dir.mkdir(parents=True, exist_ok=True)
    workers = workers or os.cpu_count() or 1
    jobs = [(seed, index, str(images_dir)) for index in range(n)]
    bar = tqdm(total=n, desc="rendering catalog", unit="img", disable=not progress)
    if workers == 1:
        specs = []
        for job in jobs:
            specs.append(_render_and_save(job))
            bar.update()
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            specs = []
            for spec in pool.map(_render_and_save, jobs, chunksize=32):
                specs.append(spec)
                bar.update()
    bar.close()
    printed = [spec for spec in specs if spec.printed]
    write_jsonl(out / CUES, [cue_record(s, ARTICLES_BY_NAME[s.article].master) for s in specs])
    _write_atomic(out / SIDECAR, "".join(json.dumps({"id": s.id, "text": s.printed}) + "\n" for s in printed))
    sheet_path = out / CONTACT_SHEET
    first_of_each = {spec.article: spec for spec in reversed(specs)}.values()  # one of every article first
    sample = list(first_of_each) + [spec for spec in specs if spec not in first_of_each]
    contact_sheet(images_dir, sorted(sample[:48], key=lambda s: int(s.id)), sheet_path)
    _write_table(out / TABLE, specs)
    return {
        "items": n,
        "printed_items": len(printed),
        "article_types": len({s.article for s in specs}),
        "colours": len({s.colour for s in specs}),
        "contact_sheet": str(sheet_path),
    }
