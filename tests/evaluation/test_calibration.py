"""Calibration of described attributes on known inputs: correctness by the judge's matchers, ECE, reliability
bins, the review table and the diagram."""

from __future__ import annotations

import pytest

from modeling_moda.evaluation.calibration import (
    attribute_correct,
    calibration_report,
    expected_calibration_error,
    plot_reliability,
    reliability_bins,
    review_table,
)


def entry(value: str, confidence: float, **extra) -> dict:
    return {"value": value, "confidence": confidence, **extra}


def stated(colour=(), article=None, gender=None, usage=None) -> dict:
    return {"colour": list(colour), "article_type": article, "gender": gender, "usage": usage}


NAVY_SHIRT = {"base_colour": "Navy Blue", "article_type": "Shirts", "gender": "Boys", "usage": "Smart Casual"}


def test_an_attribute_is_right_as_the_rules_judge_reads_a_claim():
    assert attribute_correct("colour", entry("Blue", 0.9), NAVY_SHIRT) is True  # the family of Navy Blue
    assert attribute_correct("colour", entry("Turquoise Blue", 0.9), NAVY_SHIRT) is False  # a sibling shade
    assert attribute_correct("colour", entry("Red", 0.9), {"base_colour": "Multi"}) is True
    assert attribute_correct("colour", entry("Red", 0.9), {"base_colour": "NA"}) is None
    shoes = entry("sneakers", 0.9, types=["Casual Shoes", "Sports Shoes"])
    assert attribute_correct("article_type", shoes, {"article_type": "Sports Shoes"}) is True
    assert attribute_correct("article_type", shoes, NAVY_SHIRT) is False
    assert attribute_correct("gender", entry("Kids", 0.9), NAVY_SHIRT) is True
    assert attribute_correct("gender", entry("Men", 0.9), NAVY_SHIRT) is False
    assert attribute_correct("usage", entry("Casual", 0.9), NAVY_SHIRT) is True
    assert attribute_correct("usage", entry("Casual", 0.9), {"usage": None}) is None


def test_ece_and_reliability_bins_on_known_pairs():
    pairs = [(0.95, True)] * 9 + [(0.95, False)] + [(0.35, True), (0.35, False)]
    bins = reliability_bins(pairs)
    assert [b["n"] for b in bins] == [0, 0, 0, 2, 0, 0, 0, 0, 0, 10]
    assert bins[9]["accuracy"] == pytest.approx(0.9) and bins[3]["confidence"] == pytest.approx(0.35)
    assert expected_calibration_error(pairs) == pytest.approx((10 * 0.05 + 2 * 0.15) / 12)
    assert expected_calibration_error([(1.0, True), (0.0, False)]) == 0.0  # the bin edges are inside
    assert expected_calibration_error([]) is None


def test_the_review_table_holds_weak_items_and_counts_errors_among_the_rest():
    attributes = [
        stated([entry("Navy Blue", 0.99)], gender=entry("Boys", 0.9)),  # right, weakest 0.9
        stated([entry("Red", 0.6)], gender=entry("Boys", 0.99)),  # wrong colour, weakest 0.6
        stated(),  # states nothing: always held
    ]
    rows = review_table(attributes, [NAVY_SHIRT] * 3, thresholds=(0.5, 0.7, 0.95))
    assert [r["held_share"] for r in rows] == pytest.approx([1 / 3, 2 / 3, 1.0])
    assert [r["passed"] for r in rows] == [2, 1, 0]
    assert [r["error_rate_passed"] for r in rows] == [0.5, 0.0, None]


def test_calibration_report_and_diagram(tmp_path):
    attributes = [stated([entry("Blue", 0.9)], entry("Shirts", 0.8, types=["Shirts"]))] * 4
    attributes += [stated([entry("Red", 0.7)], usage=entry("Sports", 0.3))]
    report = calibration_report(attributes, [NAVY_SHIRT] * 5, thresholds=(0.5,))
    colour, article, usage = (report["attributes"][n] for n in ("colour", "article_type", "usage"))
    assert colour["n"] == 5 and colour["accuracy"] == 0.8
    assert colour["ece"] == pytest.approx((4 * 0.1 + 1 * 0.7) / 5)
    assert article["n"] == 4 and article["ece"] == pytest.approx(0.2)
    assert usage["n"] == 1 and report["attributes"]["gender"]["n"] == 0
    assert report["all"]["n"] == 10 and report["review"][0]["held_share"] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="5 attribute sets but 4 references"):
        calibration_report(attributes, [NAVY_SHIRT] * 4)
    png = plot_reliability(report, tmp_path / "reliability.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
