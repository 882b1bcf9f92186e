"""Running one pipeline step (teacher = Prompt I, refiner = Prompt II) over a batch of items, via the cache.

Every reply is appended to the shard's response cache the moment it arrives, under a key of (item, step,
backend, model, prompt version, attempt, request hash), so a killed run repeats no finished call. A reply is
parsed with the shared JSON repair and validated against the step's schema; an invalid one is retried by
showing the model its reply and the reason (a new attempt, cached too), and after `attempts` tries the item
is rejected with the reason. A call that fails for good rejects the item for this run without caching, so a
later run tries again; an endpoint that is down (`EndpointDown`: unreachable, refusing the key, or failing
call after call) stops the step, once the replies that did arrive are cached.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from modeling_moda.backends.base import EndpointDown
from modeling_moda.backends.cache import JsonlCache, make_key
from modeling_moda.backends.json_repair import InvalidReply, parse_json_reply

from ..core.images import image_bytes, load_image
from ..core.schema import CatalogItem
from . import template_teacher
from .config import StepConfig
from .prompts import REFINER_SCHEMA, TEACHER_SCHEMA, Prompts

FIX_REQUEST = (
    "Your reply could not be used: {reason}. Reply again with only the JSON object described above, "
    "with no text before or after it."
)


@dataclass
class Outcome:
    """The result of one step for one item."""

    value: dict | None = None  # the parsed, schema-valid reply
    text: str | None = None  # the last reply text
    attempts: int = 0  # replies it took (1 = first reply usable)
    repaired: bool = False  # the usable reply was not clean JSON (prose, fences, near-JSON)
    error: str | None = None  # why the item is rejected at this step
    usage: dict | None = None


def _is_clean_json(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


class Step:
    """One step with its backend: `run(items, raws) -> list[Outcome]`."""

    def __init__(
        self, name: str, config: StepConfig, prompts: Prompts, cache: JsonlCache, client: Any | None = None
    ):
        """`client`: any object with the backends' `chat_many` / `model` / `name` (default: from `config`)."""
        if name not in ("teacher", "refiner"):
            raise ValueError(f"unknown step {name!r}")
        self.name = name
        self.config = config
        self.prompts = prompts
        self.cache = cache
        self.schema = TEACHER_SCHEMA if name == "teacher" else REFINER_SCHEMA
        self.client = client
        if client is None and config.backend != "template":
            from modeling_moda.backends import get_chat_backend

            self.client = get_chat_backend(config.backend, **config.client_kwargs())
        if self.client is None:
            self.backend_name, self.model = template_teacher.NAME, template_teacher.MODEL
        else:
            self.backend_name, self.model = self.client.name, self.client.model
        self.calls = 0  # replies requested from the backend in this process (cache misses)

    @property
    def label(self) -> str:
        """What the dataset's `teacher` / `refiner` column says: backend:model."""
        return f"{self.backend_name}:{self.model}"

    def _fingerprint(self, item: CatalogItem, raw: str | None) -> dict:
        """What the request depends on besides the prompt version and attempt (cheap: no image encoding)."""
        if self.client is not None and self.name == "teacher":
            digest = hashlib.sha256(image_bytes(item.image)).hexdigest()
            return {"image_sha256": digest, "max_side": self.config.image_max_side}
        return {"metadata": item.metadata(), "printed": item.printed_text, "raw": raw}

    def _messages(self, item: CatalogItem, raw: str | None) -> list[dict]:
        """The first user message of the conversation with an LLM."""
        if self.name == "refiner":
            return [{"role": "user", "content": self.prompts.refiner_text(item.metadata(), raw or "")}]
        from modeling_moda.backends import image_to_data_url

        image = load_image(item.image)
        image.thumbnail((self.config.image_max_side, self.config.image_max_side))
        url = image_to_data_url(image)
        content = [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": self.prompts.teacher},
        ]
        return [{"role": "user", "content": content}]

    def _parse(self, text: str) -> dict:
        """A reply as a schema-valid dict; with `reply_format: text` the whole reply is the description."""
        if self.config.reply_format == "text":
            if len(text.strip()) < 3:
                raise InvalidReply("the reply is empty or shorter than 3 characters", text)
            return {"description": text.strip()}
        return parse_json_reply(text, self.schema)

    def _key(self, item: CatalogItem, attempt: int, fingerprint: dict) -> str:
        """Attempt k's conversation is fixed by the input and the k earlier (cached) replies."""
        return make_key(
            item=item.id,
            step=self.name,
            backend=self.backend_name,
            model=self.model,
            prompt_version=self.prompts.version,
            attempt=attempt,
            request=make_key(input=fingerprint, generation=self.config.generation),
        )

    def _call(
        self, items: list[CatalogItem], raws: list[str | None], histories: list[list[dict]]
    ) -> list[Any]:
        """Replies ({"text", "usage"}) or exceptions, in order."""
        self.calls += len(items)
        if self.client is None:
            make = (
                template_teacher.teacher_reply if self.name == "teacher" else template_teacher.refiner_reply
            )
            return [{"text": make(item), "usage": {}} for item in items]
        conversations = [
            self._messages(item, raw) + history
            for item, raw, history in zip(items, raws, histories, strict=True)
        ]
        replies = self.client.chat_many(conversations, **self.config.generation)
        return [r if isinstance(r, Exception) else {"text": r.text, "usage": r.usage} for r in replies]

    def run(self, items: list[CatalogItem], raws: list[str | None] | None = None) -> list[Outcome]:
        raws = raws or [None] * len(items)
        outcomes = [Outcome() for _ in items]
        fingerprints = [self._fingerprint(item, raw) for item, raw in zip(items, raws, strict=True)]
        histories: list[list[dict]] = [[] for _ in items]  # the invalid replies and fix requests so far
        pending = list(range(len(items)))
        for attempt in range(max(1, self.config.attempts)):
            keys = {i: self._key(items[i], attempt, fingerprints[i]) for i in pending}
            replies = {i: self.cache.get(keys[i]) for i in pending}
            missing = [i for i in pending if replies[i] is None]
            if missing:
                fresh = self._call(
                    [items[i] for i in missing], [raws[i] for i in missing], [histories[i] for i in missing]
                )
                down = None
                for i, reply in zip(missing, fresh, strict=True):
                    if isinstance(reply, Exception):
                        outcomes[i].error = f"{self.name} backend error: {reply}"
                        down = down or (reply if isinstance(reply, EndpointDown) else None)
                        continue
                    self.cache.put(keys[i], reply)
                    replies[i] = reply
                if down is not None:
                    raise down
            still: list[int] = []
            for i in pending:
                if replies[i] is None:
                    continue  # backend error, recorded above
                outcome = outcomes[i]
                outcome.text, outcome.usage, outcome.attempts = (
                    replies[i]["text"],
                    replies[i]["usage"],
                    attempt + 1,
                )
                try:
                    outcome.value = self._parse(outcome.text)
                    outcome.repaired = self.config.reply_format == "json" and not _is_clean_json(outcome.text)
                    outcome.error = None
                except InvalidReply as err:
                    outcome.error = f"{self.name} reply invalid after {attempt + 1} attempt(s): {err.reason}"
                    histories[i] = histories[i] + [
                        {"role": "assistant", "content": outcome.text},
                        {"role": "user", "content": FIX_REQUEST.format(reason=err.reason)},
                    ]
                    still.append(i)
            pending = still
            if not pending:
                break
        return outcomes
