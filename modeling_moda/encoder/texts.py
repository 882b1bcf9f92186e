"""The texts the encoder learns to match with images: captions from an item's metadata, and zero-shot prompts.

A training caption names a random non-empty subset of the item's attributes in a fixed order ("red striped
tshirts for women sports"), so a prompt that names one attribute ("tshirts") is a caption the text tower has
seen: zero-shot classification per attribute then needs no prompt engineering.
"""

from __future__ import annotations

import random
from collections.abc import Mapping

from ..core.schema import ATTRIBUTE_COLUMNS

# attribute -> dataset column; the order captions name them in
ATTRIBUTES: dict[str, str] = ATTRIBUTE_COLUMNS
_PATTERN_WORDS = {"striped": "striped", "checked": "checked", "polka": "dotted", "check": "checked"}


def pattern_of(title: str | None) -> str | None:
    """The pattern a product title names ("Polka Dot" -> "dotted"), or None."""
    for word in (title or "").lower().split():
        if word in _PATTERN_WORDS:
            return _PATTERN_WORDS[word]
    return None


def _phrases(values: Mapping[str, str | None]) -> list[str]:
    """One phrase per present attribute, in caption order."""
    phrases = []
    if values.get("colour"):
        phrases.append(values["colour"])
    if values.get("pattern"):
        phrases.append(values["pattern"])
    if values.get("article_type"):
        phrases.append(values["article_type"])
    if values.get("gender"):
        phrases.append(f"for {values['gender']}")
    if values.get("usage"):
        phrases.append(f"{values['usage']} wear")
    return phrases


def caption(values: Mapping[str, str | None]) -> str:
    """The text for these attribute values (absent ones left out), lower case."""
    return " ".join(_phrases(values)).lower()


def item_values(row: Mapping[str, object]) -> dict[str, str | None]:
    """The caption attributes of one dataset row (plus the pattern its title names)."""
    values = {name: (str(row[column]) if row.get(column) else None) for name, column in ATTRIBUTES.items()}
    values["pattern"] = pattern_of(row.get("product_title"))  # type: ignore[arg-type]
    return values


def training_caption(row: Mapping[str, object], rng: random.Random, keep: float = 0.6) -> str:
    """A caption naming a random non-empty subset of the item's attributes (each kept with `keep`)."""
    values = item_values(row)
    present = [name for name, value in values.items() if value]
    kept = [name for name in present if rng.random() < keep] or [rng.choice(present)]
    return caption({name: values[name] for name in kept})


def prompt(attribute: str, value: str) -> str:
    """The zero-shot prompt of one attribute value: the caption that names only it."""
    return caption({attribute: value})
