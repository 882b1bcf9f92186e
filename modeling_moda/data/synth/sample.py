"""Drawing one synthetic item's metadata and photo conditions from its own seeded random stream.

Every item depends only on (seed, index), so any number of worker processes renders the same catalog.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .cues import GENDER_CUE_SHARE, USAGE_CUE_SHARE
from .vocabulary import ARTICLES, BRANDS, COLOURS, PATTERN_WEIGHTS, PATTERNS, PRINTS

# About 1 in 5 items carries printed words: only printable articles can, so they carry them more often.
PRINT_SHARE = 0.2
PRINT_PROBABILITY = min(0.95, PRINT_SHARE * len(ARTICLES) / sum(a.printable for a in ARTICLES))
FIRST_ID = 10001


@dataclass(frozen=True)
class ItemSpec:
    """Everything needed to write one catalog row and render its photo."""

    id: str
    article: str
    colour: str
    pattern: str
    gender: str
    usage: str
    season: str
    year: int
    title: str
    printed: str | None  # words printed on the product (never in the metadata)
    # photo conditions
    scale: float  # item box size as a share of the canvas
    dx: float  # horizontal / vertical offset of the item centre, share of the canvas
    dy: float
    background: tuple[int, int, int]
    shading: float  # strength of the shading across the item
    shading_angle: int
    brightness: float
    light_gradient: float  # +- levels of a linear light gradient across the photo
    light_angle: float
    noise: float  # Gaussian noise sigma, in levels
    quality: int  # JPEG quality
    pattern_period: float  # share of the item height
    gender_cue: bool  # drawn with its gender cue (cues.py); a few items are not, as in real catalogs
    usage_cue: bool  # drawn with its usage cue


def sample_item(seed: int, index: int) -> ItemSpec:
    rng = random.Random(f"moda-synth/{seed}/{index}")
    article = rng.choice(ARTICLES)
    colour = rng.choice(sorted(COLOURS))
    pattern = rng.choices(PATTERNS, PATTERN_WEIGHTS)[0] if article.patterned else "solid"
    gender = rng.choice(article.genders)
    usage = rng.choice(article.usages)
    printed = rng.choice(PRINTS) if article.printable and rng.random() < PRINT_PROBABILITY else None
    pattern_word = (
        ""
        if pattern == "solid"
        else {"striped": "Striped ", "checked": "Checked ", "dotted": "Polka Dot "}[pattern]
    )
    title = f"{rng.choice(BRANDS)} {gender} {colour} {pattern_word}{article.title}"
    tint = [rng.randint(-4, 4) for _ in range(3)]
    grey = rng.randint(232, 250)
    return ItemSpec(
        id=str(FIRST_ID + index),
        article=article.name,
        colour=colour,
        pattern=pattern,
        gender=gender,
        usage=usage,
        season=rng.choice(article.seasons),
        year=rng.randint(2011, 2018),
        title=title,
        printed=printed,
        scale=rng.uniform(0.62, 0.88),
        dx=rng.uniform(-0.05, 0.05),
        dy=rng.uniform(-0.05, 0.05),
        background=tuple(min(255, grey + t) for t in tint),
        shading=rng.uniform(0.1, 0.3),
        shading_angle=rng.choice((0, 90, 180, 270)),
        brightness=rng.uniform(0.9, 1.06),
        light_gradient=rng.uniform(0.0, 12.0),
        light_angle=rng.uniform(0.0, 6.283),
        noise=rng.uniform(0.0, 5.0),
        quality=rng.randint(60, 95),
        pattern_period=rng.uniform(0.1, 0.15),  # coarse enough to survive a 64 px encoder input
        gender_cue=rng.random() < GENDER_CUE_SHARE,
        usage_cue=rng.random() < USAGE_CUE_SHARE,
    )
