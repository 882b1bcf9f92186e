"""The rules judge against 76 hand-written (metadata, description, expected scores) cases.

Each expected score was worked out by hand from the rubric and the documented edge-case rules in
`modeling_moda/evaluation/rules_judge.py`; the judge must match them, not the other way round.
"""

import json
from importlib import resources

import pytest

from modeling_moda.evaluation.metrics import ALL_METRICS
from modeling_moda.evaluation.rules_judge import RulesJudge

FIXTURE = resources.files("modeling_moda.evaluation") / "fidelity_cases.jsonl"
CASES = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]


def test_fixture_is_large_and_covers_every_metric_edge():
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)
    for metric in ALL_METRICS:
        values = {c["expected"][metric] for c in CASES}
        assert 0 in values and 10 in values, metric  # each metric is seen both right and wrong
    assert any(c["expected"]["color_accuracy"] not in (0, 10, None) for c in CASES)  # partial colours
    assert any(None in c["expected"].values() for c in CASES)  # not applicable


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_rules_judge_matches_hand_scores(case):
    (result,) = RulesJudge().score([case["prediction"]], [case["reference"]])
    assert result.error is None
    for metric in ALL_METRICS:
        expected, got = case["expected"][metric], result.scores[metric]
        if expected is None:
            assert got is None, (metric, result.reasons)
        else:
            assert got == pytest.approx(expected, abs=1e-3), (metric, case["note"], result.reasons)
    assert set(result.reasons) >= set(ALL_METRICS) - {"overall"}
