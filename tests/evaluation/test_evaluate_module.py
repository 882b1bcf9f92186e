"""`evaluate.load(<local module dir>)` works offline and gives the judge's scores."""

import evaluate
import pytest

from modeling_moda.evaluation import EVALUATE_MODULE_DIR

REFS = [
    {"gender": "Men", "article_type": "Tshirts", "base_colour": "Navy Blue", "usage": "Casual", "year": 2012},
    {"baseColour": "Red", "articleType": "Dresses", "gender": "Women"},  # Kaggle names, no usage
]


@pytest.fixture(scope="module")
def metric():
    return evaluate.load(EVALUATE_MODULE_DIR)


def test_load_offline_and_compute(metric):
    result = metric.compute(
        predictions=["A navy t-shirt for men, casual.", "A red dress for women."], references=REFS
    )
    assert result["color_accuracy"] == 10 and result["category_accuracy"] == 10
    assert result["style_recognition"] == 10  # only the first reference has a usage
    assert result["n_scored"] == 2 and result["n_unscored"] == 0
    low, high = result["overall_ci"]
    assert low <= result["overall"] <= high


def test_add_batch_and_samples(metric):
    metric.add_batch(predictions=["A blue tee"], references=[REFS[0]])
    result = metric.compute(return_samples=True)
    (sample,) = result["samples"]
    assert sample["scores"]["color_accuracy"] == 10 and sample["scores"]["gender_accuracy"] == 0
    assert "no gender mentioned" in sample["reasons"]["gender_accuracy"]


def test_non_string_prediction_rejected_clearly(metric):
    with pytest.raises(TypeError, match="prediction #1 is NoneType, expected str"):
        metric.compute(predictions=["ok", None], references=REFS)
