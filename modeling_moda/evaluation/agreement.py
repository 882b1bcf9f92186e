"""Agreement between two judges on the same samples: Cohen's kappa (binary metrics), mean |a - b| (ratios)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .metrics import ALL_METRICS, BINARY_METRICS, SampleScore


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float | None:
    """Cohen's kappa of two label sequences; None when undefined (both judges always give one same label)."""
    x, y = np.asarray(a), np.asarray(b)  # [n], [n]
    if x.size == 0:
        return None
    labels = np.union1d(x, y)
    p_o = float(np.mean(x == y))
    p_e = float(sum(np.mean(x == v) * np.mean(y == v) for v in labels))
    if p_e >= 1.0:
        return None
    return (p_o - p_e) / (1.0 - p_e)


def compare(scores_a: Sequence[SampleScore], scores_b: Sequence[SampleScore]) -> dict:
    """Per metric, over samples both judges scored and where the metric applies:
    binary metrics -> {"kappa", "agreement", "n"}; ratio metrics and overall -> {"mean_abs_diff", "n"}."""
    if len(scores_a) != len(scores_b):
        raise ValueError(f"judges scored different sample counts: {len(scores_a)} vs {len(scores_b)}")
    both = [(a, b) for a, b in zip(scores_a, scores_b, strict=True) if a.scored and b.scored]
    result: dict = {"n_samples": len(scores_a), "n_both_scored": len(both)}
    for metric in ALL_METRICS:
        pairs = [
            (a.scores[metric], b.scores[metric])
            for a, b in both
            if a.scores.get(metric) is not None and b.scores.get(metric) is not None
        ]
        if metric in BINARY_METRICS:
            la = [int(x >= 5) for x, _ in pairs]
            lb = [int(y >= 5) for _, y in pairs]
            kappa = cohen_kappa(la, lb)
            result[metric] = {
                "kappa": None if kappa is None else round(kappa, 4),
                "agreement": round(float(np.mean(np.equal(la, lb))), 4) if pairs else None,
                "n": len(pairs),
            }
        else:
            diffs = [abs(x - y) for x, y in pairs]
            result[metric] = {
                "mean_abs_diff": round(float(np.mean(diffs)), 4) if diffs else None,
                "n": len(pairs),
            }
    return result
