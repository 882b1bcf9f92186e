"""Checks every judge applies to its inputs, so that all judges treat bad input the same documented way.

- predictions and references of different lengths: `ValueError` (the whole call is wrong).
- a prediction that is not a string (None, a number, a list): the sample is unscored, with the reason.
- a reference that is not a dict, or has none of the judged fields: the sample is unscored, with the reason.
- a prediction longer than `MAX_PREDICTION_CHARS`: judged on its first `MAX_PREDICTION_CHARS` characters.
- an empty prediction is valid: it claims nothing, so it scores 0 on every metric that applies.
- Kaggle's camelCase field names (baseColour, articleType, productDisplayName, ...) are accepted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MAX_PREDICTION_CHARS = 2000
JUDGED_FIELDS = ("base_colour", "article_type", "gender", "usage")
ALIASES = {
    "baseColour": "base_colour",
    "base_color": "base_colour",
    "colour": "base_colour",
    "color": "base_colour",
    "articleType": "article_type",
    "masterCategory": "master_category",
    "subCategory": "sub_category",
    "productDisplayName": "product_title",
}


class InvalidSample(ValueError):
    """One sample cannot be judged; the message says which and why."""


def check_lengths(predictions: Sequence, references: Sequence) -> None:
    if len(predictions) != len(references):
        raise ValueError(
            f"got {len(predictions)} predictions but {len(references)} references; they must pair up"
        )


def prepare(index: int, prediction: object, reference: object) -> tuple[str, dict, bool]:
    """(prediction text, reference with internal field names, whether the text was truncated)."""
    if not isinstance(prediction, str):
        raise InvalidSample(f"prediction #{index} is {type(prediction).__name__}, expected str")
    if not isinstance(reference, Mapping):
        raise InvalidSample(f"reference #{index} is {type(reference).__name__}, expected a metadata dict")
    ref = {ALIASES.get(k, k): v for k, v in reference.items()}
    if all(ref.get(f) in (None, "") for f in JUDGED_FIELDS):
        raise InvalidSample(f"reference #{index} has none of the judged fields {', '.join(JUDGED_FIELDS)}")
    truncated = len(prediction) > MAX_PREDICTION_CHARS
    return prediction[:MAX_PREDICTION_CHARS], ref, truncated
