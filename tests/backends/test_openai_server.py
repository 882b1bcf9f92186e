"""OpenAIChat against a REAL OpenAI-compatible server: `transformers serve` on SmolLM2-135M-Instruct."""

import json

import pytest

from modeling_moda.backends import BackendError
from modeling_moda.backends.json_repair import InvalidReply, parse_json_reply
from modeling_moda.backends.openai_backend import OpenAIChat

pytestmark = pytest.mark.slow  # a `transformers serve` process on SmolLM2

SCHEMA = {
    "type": "object",
    "properties": {"description": {"type": "string", "minLength": 1}, "colors": {"type": "array"}},
    "required": ["description"],
}


@pytest.fixture(scope="module")
def client(openai_server):
    return OpenAIChat(openai_server, model=None, timeout=300, max_retries=1)


def test_model_is_discovered_and_replies_with_usage(client, smollm2_dir):
    assert client.model == str(smollm2_dir)
    reply = client.chat([{"role": "user", "content": "Name one colour."}], max_tokens=12, temperature=0)
    assert reply.text.strip()
    assert reply.usage["prompt_tokens"] > 5 and 1 <= reply.usage["completion_tokens"] <= 12
    assert reply.usage["total_tokens"] == reply.usage["prompt_tokens"] + reply.usage["completion_tokens"]
    assert reply.finish_reason in {"stop", "length"} and reply.latency_s > 0


def test_its_imperfect_json_is_repaired(client):
    messages = [
        {"role": "system", "content": "Reply with JSON only."},
        {
            "role": "user",
            "content": 'Describe a red cotton t-shirt for men as JSON: {"description": ..., "colors": [...]}',
        },
    ]
    # greedy SmolLM2 opens a ```json fence and runs past 40 tokens: the reply is not JSON as it stands
    reply = client.chat(messages, max_tokens=40, temperature=0)
    with pytest.raises(ValueError):
        json.loads(reply.text)
    obj = parse_json_reply(reply.text, SCHEMA)
    assert "red" in obj["description"] and reply.finish_reason == "length"
    with pytest.raises(InvalidReply, match="'price' is a required property") as rejected:
        parse_json_reply(reply.text, {**SCHEMA, "required": ["description", "price"]})
    assert rejected.value.text == reply.text


def test_chat_many_runs_concurrently_in_order(client):
    batch = [[{"role": "user", "content": f"Say the number {i}."}] for i in (1, 2)]
    replies = client.chat_many(batch, max_tokens=8, temperature=0)
    assert len(replies) == 2 and all(r.text and r.usage["completion_tokens"] >= 1 for r in replies)
    assert client.totals["failures"] == 0


def test_wrong_model_name_fails_at_once_with_the_servers_reason(openai_server):
    client = OpenAIChat(openai_server, model="no-such-model", max_retries=3)
    with pytest.raises(BackendError, match=r"HTTP 4\d\d: .*pinned"):
        client.chat([{"role": "user", "content": "hi"}], max_tokens=4)
    assert client.totals["retries"] == 0
