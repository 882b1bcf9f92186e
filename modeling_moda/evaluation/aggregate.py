"""Aggregate per-sample scores: mean per metric with a bootstrap 95% confidence interval."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .metrics import ALL_METRICS, SampleScore


def mean_ci(values: Sequence[float], n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> dict:
    """{"mean", "ci_low", "ci_high", "n"}; percentile bootstrap (deterministic seed); empty -> all None."""
    x = np.asarray(values, dtype=float)  # [n]
    if x.size == 0:
        return {"mean": None, "ci_low": None, "ci_high": None, "n": 0}
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)  # [n_boot]
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return {
        "mean": round(float(x.mean()), 4),
        "ci_low": round(float(low), 4),
        "ci_high": round(float(high), 4),
        "n": int(x.size),
    }


def aggregate(scores: Sequence[SampleScore], n_boot: int = 1000) -> dict:
    """Per-metric mean and CI over the scored samples where the metric applies, plus sample counts."""
    scored = [s for s in scores if s.scored]
    result: dict = {
        m: mean_ci([s.scores[m] for s in scored if s.scores.get(m) is not None], n_boot=n_boot)
        for m in ALL_METRICS
    }
    result["n_samples"] = len(scores)
    result["n_scored"] = len(scored)
    result["n_unscored"] = len(scores) - len(scored)
    return result


def group_means(scores: Sequence[SampleScore], groups: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """{group: {metric: mean}} over scored samples (e.g. groups = each sample's article type)."""
    table: dict[str, dict[str, list[float]]] = {}
    for s, g in zip(scores, groups, strict=True):
        if not s.scored:
            continue
        row = table.setdefault(g, {m: [] for m in ALL_METRICS})
        for m in ALL_METRICS:
            if s.scores.get(m) is not None:
                row[m].append(s.scores[m])
    return {
        g: {
            "n": len(row["overall"]),
            **{m: (round(float(np.mean(v)), 4) if v else None) for m, v in row.items()},
        }
        for g, row in table.items()
    }
