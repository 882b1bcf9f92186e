"""The evaluation figures (PNG, matplotlib Agg): metric bars with CIs, per-category breakdown, sample grid,
metrics against training tokens. Each function writes atomically and returns the path."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..core.io import atomic_path
from .metrics import ALL_METRICS, DISPLAY_NAMES

_COLOURS = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#333333"]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, bbox_inches="tight", format="png")
    _pyplot().close(fig)
    return Path(path)


def plot_metrics_bar(metrics: dict, path: str | Path, title: str = "MODA evaluation") -> Path:
    """Bars of the five metrics and Overall (0-10) with their 95% confidence intervals."""
    plt = _pyplot()
    names = [DISPLAY_NAMES[m] for m in ALL_METRICS]
    means = [metrics[m]["mean"] or 0.0 for m in ALL_METRICS]
    lows = [
        m_ - (metrics[m]["ci_low"] if metrics[m]["ci_low"] is not None else m_)
        for m, m_ in zip(ALL_METRICS, means, strict=True)
    ]
    highs = [
        (metrics[m]["ci_high"] if metrics[m]["ci_high"] is not None else m_) - m_
        for m, m_ in zip(ALL_METRICS, means, strict=True)
    ]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    bars = ax.bar(names, means, yerr=[lows, highs], capsize=5, color=_COLOURS)
    for bar, value in zip(bars, means, strict=True):
        ax.text(bar.get_x() + bar.get_width() / 2, value + 0.15, f"{value:.2f}", ha="center", va="bottom")
    ax.set_ylim(0, 10.8)
    ax.set_ylabel("score (0-10)")
    n = metrics.get("n_scored", "?")
    ax.set_title(f"{title} (n={n}, 95% bootstrap CI)")
    ax.tick_params(axis="x", labelrotation=15)
    return _save(fig, path)


def plot_per_category(
    table: dict[str, dict], path: str | Path, title: str = "Scores per article type", top: int = 15
) -> Path:
    """Heatmap: rows = the `top` most frequent categories, columns = metrics, cells = mean score."""
    plt = _pyplot()
    import numpy as np

    rows = sorted(table, key=lambda g: (-table[g]["n"], g))[:top]
    grid = np.array(
        [[np.nan if table[g][m] is None else table[g][m] for m in ALL_METRICS] for g in rows]
    )  # [G, M]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.6))
    image = ax.imshow(grid, cmap="RdYlGn", vmin=0, vmax=10, aspect="auto")
    ax.set_xticks(range(len(ALL_METRICS)), [DISPLAY_NAMES[m] for m in ALL_METRICS], rotation=20, ha="right")
    ax.set_yticks(range(len(rows)), [f"{g} (n={table[g]['n']})" for g in rows])
    for r in range(len(rows)):
        for c in range(len(ALL_METRICS)):
            if not np.isnan(grid[r, c]):
                ax.text(c, r, f"{grid[r, c]:.1f}", ha="center", va="center", fontsize=8)
    fig.colorbar(image, ax=ax, fraction=0.03)
    ax.set_title(title)
    return _save(fig, path)


def plot_sample_grid(
    images: Sequence[Any],
    descriptions: Sequence[str],
    scores: Sequence[dict],
    path: str | Path,
    captions: Sequence[str] | None = None,
    cols: int = 4,
) -> Path:
    """Product images with the generated description and its scores under each (the seed's "Test Samples")."""
    plt = _pyplot()
    n = len(images)
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 5.8 * rows), squeeze=False)
    for k, ax in enumerate(axes.flat):
        ax.axis("off")
        if k >= n:
            continue
        ax.imshow(images[k])
        s = scores[k]
        line = " ".join(
            f"{a}:{'-' if s.get(m) is None else f'{s[m]:.0f}'}"
            for a, m in zip(("C", "S", "Cat", "G", "F"), ALL_METRICS[:5], strict=True)
        )
        overall = "-" if s.get("overall") is None else f"{s['overall']:.1f}"
        text = textwrap.fill(descriptions[k] or "(empty)", 38)
        head = f"{captions[k]}\n" if captions else ""
        ax.set_title(f"{head}{text}\n{line}  Overall {overall}", fontsize=8, loc="left", y=-0.02, va="top")
    fig.suptitle("Test samples: generated description and judge scores (0-10)", fontsize=11)
    fig.tight_layout(h_pad=4.0)
    return _save(fig, path)


def plot_metrics_vs_tokens(
    history: Sequence[dict], path: str | Path, title: str = "Metrics vs training tokens"
) -> Path:
    """Lines of each metric (0-10) against training tokens seen, in millions (the seed's chart)."""
    plt = _pyplot()
    xs = [row["tokens_seen"] / 1e6 for row in history]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    for metric, colour in zip(ALL_METRICS, _COLOURS, strict=True):
        ys = [row["metrics"].get(metric) for row in history]
        style = {"linewidth": 2.5} if metric == "overall" else {"linewidth": 1.5}
        ax.plot(
            xs,
            [float("nan") if y is None else y for y in ys],
            marker="o",
            markersize=3,
            color=colour,
            label=DISPLAY_NAMES[metric],
            **style,
        )
    ax.set_xlabel("training tokens seen (millions)")
    ax.set_ylabel("score (0-10)")
    ax.set_ylim(0, 10.3)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    return _save(fig, path)
