"""Aggregation with confidence intervals, and judge agreement (Cohen's kappa, mean absolute difference)."""

import pytest

from modeling_moda.evaluation import SampleScore, aggregate, mean_ci
from modeling_moda.evaluation.agreement import cohen_kappa, compare


def _score(judge, **scores):
    full = {
        "color_accuracy": 10,
        "style_recognition": 10,
        "category_accuracy": 10,
        "gender_accuracy": 10,
        "factual_consistency": 10,
    } | scores
    return SampleScore.from_metrics(judge, full, {})


def test_mean_ci_brackets_the_mean_and_is_deterministic():
    values = [0, 10, 10, 10, 0, 10, 10, 10]
    r = mean_ci(values)
    assert r["mean"] == 7.5 and r["n"] == 8
    assert r["ci_low"] <= 7.5 <= r["ci_high"] and r == mean_ci(values)
    assert mean_ci([])["mean"] is None


def test_aggregate_skips_unscored_and_not_applicable():
    scores = [
        _score("rules"),
        _score("rules", style_recognition=None, color_accuracy=5),
        SampleScore.unscored("rules", "prediction #2 is int, expected str"),
    ]
    m = aggregate(scores)
    assert (m["n_samples"], m["n_scored"], m["n_unscored"]) == (3, 2, 1)
    assert m["style_recognition"]["n"] == 1 and m["color_accuracy"]["mean"] == 7.5


def test_cohen_kappa_hand_computed():
    # 10 items: both 1 on 4, both 0 on 3, a=1/b=0 on 2, a=0/b=1 on 1 -> p_o = 0.7,
    # p_e = 0.6*0.5 + 0.4*0.5 = 0.5 -> kappa = (0.7 - 0.5) / 0.5 = 0.4
    a = [1] * 4 + [0] * 3 + [1] * 2 + [0]
    b = [1] * 4 + [0] * 3 + [0] * 2 + [1]
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert cohen_kappa([1, 1], [1, 1]) is None  # undefined: one label only


def test_compare_reports_kappa_and_mean_abs_diff():
    a = [_score("rules"), _score("rules", gender_accuracy=0, color_accuracy=5)]
    b = [_score("openai", color_accuracy=8), _score("openai", gender_accuracy=0, color_accuracy=5)]
    r = compare(a, b)
    assert r["gender_accuracy"]["kappa"] == 1.0 and r["gender_accuracy"]["agreement"] == 1.0
    assert r["color_accuracy"]["mean_abs_diff"] == 1.0 and r["n_both_scored"] == 2
