"""Bad input: each case is scored per the documented rule or rejected with a clear message."""

import pytest

from modeling_moda.evaluation import get_judge
from modeling_moda.evaluation.inputs import MAX_PREDICTION_CHARS

REF = {"gender": "Men", "article_type": "Tshirts", "base_colour": "Black", "usage": "Casual"}


def test_empty_prediction_scores_zero():
    (s,) = get_judge("rules").score([""], [REF])
    assert s.scored and s.scores["overall"] == 0
    assert "no checkable detail" in s.reasons["factual_consistency"]


def test_very_long_prediction_is_judged_on_its_head():
    head = "A black t-shirt for men. "
    tail = "Nice. " * 1000 + "Casual."  # the usage word lies past the cut
    (s,) = get_judge("rules").score([head + tail], [REF])
    assert s.scored
    assert s.scores["category_accuracy"] == 10 and s.scores["style_recognition"] == 0
    assert str(MAX_PREDICTION_CHARS) in s.reasons["note"]


@pytest.mark.parametrize("bad", [None, 42, ["a black tee"], b"bytes"])
def test_non_string_prediction_is_unscored_with_reason(bad):
    scores = get_judge("rules").score([bad, "A black tee for men"], [REF, REF])
    assert not scores[0].scored and f"prediction #0 is {type(bad).__name__}, expected str" == scores[0].error
    assert all(v is None for v in scores[0].scores.values())
    assert scores[1].scored  # one bad item does not stop the batch


def test_reference_not_a_dict_or_without_judged_fields():
    scores = get_judge("rules").score(["x", "y"], ["Men Tshirts", {"id": "7", "year": 2012}])
    assert scores[0].error == "reference #0 is str, expected a metadata dict"
    assert "reference #1 has none of the judged fields" in scores[1].error


def test_reference_missing_some_fields_makes_those_metrics_not_applicable():
    (s,) = get_judge("rules").score(["A black tee"], [{"article_type": "Tshirts", "base_colour": "Black"}])
    assert s.scores["gender_accuracy"] is None and s.scores["style_recognition"] is None
    assert s.scores["overall"] == pytest.approx((10 + 10 + 10) / 3)


def test_length_mismatch_is_rejected():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        get_judge("rules").score(["a", "b"], [REF])


def test_unknown_judge_and_rules_options_are_rejected():
    with pytest.raises(ValueError, match="unknown judge 'gpt'"):
        get_judge("gpt")
    with pytest.raises(ValueError, match="takes no options"):
        get_judge("rules", model="x")
