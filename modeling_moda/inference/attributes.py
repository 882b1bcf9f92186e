"""Attributes with confidence, read from a generated description and the model's own token probabilities.

    described = describer.describe_detailed([image])[0]
    described.text         # "Navy blue cotton shirt for men, casual."
    described.attributes   # {"colour": [{"value": "Navy Blue", "confidence": 0.93}], "article_type": ...}
    described.weakest()    # ("usage", "Casual", 0.71): the attribute a reviewer should check first

The values are what the rules judge reads in the text (`core.lexicon.extract_claims`, the same lexicon), so
an attribute and the judge's verdict on it cannot drift apart; the schema is `core.attributes`.

Confidence of an attribute: the probability greedy decoding gave its phrase, with the phrase's first token
counted among the alternatives *for that attribute* only. At the step where the phrase starts, `within` =
p(chosen) / p(any token that can begin a phrase of the attribute); each later token of the phrase adds its
own probability (product). Why: the plain token probability also holds the model's doubt about phrasing.
After "A pair of", " black" (0.70) competes with " shorts": the model is sure of the colour and unsure only
whether to say it first. Measured on the quickstart test split (522 items, ECE over 10 bins): the plain
product of the phrase's token probabilities gave colour ECE 0.144 and article type 0.140 (confidence 0.84
for 98% right); the minimum and the geometric mean were no better (0.144 / 0.134, 0.140 / 0.098); the
renormalised first token gives 0.032 and 0.013. Gender and usage stay over-confident (ECE ~0.08): the
model is sure and the photo often lacks the cue (see the quickstart report's ceiling table).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from modeling_moda.core import lexicon
from modeling_moda.core.attributes import ATTRIBUTES, lowest_confidence


@dataclass
class Described:
    """One description and its attributes (schema: `core.attributes`)."""

    text: str
    attributes: dict

    def weakest(self) -> tuple[str, str, float] | None:
        """(attribute name, value, confidence) of the least confident attribute found; None if none found."""
        return lowest_confidence(self.attributes)


def token_spans(tokenizer: Any, token_ids: Sequence[int]) -> tuple[str, list[tuple[int, int]]]:
    """The decoded text (stripped, as `describe` returns it) and each token's [start, end) characters in it.

    Each token's end is where the decoded text of the tokens up to it ends: decoding prefixes follows the
    tokenizer's own decoder (byte-level merges, a multi-byte character split over tokens)."""
    ids = list(token_ids)
    if not ids:
        return "", []
    prefixes = tokenizer.batch_decode([ids[: k + 1] for k in range(len(ids))], skip_special_tokens=True)
    full = prefixes[-1]
    lead = len(full) - len(full.lstrip())
    text = full.strip()
    spans, start = [], 0
    for prefix in prefixes:
        end = max(start, min(len(prefix), len(full)))
        spans.append((max(0, start - lead), max(0, min(end - lead, len(text)))))
        start = end
    return text, spans


def attribute_token_sets(tokenizer: Any) -> dict[str, list[int]]:
    """attribute -> ids of the tokens that can begin one of its phrases (core.lexicon.claim_phrases), as
    written in lower, Capitalised or Title case, with or without a leading space."""
    sets = {}
    for name in ATTRIBUTES:
        forms = [
            lead + cased
            for phrase in lexicon.claim_phrases(name)
            for cased in {phrase, phrase.capitalize(), phrase.title()}
            for lead in ("", " ")
        ]
        encoded = tokenizer(forms, add_special_tokens=False)["input_ids"]
        sets[name] = sorted({ids[0] for ids in encoded if ids})
    return sets


def step_scores(
    scores: np.ndarray | torch.Tensor,
    tokens: np.ndarray | torch.Tensor,
    token_sets: Mapping[str, Sequence[int]],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """One decoding step's scores [B, V] and chosen tokens [B] -> the chosen token's probability [B]
    (softmax of the scores) and, per attribute, its probability among the tokens of `token_sets[attribute]`
    and itself [B] (`within` in the module's rule). One implementation for both runtimes (torch kernels:
    a float32 logsumexp over the vocabulary, then only the sets' columns)."""
    scores = torch.as_tensor(scores).float()
    tokens = torch.as_tensor(tokens).long()
    log_norm = torch.logsumexp(scores, dim=-1)  # [B]
    chosen = (scores.gather(1, tokens[:, None])[:, 0] - log_norm).exp()
    within = {}
    for name, ids in token_sets.items():
        ids = torch.as_tensor(ids, dtype=torch.long)
        mass = (scores[:, ids] - log_norm[:, None]).exp().sum(-1)
        outside = (~torch.isin(tokens, ids)).float()
        within[name] = (chosen / (mass + chosen * outside).clamp_min(1e-30)).numpy()
    return chosen.numpy(), within


def read_attributes(
    text: str,
    spans: Sequence[tuple[int, int]],
    probabilities: Sequence[float],
    within: Mapping[str, Sequence[float]] | None = None,
) -> dict:
    """The attributes `text` states (core.attributes schema), each with its confidence from the tokens
    (their character `spans` in `text`) that state it: `within[attribute]` at the first of them (the plain
    probability when `within` is None) times the `probabilities` of the rest."""

    def confidence(name: str, claim_spans: Sequence[tuple[int, int]]) -> float:
        stated = [
            i for i, (start, end) in enumerate(spans) if any(start < b and end > a for a, b in claim_spans)
        ]
        if not stated:  # no token for a claim would be a bug in the offsets: say "unsure" rather than "sure"
            return 0.0
        first = (within[name] if within is not None else probabilities)[stated[0]]
        value = first * math.prod(probabilities[i] for i in stated[1:])
        return round(min(1.0, max(0.0, float(value))), 4)

    claims = lexicon.extract_claims(text)
    colours: dict[str, dict] = {}
    for value, claim_spans in claims["colours"]:
        colours.setdefault(value, {"value": value, "confidence": confidence("colour", claim_spans)})
    article = None
    if claims["articles"]:
        types, phrase, claim_spans = claims["articles"][0]
        value = types[0] if len(types) == 1 else phrase
        article = {
            "value": value,
            "types": list(types),
            "confidence": confidence("article_type", claim_spans),
        }
    first = {
        name: {"value": found[0][0], "confidence": confidence(name, found[0][1])} if found else None
        for name, found in (("gender", claims["genders"]), ("usage", claims["usages"]))
    }
    attributes = {"colour": list(colours.values()), "article_type": article, **first}
    return {name: attributes[name] for name in ATTRIBUTES}


def described_from_tokens(
    tokenizer: Any,
    token_ids: Sequence[int],
    probabilities: Sequence[float],
    eos_token_ids: Sequence[int] = (),
    within: Mapping[str, Sequence[float]] | None = None,
) -> Described:
    """A `Described` from one row of greedy generation: the new token ids, each one's probability and
    (`step_scores`) its probability within each attribute's first tokens.

    The row ends at its first EOS (a batched loop pads finished rows); special tokens state nothing."""
    ids = [int(t) for t in token_ids]
    if len(ids) != len(probabilities) or any(len(v) != len(ids) for v in (within or {}).values()):
        raise ValueError(f"{len(ids)} token ids but {len(probabilities)} probabilities (or within-scores)")
    eos = set(eos_token_ids)
    end = next((i for i, t in enumerate(ids) if t in eos), len(ids))
    special = set(tokenizer.all_special_ids)
    kept = [i for i in range(end) if ids[i] not in special]
    text, spans = token_spans(tokenizer, [ids[i] for i in kept])
    probs = [float(probabilities[i]) for i in kept]
    kept_within = None if within is None else {n: [float(v[i]) for i in kept] for n, v in within.items()}
    return Described(text=text, attributes=read_attributes(text, spans, probs, kept_within))


def described_rows(
    tokenizer: Any,
    token_ids: np.ndarray,
    steps: Sequence[tuple[np.ndarray, dict[str, np.ndarray]]],
    eos_token_ids: Sequence[int],
) -> list[Described]:
    """`Described` per row of a batch: new token ids [B, T] and `step_scores` of each of the T steps."""
    if not steps:
        return [Described(text="", attributes=read_attributes("", [], [])) for _ in range(len(token_ids))]
    probabilities = np.stack([chosen for chosen, _ in steps], axis=1)  # [B, T]
    within = {name: np.stack([w[name] for _, w in steps], axis=1) for name in ATTRIBUTES}
    return [
        described_from_tokens(
            tokenizer, row, probabilities[b], eos_token_ids, {name: w[b] for name, w in within.items()}
        )
        for b, row in enumerate(token_ids.tolist())
    ]
