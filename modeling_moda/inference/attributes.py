"""Attributes with confidence, read from a generated description and the model's own token probabilities.

    described = describer.describe_detailed([image])[0]
    described.text         # "Navy blue cotton shirt for men, casual."
    described.attributes   # {"colour": [{"value": "Navy Blue", "confidence": 0.93}], "article_type": ...}
    described.weakest()    # ("usage", "Casual", 0.71): the attribute a reviewer should check first

The values are what the rules judge reads in the text (`core.lexicon.extract_claims`, the same lexicon), so
an attribute and the judge's verdict on it cannot drift apart; the schema is `core.attributes`.

Confidence of an attribute = the probability of its phrase: the product of the greedy decoder's
probabilities (softmax of the step's scores at the chosen token) over the tokens that state it, at its
first mention. A token states a phrase when their characters overlap (byte-level BPE tokens carry their
leading space). The product is the model's probability of that whole phrase given what it wrote before it;
the decision usually sits in the first token ("navy" vs "blue"), the product keeps it and adds the doubt
of later tokens ("navy" then " blue" vs " green"). `CONFIDENCE_RULES` also has the minimum and the geometric
mean; on the quickstart test split the product was best calibrated (README: attributes and confidence).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from modeling_moda.core import lexicon
from modeling_moda.core.attributes import ATTRIBUTES, lowest_confidence

CONFIDENCE_RULES: dict[str, Callable[[Sequence[float]], float]] = {
    "product": math.prod,
    "min": min,
    "geometric_mean": lambda ps: math.exp(sum(math.log(max(p, 1e-45)) for p in ps) / len(ps)),
}
DEFAULT_RULE = "product"


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


def read_attributes(
    text: str,
    spans: Sequence[tuple[int, int]],
    probabilities: Sequence[float],
    rule: str = DEFAULT_RULE,
) -> dict:
    """The attributes `text` states (core.attributes schema), each with the confidence `rule` gives over
    the probabilities of the tokens (their character `spans` in `text`) that state it."""
    combine = CONFIDENCE_RULES[rule]

    def confidence(claim_spans: Sequence[tuple[int, int]]) -> float:
        stated = [
            p
            for (start, end), p in zip(spans, probabilities, strict=True)
            if any(start < b and end > a for a, b in claim_spans)
        ]
        # no token found for a claim would be a bug in the offsets: say "unsure" rather than "sure"
        return round(min(1.0, max(0.0, float(combine(stated)))), 4) if stated else 0.0

    claims = lexicon.extract_claims(text)
    colours: dict[str, dict] = {}
    for value, claim_spans in claims["colours"]:
        colours.setdefault(value, {"value": value, "confidence": confidence(claim_spans)})
    article = None
    if claims["articles"]:
        types, phrase, claim_spans = claims["articles"][0]
        value = types[0] if len(types) == 1 else phrase
        article = {"value": value, "types": list(types), "confidence": confidence(claim_spans)}
    first = {
        name: {"value": found[0][0], "confidence": confidence(found[0][1])} if found else None
        for name, found in (("gender", claims["genders"]), ("usage", claims["usages"]))
    }
    attributes = {"colour": list(colours.values()), "article_type": article, **first}
    return {name: attributes[name] for name in ATTRIBUTES}


def described_from_tokens(
    tokenizer: Any,
    token_ids: Sequence[int],
    probabilities: Sequence[float],
    eos_token_ids: Sequence[int] = (),
    rule: str = DEFAULT_RULE,
) -> Described:
    """A `Described` from one row of greedy generation: the new token ids and each one's probability.

    The row ends at its first EOS (a batched loop pads finished rows); special tokens state nothing."""
    ids = [int(t) for t in token_ids]
    probs = [float(p) for p in probabilities]
    if len(ids) != len(probs):
        raise ValueError(f"{len(ids)} token ids but {len(probs)} probabilities")
    eos = set(eos_token_ids)
    end = next((i for i, t in enumerate(ids) if t in eos), len(ids))
    special = set(tokenizer.all_special_ids)
    kept = [(t, p) for t, p in zip(ids[:end], probs[:end], strict=True) if t not in special]
    text, spans = token_spans(tokenizer, [t for t, _ in kept])
    return Described(text=text, attributes=read_attributes(text, spans, [p for _, p in kept], rule))
