"""The step runner's reply handling: repair, retry with the reason, reject, cache — with a scripted chat
backend standing in for an LLM (the real models run in test_llm_backends.py)."""

from __future__ import annotations

from pathlib import Path

from modeling_moda.backends.base import BackendError, ChatReply
from modeling_moda.backends.cache import JsonlCache
from modeling_moda.core.schema import CatalogItem
from modeling_moda.data.config import StepConfig
from modeling_moda.data.prompts import load_prompts
from modeling_moda.data.steps import Step


class ScriptedChat:
    """Replies from a per-item script (by the item id found in the prompt), recording every conversation."""

    name = "scripted"
    model = "script-1"

    def __init__(self, script: dict[str, list[str | Exception]]):
        self.script = script
        self.conversations: list[list[dict]] = []

    def chat_many(self, batch: list[list[dict]], **gen) -> list[ChatReply | Exception]:
        replies = []
        for messages in batch:
            self.conversations.append(messages)
            item = next(key for key in self.script if f"article type: {key}" in messages[0]["content"])
            turn = sum(m["role"] == "assistant" for m in messages)
            reply = self.script[item][turn]
            replies.append(
                reply if isinstance(reply, Exception) else ChatReply(text=reply, usage={"total_tokens": 1})
            )
        return replies


def _item(article: str) -> CatalogItem:
    return CatalogItem(id=article, image="unused.jpg", article_type=article, base_colour="Red", gender="Men")


def test_repair_retry_reject_and_cache(tmp_path: Path) -> None:
    script = {
        "Clean": ['{"description": "A red shirt for men."}'],
        "Prose": ["Sure! Here it is:\n```json\n{'description': 'A red tie for men.',}\n```"],
        "Second": ["I cannot do JSON.", '{"description": "A red cap for men."}'],
        "Never": ["no", "still no"],
        "Down": [BackendError("server down")],
    }
    chat = ScriptedChat(script)
    items = [_item(name) for name in script]
    config = StepConfig(backend="openai", attempts=2)
    with JsonlCache(tmp_path / "cache.jsonl") as cache:
        step = Step("refiner", config, load_prompts(), cache, client=chat)
        outcomes = dict(zip(script, step.run(items, ["draft"] * len(items)), strict=True))
    assert (
        outcomes["Clean"].value == {"description": "A red shirt for men."} and not outcomes["Clean"].repaired
    )
    assert outcomes["Prose"].value == {"description": "A red tie for men."} and outcomes["Prose"].repaired
    assert (
        outcomes["Second"].value["description"] == "A red cap for men." and outcomes["Second"].attempts == 2
    )
    retry = next(c for c in chat.conversations if len(c) == 3 and "Second" in c[0]["content"])
    assert retry[1]["content"] == "I cannot do JSON." and "no JSON object in reply" in retry[2]["content"]
    assert outcomes["Never"].value is None and "invalid after 2 attempt(s)" in outcomes["Never"].error
    assert outcomes["Down"].value is None and "backend error: server down" in outcomes["Down"].error
    assert step.calls == 7

    with JsonlCache(tmp_path / "cache.jsonl") as cache:  # a resumed run: every finished call is cached
        chat.script["Down"] = ['{"description": "A red sock for men."}']
        again = Step("refiner", config, load_prompts(), cache, client=chat)
        second = again.run(items, ["draft"] * len(items))
    assert again.calls == 1  # only the call that failed on the backend is made again
    assert [o.value for o in second][:4] == [o.value for o in outcomes.values()][:4]
    assert second[4].value == {"description": "A red sock for men."}
