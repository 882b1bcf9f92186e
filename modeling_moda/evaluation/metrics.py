"""The five MODA metrics (0-10, the seed's rubric), Overall, and one sample's scores.

- color_accuracy = 10 x (item colours the description names correctly) / (colours in the item)
- style_recognition = 10 if the usage/style is right, else 0
- category_accuracy = 10 if the article type is right, else 0
- gender_accuracy = 10 if the intended gender is right, else 0
- factual_consistency = 10 x (correct details) / (all checkable details the description mentions)
- overall = mean of the five that apply to the sample

A metric is `None` ("not applicable") when the reference lacks the field it checks; Overall then averages
the others. A sample the judge could not score (bad input, judge failure) has `error` set and no scores.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

METRICS: tuple[str, ...] = (
    "color_accuracy",
    "style_recognition",
    "category_accuracy",
    "gender_accuracy",
    "factual_consistency",
)
BINARY_METRICS: tuple[str, ...] = ("style_recognition", "category_accuracy", "gender_accuracy")
RATIO_METRICS: tuple[str, ...] = ("color_accuracy", "factual_consistency")
ALL_METRICS: tuple[str, ...] = (*METRICS, "overall")
DISPLAY_NAMES: dict[str, str] = {
    "color_accuracy": "Color Accuracy",
    "style_recognition": "Style Recognition",
    "category_accuracy": "Category Accuracy",
    "gender_accuracy": "Gender Accuracy",
    "factual_consistency": "Factual Consistency",
    "overall": "Overall",
}


def overall_of(scores: dict[str, float | None]) -> float | None:
    """Mean of the metrics that apply (not None); None when none applies."""
    values = [scores[m] for m in METRICS if scores.get(m) is not None]
    return round(sum(values) / len(values), 4) if values else None


@dataclass
class SampleScore:
    """One sample's scores (metric -> 0..10 or None), the reason for each, and the judge that gave them."""

    judge: str
    scores: dict[str, float | None] = field(default_factory=lambda: dict.fromkeys(ALL_METRICS))
    reasons: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    cached: bool = False
    usage: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_metrics(
        cls, judge: str, scores: dict[str, float | None], reasons: dict[str, str], **kw
    ) -> SampleScore:
        full = {m: (None if scores.get(m) is None else round(float(scores[m]), 4)) for m in METRICS}
        full["overall"] = overall_of(full)
        return cls(judge=judge, scores=full, reasons=dict(reasons), **kw)

    @classmethod
    def unscored(cls, judge: str, error: str) -> SampleScore:
        return cls(judge=judge, error=error)

    @property
    def scored(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict:
        return asdict(self)
