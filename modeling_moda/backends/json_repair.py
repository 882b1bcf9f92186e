"""Pull one JSON object out of an LLM reply, repair near-JSON, and validate it against a JSON schema.

LLM replies wrap JSON in prose or code fences and get it slightly wrong: trailing commas, single quotes,
unquoted keys, Python literals, raw newlines inside strings, or a reply cut off by `max_tokens`. We try, in
order: every fenced block, then every `{` in the text; each candidate first strictly, then repaired. The first
object that passes the schema wins; if none does, `InvalidReply` says why (the schema error of the first
object found, or why nothing parsed).
"""

from __future__ import annotations

import json
import re

import jsonschema

__all__ = ["InvalidReply", "parse_json_reply", "repair_json"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\n?(.*?)(?:```|\Z)", re.DOTALL)
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
_LITERALS = {
    "true": "true",
    "false": "false",
    "null": "null",
    "True": "true",
    "False": "false",
    "None": "null",
}
_CLOSER = {"{": "}", "[": "]"}
_MAX_CANDIDATES = 20


class InvalidReply(ValueError):
    """A reply that holds no usable JSON object; `reason` says why, `text` keeps the reply."""

    def __init__(self, reason: str, text: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.text = text


def parse_json_reply(text: str, schema: dict | None = None) -> dict:
    """Return the first JSON object in `text` that parses (after repair) and satisfies `schema`.

    Raises `InvalidReply(reason)` when the reply holds no object, or none that passes the schema.
    """
    if not isinstance(text, str):
        raise InvalidReply(f"reply is {type(text).__name__}, not text", None)
    if not text.strip():
        raise InvalidReply("empty reply", text)
    validator = _validator(schema)
    first_schema_error: str | None = None
    found_any = False
    covered = -1  # end of the last object found: a "{" inside it is a nested value, not an answer
    for start, end in _candidates(text):
        if start < covered:
            continue
        obj, consumed = _load_object(text[start:end])
        if obj is None:
            continue
        found_any = True
        covered = start + consumed
        error = _schema_error(validator, obj)
        if error is None:
            return obj
        first_schema_error = first_schema_error or error
    if found_any:
        raise InvalidReply(f"schema: {first_schema_error}", text)
    if "{" not in text:
        raise InvalidReply(f"no JSON object in reply: {_preview(text)}", text)
    raise InvalidReply(f"unparseable JSON even after repair: {_preview(text)}", text)


def repair_json(fragment: str) -> str:
    """Rewrite near-JSON starting at an opening brace into strict JSON text (best effort).

    Handles single-quoted strings, unquoted keys, Python literals, missing and trailing commas, raw control
    characters in strings, comments, prose after the closing brace, and truncation (open strings and brackets
    are closed; a dangling key or comma is dropped).
    """
    return _repair(fragment)[0]


def _repair(fragment: str) -> tuple[str, int]:
    """`repair_json`, also returning how many characters of `fragment` the object spans."""
    out: list[str] = []
    stack: list[str] = []
    i, n = 0, len(fragment)
    while i < n:
        ch = fragment[i]
        if ch in "\"'{[" or ch.isalpha() or ch == "_":
            _comma_if_missing(out)
        if ch in "\"'":
            i, closed = _copy_string(fragment, i, out)
            if not closed:
                break
            continue
        if ch in "{[":
            stack.append(ch)
            out.append(ch)
        elif ch in "}]":
            _drop_trailing_comma(out)
            # Close whatever is open down to the matching bracket (a missing "]" before "}" is common).
            while stack and _CLOSER[stack[-1]] != ch:
                out.append(_CLOSER[stack.pop()])
            if stack:
                out.append(_CLOSER[stack.pop()])
            if not stack:
                return "".join(out), i + 1
        elif ch.isalpha() or ch == "_":
            word = _WORD.match(fragment, i).group(0)
            out.append(_LITERALS.get(word, json.dumps(word)))
            i += len(word)
            continue
        elif ch == "/" and fragment.startswith("//", i):  # a line comment
            end = fragment.find("\n", i)
            i = n if end < 0 else end
            continue
        else:
            out.append(ch)
        i += 1
    return _close_truncated(out, stack), n


def _candidates(text: str):
    """Yield (start, end) of fragments that may hold the answer: fenced blocks first, then each `{`."""
    for match in _FENCE.finditer(text):
        start = text.find("{", match.start(1), match.end(1))
        if start >= 0:
            yield start, match.end(1)
    start = text.find("{")
    for _ in range(_MAX_CANDIDATES):
        if start < 0:
            return
        yield start, len(text)
        start = text.find("{", start + 1)


def _load_object(fragment: str) -> tuple[dict | None, int]:
    """The object at the start of `fragment` (strict, else repaired) and the characters it spans."""
    try:
        obj, consumed = json.JSONDecoder().raw_decode(fragment)
    except json.JSONDecodeError:
        fixed, consumed = _repair(fragment)
        try:
            obj = json.loads(fixed)
        except json.JSONDecodeError:
            return None, 0
    return (obj, consumed) if isinstance(obj, dict) else (None, 0)


def _copy_string(src: str, start: int, out: list[str]) -> tuple[int, bool]:
    """Copy the string literal at `src[start]` to `out` as a JSON string; return (next index, closed)."""
    quote = src[start]
    buf = ['"']
    i, n = start + 1, len(src)
    while i < n:
        ch = src[i]
        if ch == "\\" and i + 1 < n:
            nxt = src[i + 1]
            buf.append("'" if nxt == "'" else ch + nxt)  # \' is not a JSON escape
            i += 2
            continue
        if ch == quote and (quote == '"' or _ends_single_quoted(src, i + 1)):
            buf.append('"')
            out.append("".join(buf))
            return i + 1, True
        if ch == '"':
            buf.append('\\"')
        elif ch == "\n":
            buf.append("\\n")
        elif ch == "\t":
            buf.append("\\t")
        elif ch == "\r":
            buf.append("\\r")
        else:
            buf.append(ch)
        i += 1
    if buf[-1] == "\\":  # cut right after a backslash
        buf.pop()
    buf.append('"')
    out.append("".join(buf))
    return n, False


def _ends_single_quoted(src: str, after: int) -> bool:
    """A `'` ends a single-quoted string only before `,:}]` or the end (so "men's" survives)."""
    rest = src[after:].lstrip()
    return not rest or rest[0] in ",:}]"


def _comma_if_missing(out: list[str]) -> None:
    """Before a new value or key: if the previous token ended a value (`"a" "b"`, `1 "b"`, `} {`), add ","."""
    j = len(out) - 1
    while j >= 0 and out[j].isspace():
        j -= 1
    if j < 0:
        return
    last = out[j]
    if last.startswith('"') or last in ("true", "false", "null", "}", "]") or last[-1].isdigit():
        out.insert(j + 1, ",")


def _drop_trailing_comma(out: list[str]) -> None:
    while out and out[-1].isspace():
        out.pop()
    if out and out[-1] == ",":
        out.pop()


def _close_truncated(out: list[str], stack: list[str]) -> str:
    """Finish a reply cut off mid-way: drop a dangling key/colon/comma, then close the open brackets."""
    _drop_trailing_comma(out)
    if out and out[-1] == ":":
        out.pop()  # `"key":` with no value: drop the key too
        while out and out[-1].isspace():
            out.pop()
        if out and out[-1].startswith('"'):
            out.pop()
        _drop_trailing_comma(out)
    elif stack and stack[-1] == "{" and out and out[-1].startswith('"'):
        # A lone string inside an object is a key without a value when it follows "{" or ",".
        j = len(out) - 2
        while j >= 0 and out[j].isspace():
            j -= 1
        if j >= 0 and out[j] in "{,":
            del out[j + 1 :]
            _drop_trailing_comma(out)
    return "".join(out) + "".join(_CLOSER[b] for b in reversed(stack))


def _validator(schema: dict | None):
    if schema is None:
        return None
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _schema_error(validator, obj: dict) -> str | None:
    if validator is None:
        return None
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "<root>"
    return f"at {where}: {error.message}"


def _preview(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")
