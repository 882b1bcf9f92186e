"""report.md of a quickstart run: what ran, how long, how good, with the plots and the sample grid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeling_moda.core.io import write_text
from modeling_moda.evaluation.metrics import DISPLAY_NAMES

TARGETS = {"color_accuracy": 9.5, "category_accuracy": 9.5, "overall": 8.0}


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
        f"A small MODA trained from scratch on a synthetic catalog of {summary['items']} items, on "
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
        "train": f"{recipe['num_train_epochs']:g} epochs, feature cache, step-decay lr (`model/`)",
        "evaluate": f"rules judge on the {summary['n_test']} test items (`eval/report.md`)",
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
        f"(tiny CLIP vision tower, frozen, + {summary['recipe']['projector_type']} projector "
        "+ tiny OPT-style LM; card: `model/README.md`).",
        "",
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
        "| id | MODA | teacher reference |",
        "|---|---|---|",
    ]
    lines += [f"| {r['id']} | {r['description']} | {r['reference']} |" for r in summary["described"]]
    lines += [
        "",
        "## Use the model",
        "",
        f"`moda describe --model {out / 'model'} IMAGE` or "
        f"`pipeline('image-to-text', model='{out / 'model'}', trust_remote_code=True)`.",
        "",
    ]
    return write_text(out / "report.md", "\n".join(lines))
