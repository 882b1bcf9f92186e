"""report.md of a quickstart run: what ran, how long, how good, with the plots and the sample grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeling_moda.core.attributes import attribute_entries
from modeling_moda.core.io import read_jsonl, write_text
from modeling_moda.evaluation.attributes import (
    ATTRIBUTE_METRICS,
    confusion,
    disagreements,
    plot_confusion,
    weakest_attribute,
)
from modeling_moda.evaluation.metrics import DISPLAY_NAMES

TARGETS = {
    "color_accuracy": 9.8,
    "category_accuracy": 9.7,
    "gender_accuracy": 9.0,
    "style_recognition": 9.0,
    "factual_consistency": 9.0,
    "overall": 9.0,
}
ENCODER_TARGETS = {"article_type": 0.97}
ATTRIBUTE_NAMES = {"colour": "colour", "article_type": "article type", "gender": "gender", "usage": "usage"}
MARGIN = 0.02  # a gap under 2 points of accuracy is within the test split's noise (522 items: ±2-4 points)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def readable_share(samples: list[dict], cues: dict[str, dict]) -> dict[str, float | None]:
    """attribute -> share of test items whose value the photo shows (catalog/cues.jsonl; None: no cues file).

    Colour and article type are always drawn. Gender shows through its cue, or through no cue for Unisex
    items (neutral cut); usage through its cue, by shape for sports shoes, or by plainness for Casual items.
    An item drawn without its cue looks Unisex / Casual, so no reader can do better than these shares.
    """
    if not cues:
        return dict.fromkeys(ATTRIBUTE_METRICS)
    items = [(s["reference"], cues.get(str(s["id"]), {})) for s in samples]
    gender = [ref.get("gender") == "Unisex" or bool(cue.get("gender")) for ref, cue in items]
    usage = [
        ref.get("usage") == "Casual"
        or bool(cue.get("usage"))
        or (ref.get("usage") == "Sports" and ref.get("master_category") == "Footwear")
        for ref, cue in items
    ]
    return {
        "colour": 1.0,
        "article_type": 1.0,
        "gender": sum(gender) / len(items),
        "usage": sum(usage) / len(items),
    }


def held_back_by(moda: float, probe: float | None, readable: float | None) -> str:
    """Which of data, encoder and MODA keeps an attribute's accuracy below 100%, from the three ceilings."""
    reasons = []
    if readable is not None and readable < 1 - MARGIN:
        reasons.append(f"data ({100 * (1 - readable):.0f}% of items show no cue)")
    if probe is not None and probe < (readable if readable is not None else 1.0) - MARGIN:
        reasons.append(f"encoder (its features hold {_pct(probe)})")
    if probe is not None and moda < probe - MARGIN:
        reasons.append(f"MODA ({100 * (probe - moda):.0f} points under the encoder's features)")
    return "; ".join(reasons) or "nothing: at the ceiling"


def _encoder_and_ceiling(out: Path, summary: dict[str, Any]) -> list[str]:
    """The encoder's table, the ceiling table, the weakest attribute's confusion matrix and disagreements."""
    encoder = summary["encoder"]
    samples = read_jsonl(out / "eval" / "samples.jsonl")
    cues = {str(row["id"]): row for row in read_jsonl(out / "catalog" / "cues.jsonl")}
    readable = readable_share(samples, cues)
    lines = [
        "## Encoder: our FashionCLIP (test split)",
        "",
        f"Contrastive {encoder['architecture']} ({encoder['image_size']} px), {len(encoder['epoch_losses'])} "
        f"epochs on {encoder['train_items']} items; zero-shot prompts are the metadata values "
        "(`encoder/encoder_metrics.json`).",
        "",
        "| attribute | zero-shot top-1 | linear probe | target |",
        "|---|---|---|---|",
    ]
    for name in ATTRIBUTE_METRICS:
        target = f"zero-shot ≥ {_pct(ENCODER_TARGETS[name])}" if name in ENCODER_TARGETS else ""
        lines.append(
            f"| {ATTRIBUTE_NAMES[name]} | {_pct(encoder['zero_shot'][name])} | "
            f"{_pct(encoder['linear_probe'][name])} | {target} |"
        )
    lines += [
        "",
        "## Ceiling: does the data or the model hold a metric back?",
        "",
        "MODA's share right (rules judge / 10) beside two ceilings: what the frozen encoder's features hold "
        "(linear probe) and what the photos show at all (items drawn with a visible cue, "
        "`catalog/cues.jsonl`).",
        "",
        "| attribute | MODA | encoder probe | visible in the photo | held back by |",
        "|---|---|---|---|---|",
    ]
    metrics = summary["metrics_test"]
    for name, metric in ATTRIBUTE_METRICS.items():
        if metrics.get(metric) is None:
            continue
        moda, probe = metrics[metric] / 10, encoder["linear_probe"][name]
        lines.append(
            f"| {ATTRIBUTE_NAMES[name]} | {_pct(moda)} | {_pct(probe)} | {_pct(readable[name])} | "
            f"{held_back_by(moda, probe, readable[name])} |"
        )
    weakest = weakest_attribute(metrics)
    labels, counts = confusion(samples, weakest)
    png = f"confusion_{weakest}.png"
    plot_confusion(labels, counts, out / png, f"MODA on the test split: {ATTRIBUTE_NAMES[weakest]}")
    lines += [
        "",
        f"### The weakest attribute: {ATTRIBUTE_NAMES[weakest]}",
        "",
        f"![confusion matrix]({png})",
        "",
        "### Where MODA disagrees with the reference (lowest overall scores)",
        "",
        "| id | MODA | reference | what is wrong |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {d['id']} | {d['prediction']} | {d['reference']} | {d['wrong']} |" for d in disagreements(samples)
    ]
    return lines + [""]


def _attributes_and_confidence(summary: dict[str, Any]) -> list[str]:
    """ECE per attribute, the reliability diagram and the review-threshold table (eval/calibration.json)."""
    calibration = summary["calibration"]
    lines = [
        "## Attributes and confidence (test split)",
        "",
        "Each description's colour, article type, gender and usage, read with the judge's lexicon, with a "
        "confidence from MODA's own token probabilities (`describe_detailed`; per item: "
        "`eval/attributes.jsonl`). Right = agrees with the catalog metadata, as the rules judge decides. "
        "ECE: expected calibration error over 10 equal-width bins (0 = the confidence is the share right).",
        "",
        "| attribute | stated | right | mean confidence | ECE |",
        "|---|---|---|---|---|",
    ]
    for name, stats in [*calibration["attributes"].items(), ("all", calibration["all"])]:
        label = "**all**" if name == "all" else ATTRIBUTE_NAMES[name]
        lines.append(
            f"| {label} | {stats['n']} | {_pct(stats['accuracy'])} | {_pct(stats['mean_confidence'])} | "
            f"{_fmt3(stats['ece'])} |"
        )
    lines += [
        "",
        "![reliability diagram](eval/reliability.png)",
        "",
        "### Review threshold",
        "",
        "An item goes to a person when its weakest attribute's confidence is under the threshold (or it "
        "states none); an item is wrong when any attribute it states disagrees with the catalog.",
        "",
        "| threshold | items held for review | items let through | error rate among them |",
        "|---|---|---|---|",
    ]
    for row in calibration["review"]:
        threshold = "0 (only items stating nothing)" if row["threshold"] == 0 else f"{row['threshold']:g}"
        held, wrong = _pct(row["held_share"]), _pct(row["error_rate_passed"])
        lines.append(f"| {threshold} | {held} | {row['passed']} | {wrong} |")
    return lines + [""]


def _attribute_cell(attributes: dict | None) -> str:
    """'Red 0.98 · Tshirts 0.96 · Men 0.99 · Casual 0.99' (value and confidence of each stated attribute)."""
    if not attributes:
        return ""
    return " · ".join(
        f"{entry['value']} {entry['confidence']:.2f}" for _, entry in attribute_entries(attributes)
    )


def _fmt3(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def write_quickstart_report(out: str | Path, summary: dict[str, Any]) -> Path:
    """Write `out/report.md` from the quickstart summary (paths in it are relative to `out`)."""
    out = Path(out)
    timings = summary["timings_s"]
    splits = summary["splits"]
    recipe = summary["recipe"]
    lines = [
        "# MODA quickstart report",
        "",
        f"A small MODA and its encoder trained from scratch on a synthetic catalog of {summary['items']} "
        "items, on "
        f"{summary['cpu_count']} CPU core(s), with nothing downloaded.",
        "",
        f"Reproduce: `{summary['reproduce']}`",
        "",
        "## Stages",
        "",
        "| stage | what | seconds |",
        "|---|---|---|",
    ]
    stages = {
        "catalog": "synthetic product photos + Kaggle-style styles.csv (`catalog/`)",
        "dataset": f"template teacher + refiner, splits {splits} (`dataset/`)",
        "encoder": f"contrastive encoder, {len(summary['encoder']['epoch_losses'])} epochs (`encoder/`)",
        "train": f"MODA on it (frozen), {recipe['num_train_epochs']:g} epochs, feature cache (`model/`)",
        "evaluate": f"rules judge on the {summary['n_test']} test items (`eval/report.md`)",
        "calibrate": "attributes with confidence vs the catalog, test items (`eval/calibration.json`)",
        "describe": f"{len(summary['described'])} held-out images via `pipeline('image-to-text')`",
    }
    lines += [f"| {name} | {what} | {timings.get(name, 0):.0f} |" for name, what in stages.items()]
    lines += [
        f"| **total** | | **{timings['total']:.0f}** |",
        "",
        "## Test-split metrics (rules judge, 0–10)",
        "",
        "| metric | score | target |",
        "|---|---|---|",
    ]
    for metric, value in summary["metrics_test"].items():
        target = f"≥ {TARGETS[metric]}" if metric in TARGETS else ""
        lines.append(f"| {DISPLAY_NAMES.get(metric, metric)} | {_fmt(value)} | {target} |")
    lines += [
        "",
        f"Model: {summary['parameters'] / 1e6:.2f} M parameters "
        f"(the run's encoder, frozen, + {summary['recipe']['projector_type']} projector "
        "+ tiny OPT-style LM; card: `model/README.md`).",
        "",
        *_encoder_and_ceiling(out, summary),
        *(_attributes_and_confidence(summary) if "calibration" in summary else []),
        "## Training",
        "",
        "![loss](loss.png)",
        "",
    ]
    if (out / "metrics_vs_tokens.png").exists():
        lines += ["![metrics vs tokens](metrics_vs_tokens.png)", ""]
    if (out / "eval" / "samples.png").exists():
        lines += ["## Test samples", "", "![samples](eval/samples.png)", ""]
    lines += [
        "## Held-out images described by the saved model",
        "",
        "| id | MODA | attributes (confidence) | teacher reference |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {r['id']} | {r['description']} | {_attribute_cell(r.get('attributes'))} | {r['reference']} |"
        for r in summary["described"]
    ]
    lines += [
        "",
        "## Use the model",
        "",
        f"`moda describe --model {out / 'model'} IMAGE` or "
        f"`pipeline('image-to-text', model='{out / 'model'}', trust_remote_code=True)`.",
        "",
    ]
    return write_text(out / "report.md", "\n".join(lines))
