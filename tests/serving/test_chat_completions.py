"""/v1/chat/completions on the real tiny MODA: OpenAI shapes, usage, max_tokens, streaming, models, health."""

from __future__ import annotations

import json

from ..inference.inference_images import DESCRIPTIONS
from .conftest import colour_body


def sse_events(response) -> list:
    lines = [line for line in response.text.split("\n\n") if line]
    assert all(line.startswith("data: ") for line in lines)
    return [line[len("data: ") :] for line in lines]


def test_completion_is_the_models_description_in_openai_shape(make_client, counter):
    client = make_client()
    response = client.post("/v1/chat/completions", json=colour_body("blue", model=None))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "chat.completion" and body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"] == {"role": "assistant", "content": DESCRIPTIONS["blue"]}
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    text_tokens = len(counter.tokenizer(DESCRIPTIONS["blue"], add_special_tokens=False)["input_ids"])
    assert usage["completion_tokens"] == text_tokens + 1  # + EOS
    assert usage["prompt_tokens"] >= 1
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert response.headers["x-moda-batch-size"] == "1"


def test_max_tokens_is_honoured_and_capped(make_client):
    client = make_client(max_tokens_limit=3)
    short = client.post("/v1/chat/completions", json=colour_body("red", max_tokens=2)).json()
    text = short["choices"][0]["message"]["content"]
    assert DESCRIPTIONS["red"].startswith(text) and len(text) < len(DESCRIPTIONS["red"])
    assert short["choices"][0]["finish_reason"] == "length" and short["usage"]["completion_tokens"] == 2
    capped = client.post("/v1/chat/completions", json=colour_body("red", max_tokens=1000)).json()
    assert capped["usage"]["completion_tokens"] == 3 and capped["choices"][0]["finish_reason"] == "length"
    assert len(text) < len(capped["choices"][0]["message"]["content"]) < len(DESCRIPTIONS["red"])


def test_streamed_chunks_concatenate_to_the_completion(make_client):
    client = make_client()
    whole = client.post("/v1/chat/completions", json=colour_body("green")).json()
    body = colour_body("green", stream=True, stream_options={"include_usage": True})
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        response.read()
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"]]
    assert "".join(deltas) == whole["choices"][0]["message"]["content"] == DESCRIPTIONS["green"]
    assert sum(1 for d in deltas if d) > 1  # token by token, not one piece
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"] == whole["usage"]


def test_models_health_and_model_name(make_client, describer):
    client = make_client(model_name="moda-tiny")
    assert client.get("/health").json() == {"status": "ok", "model": "moda-tiny"}
    assert [m["id"] for m in client.get("/v1/models").json()["data"]] == ["moda-tiny"]
    ok = client.post("/v1/chat/completions", json=colour_body("red", model="moda-tiny"))
    assert ok.json()["model"] == "moda-tiny"
    wrong = client.post("/v1/chat/completions", json=colour_body("red", model="gpt-4o"))
    assert wrong.status_code == 404 and wrong.json()["error"]["code"] == "model_not_found"
