"""MODA's five description metrics as an `evaluate` module (works offline from this local folder).

import evaluate
from modeling_moda.evaluation import EVALUATE_MODULE_DIR
metric = evaluate.load(EVALUATE_MODULE_DIR)      # i.e. <site-packages>/modeling_moda/evaluation/moda_metrics
metric.compute(predictions=["A navy t-shirt for men"],
               references=[{"gender": "Men", "article_type": "Tshirts", "base_colour": "Navy Blue",
                            "usage": "Casual"}],
               judge="rules")                    # or "openai" / "transformers" (+ judge_kwargs={...})
"""

import datasets
import evaluate

from modeling_moda.core.schema import METADATA_FIELDS
from modeling_moda.evaluation import ALL_METRICS, aggregate, get_judge
from modeling_moda.evaluation.inputs import ALIASES

_DESCRIPTION = """Scores fashion product descriptions on Color Accuracy, Style Recognition, Category Accuracy,
Gender Accuracy and Factual Consistency (0-10 each, the MODA paper's rubric) and their mean, Overall."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of generated descriptions (str).
    references: list of the items' catalog metadata dicts (gender, article_type, base_colour, usage, season,
        product_title, optionally a reference `description`; Kaggle camelCase names are accepted).
    judge: "rules" (default, offline), "openai" or "transformers".
    judge_kwargs: options for `modeling_moda.evaluation.get_judge` (e.g. base_url, model, cache_path).
    return_samples: also return the per-sample scores and reasons under "samples".
Returns:
    {metric: mean} for the five metrics and overall, "{metric}_ci" as [low, high] (bootstrap 95%),
    "n_scored", "n_unscored"; with return_samples, "samples".
"""

# a reference: the item's catalog metadata (the dataset schema) plus an optional reference description
_FIELDS = ("id", *METADATA_FIELDS, "description")


def _as_text(value):
    return "" if value is None else str(value)  # evaluate's string features refuse None; "" = missing


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ModaMetrics(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation="",
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string"),
                    "references": {f: datasets.Value("string") for f in _FIELDS},
                }
            ),
        )

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of (prediction, metadata reference) pairs."""
        return super().add_batch(predictions=predictions, references=_normalise(references), **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one (prediction, metadata reference) pair."""
        return super().add(prediction=prediction, reference=_normalise([reference])[0], **kwargs)

    def compute(self, *, predictions=None, references=None, **kwargs):
        """Score `predictions` against the metadata `references` (see the module docstring)."""
        for i, prediction in enumerate(predictions or []):
            if not isinstance(prediction, str):
                raise TypeError(f"prediction #{i} is {type(prediction).__name__}, expected str")
        if references is not None:
            references = _normalise(references)
        return super().compute(predictions=predictions, references=references, **kwargs)

    def _compute(self, predictions, references, judge="rules", judge_kwargs=None, return_samples=False):
        scorer = get_judge(judge, **(judge_kwargs or {}))
        scores = scorer.score(predictions, references)
        summary = aggregate(scores)
        result = {}
        for metric in ALL_METRICS:
            result[metric] = summary[metric]["mean"]
            result[f"{metric}_ci"] = [summary[metric]["ci_low"], summary[metric]["ci_high"]]
        result["n_scored"] = summary["n_scored"]
        result["n_unscored"] = summary["n_unscored"]
        if return_samples:
            result["samples"] = [s.to_dict() for s in scores]
        return result


def _normalise(references):
    """Every reference as a dict of the known fields as strings ("" when missing); Kaggle names mapped."""
    if references is None:
        return None
    out = []
    for i, ref in enumerate(references):
        if not isinstance(ref, dict):
            raise TypeError(f"reference #{i} is {type(ref).__name__}, expected a metadata dict")
        ref = {ALIASES.get(k, k): v for k, v in ref.items()}
        out.append({f: _as_text(ref.get(f)) for f in _FIELDS})
    return out
