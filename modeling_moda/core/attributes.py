"""The attributes of a description, as every area passes them on: JSON-ready, with the model's confidence.

    {"colour": [{"value": "Navy Blue", "confidence": 0.93}, ...],        # every colour named; may be empty
     "article_type": {"value": "Shirts", "types": ["Shirts"], "confidence": 0.88} or None,
     "gender": {"value": "Men", "confidence": 0.97} or None,
     "usage": {"value": "Casual", "confidence": 0.71} or None}

Values are canonical catalog values (core.lexicon). An article claim names the Kaggle types it covers in
`types`; a generic word ("sneakers") covers several, and its `value` is then the word itself. The inference
area fills these in (`inference.attributes`); evaluation measures their calibration; both read them here.
"""

from __future__ import annotations

ATTRIBUTES = ("colour", "article_type", "gender", "usage")  # the keys, as in core.schema.ATTRIBUTE_COLUMNS


def attribute_entries(attributes: dict) -> list[tuple[str, dict]]:
    """(attribute name, {"value", "confidence", ...}) of every attribute found, in ATTRIBUTES order."""
    entries: list[tuple[str, dict]] = []
    for name in ATTRIBUTES:
        found = attributes.get(name)
        if isinstance(found, list):
            entries.extend((name, entry) for entry in found)
        elif found is not None:
            entries.append((name, found))
    return entries


def lowest_confidence(attributes: dict) -> tuple[str, str, float] | None:
    """(attribute name, value, confidence) of the least confident attribute found (ties: the first in
    ATTRIBUTES order); None when the description states none."""
    entries = attribute_entries(attributes)
    if not entries:
        return None
    name, entry = min(entries, key=lambda item: item[1]["confidence"])
    return name, entry["value"], entry["confidence"]


def held_for_review(attributes: dict, below: float) -> str | None:
    """Why an item goes to a person at review threshold `below`, or None when it passes: its weakest
    attribute's confidence is under `below`, or it states no attribute at all (nothing to trust)."""
    weakest = lowest_confidence(attributes)
    if weakest is None:
        return "no attribute stated"
    name, value, confidence = weakest
    return f"{name} {value!r} at confidence {confidence:.2f} < {below:g}" if confidence < below else None
