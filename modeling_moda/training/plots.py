"""PNG plots of a run, drawn from its train_log.jsonl."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.io import atomic_path


def plot_losses(records: list[dict[str, Any]], out: str | Path) -> Path | None:
    """Train and validation loss against optimizer steps (the seed's training chart). None if no losses."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    val = [(r["step"], r["eval_loss"]) for r in records if "eval_loss" in r]
    if not train and not val:
        return None
    fig, ax = plt.subplots(figsize=(7, 4))
    if train:
        ax.plot(*zip(*train, strict=True), label="train loss", color="tab:blue")
    if val:
        ax.plot(
            *zip(*val, strict=True), label="validation loss", color="tab:orange", marker="o", markersize=3
        )
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("cross-entropy (description tokens)")
    ax.set_title("MODA training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_path(out) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return Path(out)
