"""An LLM as judge: any chat backend (OpenAI-compatible endpoint or local transformers model), one rubric.

- The prompt is a versioned file (`prompts/<version>.md`): the rubric, then the metadata and the description.
- The reply must be one JSON object matching `JUDGE_SCHEMA`; `parse_json_reply` (backends) extracts and
  repairs it. An invalid reply is asked again (up to `max_invalid_retries` more times, sampling at
  temperature 0.7); transport failures are retried with backoff by the backend itself.
- Binary metrics are snapped to 0/10 (>= 5 -> 10); a metric whose reference field is missing is None,
  whatever the model says (the same rule as the rules judge).
- Valid replies go to an append-only disk cache keyed by (backend, model, prompt version, prediction,
  reference, image): a rerun costs nothing. Failures are not cached, so a rerun retries them.
- A sample whose judge call fails for good (retries spent, no valid JSON) is unscored, with the reason. An
  endpoint that is down (`backends.EndpointDown`: unreachable, refusing the key, or failing call after call)
  stops the scoring instead, once the replies that did arrive are cached.
- `totals` tallies requests, tokens, cache hits, invalid replies, failures and the cost in US dollars.
"""

from __future__ import annotations

import hashlib
import io
import json
import string
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from modeling_moda.backends.base import EndpointDown

from ..core.lexicon import canonical, colours_of, is_missing
from ..core.schema import METADATA_FIELDS
from .inputs import InvalidSample, check_lengths, prepare
from .metrics import BINARY_METRICS, METRICS, SampleScore

PROMPT_DIR = resources.files(__package__) / "prompts"
DEFAULT_PROMPT_VERSION = "judge_v1"
# US dollars per million tokens (input, output); models not listed are counted as free (local)
PRICES_PER_MTOK: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}
# what the judge prompt shows of the reference: the metadata without the catalog year
PROMPT_FIELDS = (*(f for f in METADATA_FIELDS if f != "year"), "description")
_SCORE = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 10}, {"type": "null"}]}
JUDGE_SCHEMA: dict = {
    "type": "object",
    "properties": {
        **dict.fromkeys(METRICS, _SCORE),
        "reasons": {"anyOf": [{"type": "object"}, {"type": "string"}]},  # small models write one string
    },
    "required": list(METRICS),
}
_FIELD_OF = {
    "color_accuracy": "base_colour",
    "style_recognition": "usage",
    "category_accuracy": "article_type",
    "gender_accuracy": "gender",
}


def load_prompt(version: str = DEFAULT_PROMPT_VERSION) -> tuple[str, string.Template]:
    """(system text, user template with $metadata and $description) from `prompts/<version>.md`."""
    path = PROMPT_DIR / f"{version}.md"
    if not path.is_file():
        known = sorted(p.name.removesuffix(".md") for p in PROMPT_DIR.iterdir() if p.name.endswith(".md"))
        raise FileNotFoundError(f"no judge prompt {path} (known: {known})")
    text = path.read_text(encoding="utf-8")
    try:
        system = text.split("## system\n", 1)[1].split("## user\n", 1)[0].strip()
        user = text.split("## user\n", 1)[1].strip()
    except IndexError as err:
        raise ValueError(f"{path}: a judge prompt needs a '## system' and a '## user' section") from err
    return system, string.Template(user)


def not_applicable(reference: dict) -> set[str]:
    """The metrics whose reference field is missing (None for every judge)."""
    missing = {m for m, f in _FIELD_OF.items() if is_missing(reference.get(f))}
    if "color_accuracy" not in missing and not colours_of(reference.get("base_colour")):
        missing.add("color_accuracy")
    return missing


def scores_from_reply(obj: dict, reference: dict) -> tuple[dict[str, float | None], dict[str, str]]:
    """Validated reply -> (scores, reasons): binary metrics snapped to 0/10, not-applicable metrics None."""
    raw = obj.get("reasons") or {}
    reasons = (
        {k: str(v) for k, v in raw.items() if k in METRICS} if isinstance(raw, dict) else {"judge": str(raw)}
    )
    scores: dict[str, float | None] = {}
    skip = not_applicable(reference)
    for metric in METRICS:
        value = obj.get(metric)
        if metric in skip:
            scores[metric] = None
            reasons[metric] = "not applicable: the reference has no value for it"
        elif value is None:
            scores[metric] = 0.0
            reasons[metric] = reasons.get(metric, "") + " (judge gave null; scored 0)"
        elif metric in BINARY_METRICS and value not in (0, 10):
            scores[metric] = 10.0 if value >= 5 else 0.0
            reasons[metric] = reasons.get(metric, "") + f" (snapped from {value})"
        else:
            scores[metric] = float(value)
    return scores, reasons


def _image_bytes(image: Any) -> bytes | None:
    if image is None:
        return None
    if isinstance(image, (str, Path)):
        return Path(image).read_bytes()
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="PNG")
    return buf.getvalue()


class LLMJudge:
    """`LLMJudge(backend, cache_path=...)`; `.score(predictions, references, images=None)`."""

    def __init__(
        self,
        backend: Any,
        cache_path: str | Path | None = None,
        prompt_version: str = DEFAULT_PROMPT_VERSION,
        use_images: bool = False,
        max_invalid_retries: int = 2,
        max_tokens: int = 300,
        price_per_mtok: tuple[float, float] | None = None,
        progress: bool = False,
        json_mode: bool = False,
    ):
        from modeling_moda.backends.cache import JsonlCache

        self.backend = backend
        self.name = backend.name
        self.prompt_version = prompt_version
        self.system, self.template = load_prompt(prompt_version)
        self.use_images = use_images
        self.max_invalid_retries = max_invalid_retries
        self.max_tokens = max_tokens
        self.progress = progress
        self.json_mode = json_mode  # OpenAI's response_format={"type": "json_object"}
        self.price = price_per_mtok or PRICES_PER_MTOK.get(backend.model, (0.0, 0.0))
        self.cache = JsonlCache(cache_path) if cache_path else None
        self.totals = {
            "requests": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "cache_hits": 0,
            "invalid_replies": 0,
            "failures": 0,
        }

    def messages(self, prediction: str, reference: dict, image: Any = None) -> list[dict]:
        meta = {f: reference[f] for f in PROMPT_FIELDS if not is_missing(reference.get(f))}
        meta = {k: (canonical(v) if k != "description" else v) for k, v in meta.items()}
        user = self.template.substitute(
            metadata=json.dumps(meta, ensure_ascii=False, indent=1), description=prediction or "(empty)"
        )
        content: Any = user
        if image is not None:
            from modeling_moda.backends import image_to_data_url
            from modeling_moda.processing_moda import ModaProcessor

            pil = ModaProcessor.load_image(image) if isinstance(image, (str, Path)) else image
            content = [
                {"type": "text", "text": user},
                {"type": "image_url", "image_url": {"url": image_to_data_url(pil)}},
            ]
        return [{"role": "system", "content": self.system}, {"role": "user", "content": content}]

    def score(
        self, predictions: Sequence[object], references: Sequence[object], images: Sequence[Any] | None = None
    ) -> list[SampleScore]:
        from modeling_moda.backends.cache import make_key

        check_lengths(predictions, references)
        results: list[SampleScore | None] = [None] * len(predictions)
        pending: dict[int, tuple[str, list[dict], dict]] = {}  # index -> (cache key, messages, reference)
        for i, (pred, ref_in) in enumerate(zip(predictions, references, strict=True)):
            try:
                text, ref, truncated = prepare(i, pred, ref_in)
            except InvalidSample as err:
                results[i] = SampleScore.unscored(self.name, str(err))
                continue
            image = None
            if self.use_images:
                image = images[i] if images is not None else ref.get("image")
            image_bytes = _image_bytes(image)
            key = make_key(
                judge=self.name,
                model=self.backend.model,
                prompt=self.prompt_version,
                prediction=text,
                reference={f: str(ref.get(f)) for f in PROMPT_FIELDS},
                image=hashlib.sha256(image_bytes).hexdigest() if image_bytes else None,
            )
            hit = self.cache.get(key) if self.cache is not None else None
            if hit is not None:
                self.totals["cache_hits"] += 1
                results[i] = self._to_score(hit["reply"], ref, cached=True, usage=hit.get("usage", {}))
            else:
                pending[i] = (key, self.messages(text, ref, image), ref)
        for attempt in range(self.max_invalid_retries + 1):
            if not pending:
                break
            order = list(pending)
            gen = {"max_tokens": self.max_tokens, "temperature": 0.0 if attempt == 0 else 0.7}
            if self.json_mode:
                gen["response_format"] = {"type": "json_object"}
            replies = self.backend.chat_many([pending[i][1] for i in order], progress=self.progress, **gen)
            down = None
            for i, reply in zip(order, replies, strict=True):
                key, _, ref = pending[i]
                if isinstance(reply, EndpointDown):
                    down = down or reply
                    continue
                if isinstance(reply, Exception):
                    self.totals["failures"] += 1
                    results[i] = SampleScore.unscored(self.name, f"judge call failed: {reply}")
                    del pending[i]
                    continue
                self._count(reply.usage)
                obj, reason = self._parse(reply.text)
                if obj is None:
                    self.totals["invalid_replies"] += 1
                    results[i] = SampleScore.unscored(
                        self.name, f"no valid judge reply after {attempt + 1} attempt(s): {reason}"
                    )
                    continue
                if self.cache is not None:
                    self.cache.put(key, {"reply": obj, "usage": reply.usage, "text": reply.text})
                results[i] = self._to_score(obj, ref, cached=False, usage=reply.usage)
                del pending[i]
            if down is not None:
                raise down
        return [r for r in results if r is not None]

    @property
    def cost_usd(self) -> float:
        price_in, price_out = self.price
        return (self.totals["prompt_tokens"] * price_in + self.totals["completion_tokens"] * price_out) / 1e6

    def tally(self) -> dict:
        return {
            **self.totals,
            "model": self.backend.model,
            "prompt_version": self.prompt_version,
            "cost_usd": round(self.cost_usd, 6),
        }

    def _parse(self, text: str) -> tuple[dict | None, str]:
        from modeling_moda.backends.json_repair import InvalidReply, parse_json_reply

        try:
            return parse_json_reply(text, JUDGE_SCHEMA), ""
        except InvalidReply as err:
            return None, err.reason

    def _count(self, usage: dict) -> None:
        self.totals["requests"] += 1
        self.totals["prompt_tokens"] += int(usage.get("prompt_tokens", 0) or 0)
        self.totals["completion_tokens"] += int(usage.get("completion_tokens", 0) or 0)

    def _to_score(self, obj: dict, reference: dict, cached: bool, usage: dict) -> SampleScore:
        scores, reasons = scores_from_reply(obj, reference)
        return SampleScore.from_metrics(self.name, scores, reasons, cached=cached, usage=dict(usage or {}))
