"""The offline judge: the lexicon reads what a description claims; the rubric scores it against the metadata.

Documented decisions (the fidelity fixture in tests/evaluation pins each one):
- Item colours = the catalog colour field (several allowed: 'Black/White') plus colours the product title
  names that are not already there; 'Multi' is dropped when the title names the colours.
- A colour is named correctly when the description names it, a synonym ('navy'), or its family ('blue' for
  Navy Blue), or a shade of it when the item colour is the family itself ('navy' for Blue). Siblings of one
  family ('navy' for Turquoise Blue) are wrong. 'Multi' is named by 'multicoloured' or by two or more colours.
- Style, category, gender: 10 when one of the description's claims for that attribute is right, 0 when none
  is or nothing is claimed ("not mentioned" is not "identified"). Extra wrong claims cost Factual Consistency.
- A generic word is right for every type it covers ('sneakers' for Casual or Sports Shoes, 'shoes' for any
  shoe, 'bag' for any bag); an article type the lexicon does not know is right when its name is mentioned.
- Gender: 'men and women' claims Unisex; Unisex items need a Unisex claim; 'kids' is right for Boys/Girls.
- Factual Consistency: the checkable details are each distinct colour, article, gender, usage and season the
  description claims; a detail is correct when it matches the metadata (any colour is correct for a 'Multi'
  item whose colours are not listed); claims about a field the reference lacks are not counted. No checkable
  detail at all (e.g. an empty prediction) scores 0: nothing relevant was said.
- Styling advice ('pair it with blue jeans') claims nothing about the item and is ignored.
- A reference field that is missing or 'NA' makes its metric not applicable (None); Overall averages the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..core import lexicon
from .inputs import InvalidSample, check_lengths, prepare
from .metrics import SampleScore


def item_colours(reference: dict) -> list[str]:
    colours = lexicon.colours_of(reference.get("base_colour"))
    for colour in lexicon.title_colours(reference.get("product_title")):
        if not any(lexicon.colour_matches(colour, c) for c in colours):
            colours.append(colour)
    if "Multi" in colours and len(colours) > 1:
        colours.remove("Multi")
    return colours


def _colour_named(item: str, claims: list[str]) -> bool:
    if item == "Multi":
        return "Multi" in claims or len(claims) >= 2
    return any(lexicon.colour_matches(c, item) for c in claims)


def _fmt(values: Sequence[str]) -> str:
    return ", ".join(values) if values else "nothing"


class RulesJudge:
    """Deterministic, offline, fast: thousands of samples per second on one CPU core."""

    name = "rules"

    def score(self, predictions: Sequence[object], references: Sequence[object]) -> list[SampleScore]:
        check_lengths(predictions, references)
        return [self.score_one(i, p, r) for i, (p, r) in enumerate(zip(predictions, references, strict=True))]

    def score_one(self, index: int, prediction: object, reference: object) -> SampleScore:
        try:
            text, ref, truncated = prepare(index, prediction, reference)
        except InvalidSample as err:
            return SampleScore.unscored(self.name, str(err))
        claims, words = lexicon.extract_with_words(text)
        scores: dict[str, float | None] = {}
        reasons: dict[str, str] = {}
        details: list[tuple[str, bool]] = []  # (detail, correct) for factual consistency

        # colour
        colours = item_colours(ref)
        multi_unlisted = colours == ["Multi"]
        for c in claims["colours"]:
            ok = multi_unlisted or any(lexicon.colour_matches(c, item) for item in colours)
            if colours:
                details.append((f"colour {c}", ok))
        if colours:
            named = [c for c in colours if _colour_named(c, claims["colours"])]
            scores["color_accuracy"] = 10.0 * len(named) / len(colours)
            reasons["color_accuracy"] = (
                f"item colours {_fmt(colours)}; description names {_fmt(claims['colours'])}; "
                f"{len(named)}/{len(colours)} named correctly"
            )
        else:
            scores["color_accuracy"] = None
            reasons["color_accuracy"] = "not applicable: the reference has no colour"

        # style / usage
        usage = lexicon.canonical(ref.get("usage"))
        scores["style_recognition"], reasons["style_recognition"] = self._binary(
            "usage", usage, claims["usages"], lexicon.usage_matches, details
        )

        # category / article type
        article = lexicon.canonical(ref.get("article_type"))
        article_claims = claims["articles"]
        if article is None:
            scores["category_accuracy"] = None
            reasons["category_accuracy"] = "not applicable: the reference has no article type"
        else:
            right = [a for a in article_claims if article in a["types"]]
            for a in article_claims:
                details.append((f"article '{a['phrase']}'", article in a["types"]))
            if not right and not lexicon.article_is_known(article) and lexicon.names_phrase(words, article):
                right = [{"phrase": article.lower()}]
                details.append((f"article '{article.lower()}'", True))
            phrases = [a["phrase"] for a in article_claims]
            scores["category_accuracy"] = 10.0 if right else 0.0
            if right:
                reasons["category_accuracy"] = f"'{right[0]['phrase']}' is right for {article}"
            elif phrases:
                reasons["category_accuracy"] = f"claims {_fmt(phrases)}; item is {article}"
            else:
                reasons["category_accuracy"] = f"no article type mentioned; item is {article}"

        # gender
        gender = lexicon.canonical(ref.get("gender"))
        scores["gender_accuracy"], reasons["gender_accuracy"] = self._binary(
            "gender", gender, claims["genders"], lexicon.gender_matches, details
        )

        # season (a checkable detail only; no metric of its own)
        season = lexicon.canonical(ref.get("season"))
        if season is not None:
            details.extend((f"season {s}", s == season) for s in claims["seasons"])

        # factual consistency
        correct = [d for d, ok in details if ok]
        wrong = [d for d, ok in details if not ok]
        scores["factual_consistency"] = 10.0 * len(correct) / len(details) if details else 0.0
        reasons["factual_consistency"] = (
            f"{len(correct)}/{len(details)} checkable details correct"
            + (f"; wrong: {_fmt(wrong)}" if wrong else "")
            if details
            else "no checkable detail mentioned"
        )
        if truncated:
            reasons["note"] = "prediction truncated to its first 2000 characters"
        return SampleScore.from_metrics(self.name, scores, reasons)

    @staticmethod
    def _binary(field, value, claimed, matches, details) -> tuple[float | None, str]:
        if value is None:
            return None, f"not applicable: the reference has no {field}"
        details.extend((f"{field} {c}", matches(c, value)) for c in claimed)
        right = [c for c in claimed if matches(c, value)]
        if right:
            return 10.0, f"'{right[0]}' is right for {value}"
        if claimed:
            return 0.0, f"claims {_fmt(claimed)}; item is {value}"
        return 0.0, f"no {field} mentioned; item is {value}"
