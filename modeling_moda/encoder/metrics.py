"""How much of each attribute the encoder sees: zero-shot top-1 and a linear probe on frozen image embeddings.

Zero-shot (as CLIP and FashionCLIP report it): each test image goes to the attribute value whose prompt
(texts.prompt) is nearest; the candidates are the values the train split uses. The linear probe is a
multinomial logistic regression (torch, L-BFGS, small L2) fit on the train split's embeddings and scored on
the test split: the ceiling of what the frozen features hold, whatever the text tower learned.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .model import text_embeds
from .texts import ATTRIBUTES, prompt


def _labels(rows: Sequence[dict], column: str, classes: list[str]) -> torch.Tensor:
    index = {value: i for i, value in enumerate(classes)}
    return torch.tensor([index.get(row.get(column) or "", -1) for row in rows])  # -1: not a train value


@torch.inference_mode()
def zero_shot(model, tokenizer, test_embeds: torch.Tensor, test_rows: Sequence[dict], vocab: dict) -> dict:
    """attribute -> top-1 accuracy over test items that have the attribute (None: fewer than 2 values)."""
    scores = {}
    for attribute, column in ATTRIBUTES.items():
        classes = vocab[attribute]
        if len(classes) < 2 or not any(row.get(column) for row in test_rows):
            scores[attribute] = None
            continue
        prompts = text_embeds(model, tokenizer, [prompt(attribute, value) for value in classes])  # [K, P]
        labels = _labels(test_rows, column, classes)
        has = torch.tensor([bool(row.get(column)) for row in test_rows])
        predicted = (test_embeds @ prompts.T).argmax(dim=-1)  # [N]
        scores[attribute] = round(float((predicted == labels)[has].float().mean()), 4)
    return scores


def _fit_probe(
    features: torch.Tensor, labels: torch.Tensor, classes: int, l2: float = 1e-4
) -> torch.nn.Linear:
    torch.manual_seed(0)
    probe = torch.nn.Linear(features.shape[1], classes)
    optimizer = torch.optim.LBFGS(probe.parameters(), lr=1.0, max_iter=200, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(probe(features), labels) + l2 * probe.weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    return probe


def linear_probe(
    train_embeds: torch.Tensor,
    train_rows: Sequence[dict],
    test_embeds: torch.Tensor,
    test_rows: Sequence[dict],
    vocab: dict,
) -> dict:
    """attribute -> test accuracy of a logistic regression on frozen image embeddings (None: < 2 values)."""
    scores = {}
    scale = train_embeds.std(dim=0, keepdim=True).clamp(min=1e-6)
    for attribute, column in ATTRIBUTES.items():
        classes = vocab[attribute]
        if len(classes) < 2 or not any(row.get(column) for row in test_rows):
            scores[attribute] = None
            continue
        train_labels = _labels(train_rows, column, classes)
        keep = train_labels >= 0
        with torch.enable_grad():
            probe = _fit_probe(train_embeds[keep] / scale, train_labels[keep], len(classes))
        test_labels = _labels(test_rows, column, classes)
        has = torch.tensor([bool(row.get(column)) for row in test_rows])
        with torch.no_grad():
            predicted = probe(test_embeds / scale).argmax(dim=-1)
        scores[attribute] = round(float((predicted == test_labels)[has].float().mean()), 4)
    return scores


def vocabulary(rows: Sequence[dict]) -> dict[str, list[str]]:
    """attribute -> the sorted values the (train) rows use: the zero-shot candidates and probe classes."""
    return {
        attribute: sorted({str(row[column]) for row in rows if row.get(column)})
        for attribute, column in ATTRIBUTES.items()
    }
