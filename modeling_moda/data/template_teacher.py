"""The offline teacher and refiner: descriptions written from the metadata alone, in varied natural phrasings.

Deterministic (the phrasing is chosen by a hash of the item id and step), instant, needs no model: the
default of the offline path. It states colour, kind of item, gender and usage, and a pattern when the product
title names one ("Striped", "Check", "Polka Dot").

Step 1 imitates a real VLM teacher's OCR habit (the seed's Phi-3 Vision reads text off products): when the
catalog knows words printed on the item (the synthetic catalog's sidecar), the raw description quotes them,
so the refiner and the OCR check have real work. Step 2 rewrites from the metadata and drops them.
"""

from __future__ import annotations

import hashlib
import json
import re

from ..core.schema import CatalogItem

NAME = "template"
MODEL = "template-v1"

# Kaggle article types whose natural name differs from "lower case, drop the plural s".
_NOUNS = {
    "tshirts": "T-shirt",
    "tops": "top",
    "kurtas": "kurta",
    "kurtis": "kurti",
    "dresses": "dress",
    "watches": "watch",
    "handbags": "handbag",
    "backpacks": "backpack",
    "wallets": "wallet",
    "belts": "belt",
    "caps": "cap",
    "ties": "tie",
    "sarees": "saree",
    "sweaters": "sweater",
}
# Nouns that are plural by nature: "a pair of ..."
_PAIRS = ("jeans", "trousers", "shorts", "shoes", "heels", "flip flops", "sandals", "socks", "sunglasses",
          "track pants", "leggings", "flats", "boots", "slippers", "capris", "briefs", "trunks")  # fmt: skip
_PATTERNS = {
    "striped": "striped",
    "stripes": "striped",
    "check": "checked",
    "checked": "checked",
    "polka": "polka-dot",
    "dotted": "polka-dot",
    "printed": "printed",
    "floral": "floral",
}
_GENDER = {"men": "men", "women": "women", "boys": "boys", "girls": "girls", "unisex": "men and women"}
_GENDER_ADJ = {"men": "men's", "women": "women's", "boys": "boys'", "girls": "girls'", "unisex": "unisex"}
_USAGE = {
    "casual": ("for everyday casual wear", "an easy casual choice", "made for relaxed, casual days"),
    "formal": ("for formal occasions", "suited to the office and formal events", "a polished formal piece"),
    "sports": ("built for sports and workouts", "made for an active, sporty day", "for sport and training"),
    "ethnic": ("in a traditional ethnic style", "for festive ethnic wear", "with a classic ethnic look"),
    "party": ("for parties and evenings out", "made to stand out at a party", "a standout party piece"),
    "smart casual": ("for smart casual looks", "a smart casual choice for work and weekends"),
    "travel": ("made for travel", "a practical travel companion"),
    "home": ("for lounging at home",),
}
_FINAL_TEMPLATES = (
    "{A} {colour} {pattern}{noun} for {gender}, {usage}.",
    "{Adj} {colour} {pattern}{noun}, {usage}.",
    "{A_pn} {pattern}{noun} for {gender} in {colour}, {usage}.",
    "{A} {pattern}{noun} in {colour} for {gender}, {usage}.",
    "{Colour} {pattern}{noun} designed for {gender}; {usage}.",
)
_RAW_TEMPLATES = (
    "The image shows {a} {colour} {pattern}{noun} for {gender}{printed}.",
    "{A} {colour} {pattern}{noun}{printed}, {usage}.",
    "This is {a_pn} {pattern}{noun} in {colour}{printed}, likely for {gender}.",
)
_PRINTED = (
    ' with the word "{text}" printed on it',
    ' featuring the text "{text}"',
    ' with "{text}" written across the front',
)


def _pick(options: tuple[str, ...], item_id: str, salt: str) -> str:
    digest = hashlib.sha256(f"{salt}/{item_id}".encode()).digest()
    return options[int.from_bytes(digest[:4], "big") % len(options)]


def _noun(article_type: str) -> tuple[str, bool]:
    """The item noun and whether it is a pair-noun ("jeans")."""
    key = article_type.strip().lower()
    if key in _NOUNS:
        return _NOUNS[key], False
    if key.endswith(_PAIRS) or key in _PAIRS:
        return key, True
    return (key[:-1] if key.endswith("s") and not key.endswith("ss") else key), False


def _pattern(title: str | None) -> str:
    for word in re.findall(r"[a-z]+", (title or "").lower()):
        if word in _PATTERNS:
            return _PATTERNS[word] + " "
    return ""


def _article(next_words: str, pair: bool) -> str:
    if pair:
        return "a pair of"
    return "an" if next_words[:1].lower() in "aeiou" else "a"


def _fields(item: CatalogItem, salt: str) -> dict[str, str]:
    noun, pair = _noun(item.article_type or "item")
    colour = (item.base_colour or "").lower()
    pattern = _pattern(item.product_title)
    gender_key = (item.gender or "unisex").lower()
    usage_options = _USAGE.get((item.usage or "").lower(), ("a versatile everyday piece",))
    usage = _pick(usage_options, item.id, salt + "/usage")
    head = f"{colour} {pattern}{noun}".strip()
    return {
        "a": _article(head, pair),
        "A": _article(head, pair).capitalize(),
        "a_pn": _article(pattern + noun, pair),
        "A_pn": _article(pattern + noun, pair).capitalize(),
        "colour": colour,
        "Colour": colour.capitalize(),
        "pattern": pattern,
        "noun": noun,
        "gender": _GENDER.get(gender_key, gender_key),
        "Adj": _GENDER_ADJ.get(gender_key, gender_key).capitalize(),
        "usage": usage,
    }


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).replace(" ,", ",").replace(" .", ".").strip()
    return text[:1].upper() + text[1:]


def teacher_reply(item: CatalogItem) -> str:
    """Step 1: the raw description JSON, quoting printed words as an OCR-prone VLM would."""
    fields = _fields(item, "teacher")
    printed = ""
    if item.printed_text:
        printed = _pick(_PRINTED, item.id, "printed").format(text=item.printed_text[0])
    description = _tidy(_pick(_RAW_TEMPLATES, item.id, "teacher").format(printed=printed, **fields))
    attributes = {
        "colour": fields["colour"],
        "article_type": fields["noun"],
        "gender": (item.gender or "").lower(),
        "usage": (item.usage or "").lower(),
        "pattern": fields["pattern"].strip() or "solid",
    }
    return json.dumps({"description": description, "attributes": attributes})


def refiner_reply(item: CatalogItem) -> str:
    """Step 2: the final description JSON, written from the metadata (printed words cannot survive)."""
    fields = _fields(item, "refiner")
    return json.dumps({"description": _tidy(_pick(_FINAL_TEMPLATES, item.id, "refiner").format(**fields))})
