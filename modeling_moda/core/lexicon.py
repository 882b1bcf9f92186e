"""Read what a fashion description claims: colours, article types, gender, usage (style) and season.

`extract_attributes(text)` normalises the text (lower case, punctuation and hyphens to spaces, "men's" ->
"men"), drops the colours and garments of styling advice ("pair it with blue jeans": the jeans are not
the item; "... for a casual look" still names the usage), then scans each vocabulary of `lexicon_data` with
a longest-match-first pass over word n-grams. Each vocabulary is scanned on its own, so "sports shoes" is
both an article claim (Sports Shoes) and a usage claim (Sports).

The `*_matches` functions are the one place that decides whether a claim is right for a catalog value:
equal, or one is the family of the other ("blue" is right for Navy Blue, "navy" for Blue, but "navy" is not
right for Turquoise Blue); "Kids" is right for Boys and for Girls; "casual" for Smart Casual and back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .lexicon_data import (
    ARTICLE_NON_CLAIMS,
    ARTICLES,
    COLOUR_NON_CLAIMS,
    COLOURS,
    GENDERS,
    GENERIC_ARTICLES,
    SEASONS,
    USAGES,
)

_NON_WORD = re.compile(r"[^a-z0-9]+")
_POSSESSIVE = re.compile(r"(?<=[a-z])'s?\b")
_WORD = re.compile(r"[a-z0-9]+")
_SENTENCE = re.compile(r"[^.;!?\n]+")
# "pair it with", "teams well with", "can be worn with", "goes great with", "complements"
_STYLING_CUE = re.compile(
    r"\b(?:(?:pair|pairs|paired|team|teams|teamed|style|styled|wear|worn|combine|combined|match|matches|"
    r"go|goes|looks?)(?: (?:it|them|this|up|well|great|good|perfectly|best|nicely|easily))* with|"
    r"complements?|complemented)\b"
)


class _Vocabulary:
    """Phrase -> value map scanned longest phrase first over word n-grams (value None = non-claim)."""

    def __init__(self, phrases: dict[str, object]):
        self.phrases = phrases
        self.longest: dict[str, int] = {}  # first word -> words in the longest phrase it starts
        for phrase in phrases:
            words = phrase.split()
            self.longest[words[0]] = max(self.longest.get(words[0], 0), len(words))

    def scan(self, words: list[str]) -> list[tuple[str, object]]:
        return [(phrase, value) for phrase, value, _, _ in self.scan_positions(words)]

    def scan_positions(self, words: list[str]) -> list[tuple[str, object, int, int]]:
        """(phrase, value, first word, end word) of each claim."""
        found: list[tuple[str, object, int, int]] = []
        i, end = 0, len(words)
        while i < end:
            longest = self.longest.get(words[i])
            if longest is None:
                i += 1
                continue
            for n in range(min(longest, end - i), 0, -1):
                phrase = " ".join(words[i : i + n]) if n > 1 else words[i]
                if phrase in self.phrases:
                    if self.phrases[phrase] is not None:
                        found.append((phrase, self.phrases[phrase], i, i + n))
                    i += n
                    break
            else:
                i += 1
        return found


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """The words of `normalize(text)`, each with the [start, end) characters of `text` it was read from."""
    chars: list[str] = []
    sources: list[int] = []  # the index in `text` of each lowered character
    for i, char in enumerate(text):
        for lowered in char.lower().replace("\u2019", "'"):
            chars.append(lowered)
            sources.append(i)
    lowered = "".join(chars)
    dropped = {j for m in _POSSESSIVE.finditer(lowered) for j in range(m.start(), m.end())}
    kept = "".join(c for j, c in enumerate(lowered) if j not in dropped)
    kept_sources = [s for j, s in enumerate(sources) if j not in dropped]
    return [(m.group(), kept_sources[m.start()], kept_sources[m.end() - 1] + 1) for m in _WORD.finditer(kept)]


def normalize(text: str) -> str:
    """Lower case, "men's" -> "men", every run of non-alphanumerics -> one space."""
    text = text.lower().replace("\u2019", "'")
    text = _POSSESSIVE.sub("", text)
    return _NON_WORD.sub(" ", text).strip()


def _plurals(phrase: str) -> list[str]:
    forms = [phrase, phrase + "s", phrase + "es"]
    if phrase.endswith("y"):
        forms.append(phrase[:-1] + "ies")
    return forms


def _build_article_phrases() -> dict[str, object]:
    phrases: dict[str, object] = {}
    for article, surface in ARTICLES.items():
        for phrase in surface:
            for form in _plurals(phrase):
                phrases.setdefault(form, frozenset({article}))
    for phrase, articles in GENERIC_ARTICLES.items():
        for form in _plurals(phrase):
            phrases[form] = frozenset(articles)
    for phrase in ARTICLE_NON_CLAIMS:
        phrases[phrase] = None
    return phrases


def _invert(table: dict[str, tuple[str, ...]], non_claims: Iterable[str] = ()) -> dict[str, object]:
    phrases: dict[str, object] = {p: value for value, surface in table.items() for p in surface}
    phrases.update(dict.fromkeys(non_claims))
    return phrases


_COLOUR_VOCAB = _Vocabulary(_invert({c: s for c, (_, s) in COLOURS.items()}, COLOUR_NON_CLAIMS))
_ARTICLE_VOCAB = _Vocabulary(_build_article_phrases())
_GENDER_VOCAB = _Vocabulary(_invert(GENDERS))
_USAGE_VOCAB = _Vocabulary(_invert({u: s for u, (_, s) in USAGES.items()}))
_SEASON_VOCAB = _Vocabulary(_invert(SEASONS))

_VOCABULARIES = {
    "colour": _COLOUR_VOCAB,
    "article_type": _ARTICLE_VOCAB,
    "gender": _GENDER_VOCAB,
    "usage": _USAGE_VOCAB,
}


def claim_phrases(attribute: str) -> list[str]:
    """Every phrase that claims a value of `attribute` (colour, article_type, gender, usage), normalised."""
    return [phrase for phrase, value in _VOCABULARIES[attribute].phrases.items() if value is not None]


_CANONICAL_BY_LOWER = {
    name.lower(): name for table in (COLOURS, ARTICLES, GENDERS, USAGES, SEASONS) for name in table
}
_MISSING = {"", "na", "n/a", "nan", "none", "null", "unknown"}


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _merge_genders(claims: list[tuple[str, tuple]]) -> list[tuple[str, tuple]]:
    """'men and women' claims Unisex; 'boys and girls' claims Kids (stated where both words are); each
    gender once, at its first mention."""
    merged = list(claims)
    for a, b, both in (("Men", "Women", "Unisex"), ("Boys", "Girls", "Kids")):
        values = [g for g, _ in merged]
        if a in values and b in values:
            position = min(values.index(a), values.index(b))
            spans = tuple(s for g, spans in merged if g in (a, b) for s in spans)
            merged = [(g, spans) for g, spans in merged if g not in (a, b)]
            merged.insert(position, (both, spans))
    first: dict[str, tuple] = {}
    for gender, spans in merged:
        first.setdefault(gender, spans)
    return list(first.items())


def extract_attributes(text: str) -> dict:
    """What `text` claims about the item, as canonical catalog values in order of first mention.

    Returns {"colours": [...], "article_types": [...], "articles": [{"phrase", "types"}], "genders": [...],
    "usages": [...], "seasons": [...]}. `article_types` is the union of every article claim's candidates;
    `articles` keeps each claim (a generic word such as "sneakers" names several Kaggle types).
    """
    return extract_with_words(text)[0]


def extract_with_words(text: str) -> tuple[dict, list[str]]:
    """`extract_attributes(text)` and the claim words it read (styling advice removed)."""
    claims, words = _claims_and_words(text)
    articles: list[dict] = []
    for types, phrase, _ in claims["articles"]:
        if not any(a["types"] == list(types) for a in articles):
            articles.append({"phrase": phrase, "types": list(types)})
    attributes = {
        "colours": _unique(v for v, _ in claims["colours"]),
        "article_types": _unique(t for a in articles for t in a["types"]),
        "articles": articles,
        "genders": [v for v, _ in claims["genders"]],
        "usages": _unique(v for v, _ in claims["usages"]),
        "seasons": _unique(v for v, _ in claims["seasons"]),
    }
    return attributes, [w for w, _, _ in words]


def extract_claims(text: str) -> dict[str, list]:
    """Each claim `extract_attributes` reads, in order, with where `text` states it: {"colours", "genders",
    "usages", "seasons": [(value, spans)], "articles": [(types, phrase, spans)]}; spans: the [start, end)
    characters of its words ("men and women" -> Unisex has both words' spans). Genders are merged and
    unique; other values may repeat, once per mention."""
    return _claims_and_words(text)[0]


Span = tuple[int, int]


def _claims_and_words(text: str) -> tuple[dict[str, list], list[tuple[str, int, int]]]:
    all_words: list[tuple[str, int, int]] = []  # "... for a casual look" in styling advice names the usage
    words: list[tuple[str, int, int]] = []  # colours and articles in styling advice name other garments
    for sentence in _SENTENCE.finditer(text):
        spans = [(w, sentence.start() + a, sentence.start() + b) for w, a, b in word_spans(sentence.group())]
        clause = " ".join(w for w, _, _ in spans)
        cue = _STYLING_CUE.search(clause)
        all_words.extend(spans)
        words.extend(spans[: len(clause[: cue.start()].split())] if cue else spans)

    def scan(vocabulary: _Vocabulary, scanned: list[tuple[str, int, int]]) -> list[tuple[str, object, Span]]:
        found = vocabulary.scan_positions([w for w, _, _ in scanned])
        return [(phrase, value, (scanned[i][1], scanned[j - 1][2])) for phrase, value, i, j in found]

    claims = {
        "colours": [(v, (span,)) for _, v, span in scan(_COLOUR_VOCAB, words)],
        "articles": [(tuple(sorted(v)), p, (span,)) for p, v, span in scan(_ARTICLE_VOCAB, words)],
        "genders": _merge_genders([(v, (span,)) for _, v, span in scan(_GENDER_VOCAB, all_words)]),
        "usages": [(v, (span,)) for _, v, span in scan(_USAGE_VOCAB, all_words)],
        "seasons": [(v, (span,)) for _, v, span in scan(_SEASON_VOCAB, all_words)],
    }
    return claims, words


def is_missing(value: object) -> bool:
    """A catalog field that carries no value (None, '', 'NA', NaN)."""
    if value is None or (isinstance(value, float) and value != value):  # NaN from pandas
        return True
    return str(value).strip().lower() in _MISSING


def canonical(value: object) -> str | None:
    """The canonical spelling of a catalog value ('navy blue' -> 'Navy Blue'); unknown ones kept as given."""
    if is_missing(value):
        return None
    text = " ".join(str(value).split())
    return _CANONICAL_BY_LOWER.get(text.lower(), text)


def colours_of(value: object) -> list[str]:
    """Canonical colours of a catalog colour field; several may be given ('Black/White', 'Red & Blue')."""
    if is_missing(value):
        return []
    found: list[str] = []
    for part in re.split(r"\s*(?:/|,|&|\+|\band\b)\s*", str(value)):
        if is_missing(part):
            continue
        name = canonical(part)
        if name in COLOURS:
            found.append(name)
        else:
            found.extend(v for _, v in _COLOUR_VOCAB.scan(normalize(part).split()))
    return _unique(found)


def title_colours(title: object) -> list[str]:
    """Colours a product title names (brand names such as 'Red Tape' are not colours)."""
    if is_missing(title):
        return []
    return _unique(v for _, v in _COLOUR_VOCAB.scan(normalize(str(title)).split()))


def colour_family(colour: str) -> str:
    return COLOURS[colour][0] if colour in COLOURS else colour


def colour_matches(claim: str, item: str) -> bool:
    """Equal, or one is the other's family ('blue' ~ Navy Blue); shades of one family do not match."""
    return claim == item or colour_family(claim) == item or colour_family(item) == claim


_USAGE_FAMILY = {u: f for u, (f, _) in USAGES.items()}


def usage_matches(claim: str, usage: str) -> bool:
    return claim == usage or _USAGE_FAMILY.get(claim) == usage or _USAGE_FAMILY.get(usage) == claim


def gender_matches(claim: str, gender: str) -> bool:
    return claim == gender or (claim == "Kids" and gender in ("Boys", "Girls"))


def article_is_known(article: str) -> bool:
    return article in ARTICLES


def names_phrase(words: list[str], name: str) -> bool:
    """Whether the words contain `name` (an article type the lexicon does not know), singular or plural."""
    target = normalize(name)
    singular = re.sub(r"(?:es|s)$", "", target)
    text = " " + " ".join(words) + " "
    return any(f" {form} " in text for form in {target, *_plurals(singular)} if form)
