"""Running one pipeline step (teacher = Prompt I, refiner = Prompt II) over a batch of items, via the cache.

Every reply is appended to the shard's response cache the moment it arrives, under a key of (item, step,
backend, model, prompt version, attempt, request hash), so a killed run repeats no finished call. A reply is
parsed with the shared JSON repair and validated against the step's schema; an invalid one is retried by
showing the model its reply and the reason (a new attempt, cached too), and after `attempts` tries the item
is rejected with the reason. A backend that fails for good (server down) rejects the item for this run
without caching, so a later run tries again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from modeling_moda.backends.cache import JsonlCache, make_key
from modeling_moda.backends.json_repair import InvalidReply, parse_json_reply

from . import template_teacher
from .config import StepConfig
from .images import open_rgb
from .prompts import REFINER_SCHEMA, TEACHER_SCHEMA, Prompts
from .schema import CatalogItem

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

    def __init__(self, name: str, config: StepConfig, prompts: Prompts, cache: JsonlCache):
        if name not in ("teacher", "refiner"):
            raise ValueError(f"unknown step {name!r}")
        self.name = name
        self.config = config
        self.prompts = prompts
        self.cache = cache
        self.schema = TEACHER_SCHEMA if name == "teacher" else REFINER_SCHEMA
        self.client = None
        if config.backend == "template":
            self.backend_name, self.model = template_teacher.NAME, template_teacher.MODEL
        else:
            from modeling_moda.backends import get_chat_backend

            self.client = get_chat_backend(config.backend, **config.client_kwargs())
            self.backend_name, self.model = config.backend, self.client.model
        self.calls = 0  # replies requested from the backend in this process (cache misses)

    @property
    def label(self) -> str:
        """What the dataset's `teacher` / `refiner` column says: backend:model."""
        return f"{self.backend_name}:{self.model}"

    def _request(self, item: CatalogItem, raw: str | None) -> list[dict] | dict:
        """The conversation for an LLM, or the template's input (metadata, printed words, draft)."""
        if self.client is None:
            return {"metadata": item.metadata(), "printed": item.printed_text, "raw": raw}
        if self.name == "refiner":
            return [{"role": "user", "content": self.prompts.refiner_text(item.metadata(), raw or "")}]
        from modeling_moda.backends import image_to_data_url

        image = open_rgb(item.image)
        image.thumbnail((self.config.image_max_side, self.config.image_max_side))
        url = image_to_data_url(image)
        content = [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": self.prompts.teacher},
        ]
        return [{"role": "user", "content": content}]

    def _key(self, item: CatalogItem, attempt: int, request: list[dict] | dict) -> str:
        return make_key(
            item=item.id,
            step=self.name,
            backend=self.backend_name,
            model=self.model,
            prompt_version=self.prompts.version,
            attempt=attempt,
            request=make_key(request=request, generation=self.config.generation),
        )

    def _call(self, items: list[CatalogItem], requests: list) -> list[Any]:
        """Replies ({"text", "usage"}) or exceptions, in order."""
        self.calls += len(items)
        if self.client is None:
            make = (
                template_teacher.teacher_reply if self.name == "teacher" else template_teacher.refiner_reply
            )
            return [{"text": make(item), "usage": {}} for item in items]
        replies = self.client.chat_many(requests, **self.config.generation)
        return [r if isinstance(r, Exception) else {"text": r.text, "usage": r.usage} for r in replies]

    def run(self, items: list[CatalogItem], raws: list[str | None] | None = None) -> list[Outcome]:
        raws = raws or [None] * len(items)
        outcomes = [Outcome() for _ in items]
        requests = [self._request(item, raw) for item, raw in zip(items, raws, strict=True)]
        pending = list(range(len(items)))
        for attempt in range(max(1, self.config.attempts)):
            keys = {i: self._key(items[i], attempt, requests[i]) for i in pending}
            replies = {i: self.cache.get(keys[i]) for i in pending}
            missing = [i for i in pending if replies[i] is None]
            if missing:
                fresh = self._call([items[i] for i in missing], [requests[i] for i in missing])
                for i, reply in zip(missing, fresh, strict=True):
                    if isinstance(reply, Exception):
                        outcomes[i].error = f"{self.name} backend error: {reply}"
                        continue
                    self.cache.put(keys[i], reply)
                    replies[i] = reply
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
                    outcome.value = parse_json_reply(outcome.text, self.schema)
                    outcome.repaired = not _is_clean_json(outcome.text)
                    outcome.error = None
                except InvalidReply as err:
                    outcome.error = f"{self.name} reply invalid after {attempt + 1} attempt(s): {err.reason}"
                    if isinstance(requests[i], list):
                        requests[i] = requests[i] + [
                            {"role": "assistant", "content": outcome.text},
                            {"role": "user", "content": FIX_REQUEST.format(reason=err.reason)},
                        ]
                    still.append(i)
            pending = still
            if not pending:
                break
        return outcomes
