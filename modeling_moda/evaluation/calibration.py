"""Is the confidence of an attribute worth trusting? Calibration of described attributes against the catalog.

An attribute (`core.attributes` schema: colour, article type, gender, usage, each with a confidence) is
correct when it agrees with the item's metadata, judged as the rules judge judges a claim: the same
lexicon matchers (`colour_matches` against the item's colours, `article type in the claim's types`,
`gender_matches`, `usage_matches`). Attributes whose reference field is missing are not counted.

- `expected_calibration_error`: sum over equal-width confidence bins of |accuracy - mean confidence|,
  weighted by the bin's share of the attributes (0 = confidences mean what they say).
- `reliability_bins`: accuracy against confidence per bin, for the reliability diagram.
- `review_table`: at each threshold P, the share of items held for review (weakest attribute under P, or no
  attribute stated: `core.attributes.held_for_review`) and the error rate among the items let through (an
  item is in error when any of its attributes disagrees with the metadata).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..core import lexicon
from ..core.attributes import ATTRIBUTES, attribute_entries, held_for_review
from ..core.schema import ATTRIBUTE_COLUMNS
from .plots import _pyplot, _save
from .rules_judge import item_colours

DEFAULT_THRESHOLDS = (0.8, 0.95, 0.99)
BINS = 10


def attribute_correct(name: str, entry: dict, reference: dict) -> bool | None:
    """Whether one attribute agrees with the item's metadata; None when the reference lacks the field."""
    if name == "colour":
        colours = item_colours(reference)
        if not colours:
            return None
        return colours == ["Multi"] or any(lexicon.colour_matches(entry["value"], c) for c in colours)
    value = lexicon.canonical(reference.get(ATTRIBUTE_COLUMNS[name]))
    if value is None:
        return None
    if name == "article_type":
        return value in entry.get("types", [entry["value"]])
    matches = lexicon.gender_matches if name == "gender" else lexicon.usage_matches
    return matches(entry["value"], value)


def outcomes(attributes: Sequence[dict], references: Sequence[dict]) -> dict[str, list[tuple[float, bool]]]:
    """attribute -> (confidence, correct) of every attribute stated whose reference field is known."""
    if len(attributes) != len(references):
        raise ValueError(f"{len(attributes)} attribute sets but {len(references)} references")
    found: dict[str, list[tuple[float, bool]]] = {name: [] for name in ATTRIBUTES}
    for stated, reference in zip(attributes, references, strict=True):
        for name, entry in attribute_entries(stated):
            correct = attribute_correct(name, entry, reference)
            if correct is not None:
                found[name].append((float(entry["confidence"]), correct))
    return found


def reliability_bins(pairs: Sequence[tuple[float, bool]], bins: int = BINS) -> list[dict]:
    """Equal-width bins [i/bins, (i+1)/bins) (the last one closed): n, mean confidence, accuracy."""
    table = []
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        inside = [(c, ok) for c, ok in pairs if low <= c < high or (i == bins - 1 and c == high)]
        n = len(inside)
        table.append(
            {
                "low": low,
                "high": high,
                "n": n,
                "confidence": sum(c for c, _ in inside) / n if n else None,
                "accuracy": sum(ok for _, ok in inside) / n if n else None,
            }
        )
    return table


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = BINS) -> float | None:
    """ECE over equal-width bins; None without pairs."""
    if not pairs:
        return None
    table = reliability_bins(pairs, bins)
    return sum(b["n"] * abs(b["accuracy"] - b["confidence"]) for b in table if b["n"]) / len(pairs)


def review_table(
    attributes: Sequence[dict], references: Sequence[dict], thresholds: Sequence[float] = DEFAULT_THRESHOLDS
) -> list[dict]:
    """Per threshold: items held for review (share), items let through and the error rate among them."""
    errors = []
    for stated, reference in zip(attributes, references, strict=True):
        verdicts = [attribute_correct(name, entry, reference) for name, entry in attribute_entries(stated)]
        errors.append(any(v is False for v in verdicts))
    rows = []
    for threshold in thresholds:
        passed = [e for s, e in zip(attributes, errors, strict=True) if held_for_review(s, threshold) is None]
        rows.append(
            {
                "threshold": threshold,
                "held_share": 1 - len(passed) / len(attributes) if attributes else None,
                "passed": len(passed),
                "error_rate_passed": sum(passed) / len(passed) if passed else None,
            }
        )
    return rows


def calibration_report(
    attributes: Sequence[dict],
    references: Sequence[dict],
    thresholds: Sequence[float] = DEFAULT_THRESHOLDS,
    bins: int = BINS,
) -> dict:
    """JSON-ready: per attribute (and all together) n, accuracy, mean confidence, ECE and the bins; the
    review table; the item count."""
    found = outcomes(attributes, references)
    found_all = [pair for name in ATTRIBUTES for pair in found[name]]

    def summary(pairs: list[tuple[float, bool]]) -> dict:
        n = len(pairs)
        return {
            "n": n,
            "accuracy": sum(ok for _, ok in pairs) / n if n else None,
            "mean_confidence": sum(c for c, _ in pairs) / n if n else None,
            "ece": expected_calibration_error(pairs, bins),
            "bins": reliability_bins(pairs, bins),
        }

    return {
        "items": len(attributes),
        "attributes": {name: summary(found[name]) for name in ATTRIBUTES},
        "all": summary(found_all),
        "review": review_table(attributes, references, thresholds),
    }


def plot_reliability(
    report: dict, path: str | Path, title: str = "Reliability of attribute confidence"
) -> Path:
    """Accuracy against confidence per bin for each attribute (the diagonal is perfect calibration), and
    below it how many attributes fall in each bin."""
    plt = _pyplot()
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(6.5, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]}
    )
    top.plot([0, 1], [0, 1], color="#999999", linestyle="--", label="perfectly calibrated")
    names = [*ATTRIBUTES, "all"]
    for k, name in enumerate(names):
        stats = report["all"] if name == "all" else report["attributes"][name]
        filled = [b for b in stats["bins"] if b["n"]]
        if not filled:
            continue
        ece = stats["ece"]
        label = f"{name.replace('_', ' ')} (n={stats['n']}, ECE {ece:.3f})"
        style = {"color": "black", "linewidth": 2} if name == "all" else {}
        top.plot(
            [b["confidence"] for b in filled],
            [b["accuracy"] for b in filled],
            marker="o",
            label=label,
            **style,
        )
        width = 0.8 / (len(names) * 10)
        centres = [(b["low"] + b["high"]) / 2 + (k - len(names) / 2) * width for b in stats["bins"]]
        bottom.bar(
            centres,
            [b["n"] for b in stats["bins"]],
            width=width,
            **({"color": "black"} if name == "all" else {}),
        )
    top.set_ylabel("share correct (vs the catalog)")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1.02)
    top.legend(fontsize=8, loc="upper left")
    top.set_title(f"{title} ({report['items']} items)")
    bottom.set_yscale("log")
    bottom.set_xlabel("confidence")
    bottom.set_ylabel("attributes")
    return _save(fig, path)
