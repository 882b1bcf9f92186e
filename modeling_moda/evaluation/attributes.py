"""Per-attribute reading of an evaluation: which value a description names, the confusion matrix of one
attribute over the test split, and the samples where the description disagrees with the reference.

The value a description names is read with the rules judge's lexicon (the first claim that matches one of
the attribute's reference values), so a confusion-matrix cell and the judge's score agree on every sample.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core import lexicon
from ..core.schema import ATTRIBUTE_COLUMNS
from .metrics import DISPLAY_NAMES
from .plots import _pyplot, _save

NONE = "(none)"
# attribute (its reference column: core.schema.ATTRIBUTE_COLUMNS) -> the rules-judge metric that scores it
ATTRIBUTE_METRICS: dict[str, str] = {
    "colour": "color_accuracy",
    "article_type": "category_accuracy",
    "gender": "gender_accuracy",
    "usage": "style_recognition",
}


def named_value(text: str, attribute: str, values: Sequence[str]) -> str:
    """The first of `values` that `text` names for `attribute` (as the rules judge reads it), else NONE."""
    claims = lexicon.extract_attributes(text)
    if attribute == "article_type":
        for claim in claims["articles"]:
            named = [value for value in values if value in claim["types"]]
            if named:
                return named[0]
        return NONE
    found, matches = {
        "colour": (claims["colours"], lexicon.colour_matches),
        "gender": (claims["genders"], lexicon.gender_matches),
        "usage": (claims["usages"], lexicon.usage_matches),
    }[attribute]
    for claim in found:
        for value in values:
            if matches(claim, value):
                return value
    return NONE


def confusion(samples: Sequence[dict], attribute: str) -> tuple[list[str], list[list[int]]]:
    """(labels, counts[reference][named]) over scored samples; the last column counts NONE."""
    column = ATTRIBUTE_COLUMNS[attribute]
    pairs = [
        (lexicon.canonical(s["reference"].get(column)), s.get("prediction") or "")
        for s in samples
        if s.get("error") is None
    ]
    labels = sorted({reference for reference, _ in pairs if reference})
    index = {label: i for i, label in enumerate(labels + [NONE])}
    counts = [[0] * (len(labels) + 1) for _ in labels]
    for reference, text in pairs:
        if reference:
            counts[index[reference]][index[named_value(text, attribute, labels)]] += 1
    return labels, counts


def plot_confusion(labels: list[str], counts: list[list[int]], path: str | Path, title: str) -> Path:
    """Row-normalised confusion matrix (reference rows, named columns, counts in the cells) as a PNG."""
    plt = _pyplot()
    columns = labels + [NONE]
    size = max(4.0, 0.42 * len(columns) + 2)
    fig, ax = plt.subplots(figsize=(size + 1, size))
    shares = [[c / max(1, sum(row)) for c in row] for row in counts]
    image = ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i, row in enumerate(counts):
        for j, count in enumerate(row):
            if count:
                colour = "white" if shares[i][j] > 0.6 else "black"
                ax.text(j, i, str(count), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(len(columns)), columns, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_xlabel("named by MODA")
    ax.set_ylabel("reference")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of the row")
    return _save(fig, path)


def weakest_attribute(metrics: dict[str, float | None]) -> str:
    """The attribute whose rules-judge metric is lowest (ties: the first in ATTRIBUTE_METRICS)."""
    scored = [(metrics.get(metric), name) for name, metric in ATTRIBUTE_METRICS.items()]
    return min((value, i, name) for i, (value, name) in enumerate(scored) if value is not None)[2]


def disagreements(samples: Sequence[dict], n: int = 8) -> list[dict]:
    """The n scored samples with the lowest overall score (then by id): what MODA got wrong, and why."""
    scored = [s for s in samples if s.get("error") is None and s["scores"].get("overall") is not None]
    worst = sorted(scored, key=lambda s: (s["scores"]["overall"], str(s["id"])))[:n]
    return [
        {
            "id": str(s["id"]),
            "prediction": s["prediction"],
            "reference": s["reference"].get("description") or "",
            "wrong": "; ".join(
                f"{DISPLAY_NAMES.get(metric, metric)}: {s['reasons'][metric]}"
                for metric, score in s["scores"].items()
                if metric in s["reasons"]
                and metric != "factual_consistency"
                and score is not None
                and score < 10
            ),
        }
        for s in worst
    ]
