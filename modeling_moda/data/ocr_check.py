"""The check after step 2: no text read off the product survives in a final description.

Two kinds of evidence: words known to be printed on the item (the synthetic catalog's sidecar), and text a
VLM reports as read off the image — quoted spans and all-capital tokens that the item's metadata does not
contain. Each is removed together with its framing phrase ('with the word "NOVA" printed on it'), and the
sentence is tidied. The caller counts the removals.
"""

from __future__ import annotations

import re

# Framing a VLM puts around text it read: 'with the words "X" printed across the front'.
_LEAD = (
    r"(?:,?\s*(?:with|featuring|bearing|showing|displaying|reading|that reads|which reads|that says|saying)"
    r"(?:\s+(?:a|an|the))?(?:\s+(?:bold|large|small|white|black|printed))*"
    r"(?:\s+(?:word|words|text|slogan|logo|brand|brand name|lettering|print|label|graphic))?\s+)?"
)
_TRAIL = (
    r"(?:\s+(?:printed|written|displayed|emblazoned|embroidered|shown))?"
    r"(?:\s+(?:on|across|along|at)\s+(?:it|the\s+\w+))?"
)
_QUOTED = re.compile(r"[\"\u201c\u201d]([^\"\u201c\u201d]{1,40})[\"\u201c\u201d]|(?<!\w)'([^']{1,40})'(?!\w)")
_CAPS = re.compile(r"\b[A-Z][A-Z0-9]{1,}(?:\s+[A-Z0-9]{2,})*\b")
_ALLOWED_CAPS = {"UV", "LED", "XL", "XXL", "USB", "3D", "II", "III"}


def _metadata_words(metadata: dict) -> set[str]:
    words: set[str] = set()
    for value in metadata.values():
        if value is not None:
            words.update(re.findall(r"[a-z0-9]+", str(value).lower()))
    return words


def suspect_spans(text: str, printed: list[str], metadata: dict) -> list[str]:
    """Text in `text` that was read off the product: known printed words, unknown quoted or capital text."""
    known = _metadata_words(metadata)
    spans: list[str] = []
    for words in printed:
        if re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text, re.IGNORECASE):
            spans.append(words)
    for match in _QUOTED.finditer(text):
        inner = (match.group(1) or match.group(2)).strip()
        if inner and not set(re.findall(r"[a-z0-9]+", inner.lower())) <= known:
            spans.append(inner)
    for match in _CAPS.finditer(text):
        token = match.group(0)
        tokens = set(re.findall(r"[a-z0-9]+", token.lower()))
        if token not in _ALLOWED_CAPS and not tokens <= known:
            spans.append(token)
    unique: list[str] = []
    for span in sorted(spans, key=len, reverse=True):  # longest first: "STAY WILD" before "STAY"
        if not any(span.lower() in kept.lower() for kept in unique):
            unique.append(span)
    return unique


def _tidy(text: str) -> str:
    text = re.sub(r"[\"'\u201c\u201d]\s*[\"'\u201c\u201d]", "", text)  # emptied quotes
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",\s*([,.;:!?])", r"\1", text)
    text = re.sub(r"^[,;:\s]+", "", text).strip()
    return text[:1].upper() + text[1:]


def remove_printed_text(text: str, printed: list[str], metadata: dict) -> tuple[str, list[str]]:
    """`text` without the spans of `suspect_spans` (and their framing), and the spans removed."""
    spans = suspect_spans(text, printed, metadata)
    for span in spans:
        quoted = rf"[\"'\u201c\u201d]?{re.escape(span)}[\"'\u201c\u201d]?"
        text = re.sub(rf"{_LEAD}(?<!\w){quoted}(?!\w){_TRAIL}", "", text, flags=re.IGNORECASE)
    return (_tidy(text) if spans else text), spans
