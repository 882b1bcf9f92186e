"""The `moda` extra field (attributes with confidence) and `response_format: json_object`, on the real tiny
MODA behind the server."""

from __future__ import annotations

import json

from modeling_moda.core.attributes import ATTRIBUTES, attribute_entries

from ..inference.inference_images import DESCRIPTIONS, colour_image
from .conftest import colour_body
from .test_chat_completions import sse_events


def assert_red_attributes(attributes: dict) -> None:
    assert list(attributes) == list(ATTRIBUTES)
    assert [c["value"] for c in attributes["colour"]] == ["Red"]
    assert attributes["article_type"]["value"] == "Tshirts"
    assert attributes["gender"]["value"] == "Men" and attributes["usage"]["value"] == "Casual"
    assert all(0.0 <= entry["confidence"] <= 1.0 for _, entry in attribute_entries(attributes))


def test_a_completion_carries_the_attributes_beside_the_text(make_client, describer):
    response = make_client().post("/v1/chat/completions", json=colour_body("red"))
    assert response.status_code == 200, response.text
    (choice,) = response.json()["choices"]
    assert choice["message"] == {"role": "assistant", "content": DESCRIPTIONS["red"]}
    assert_red_attributes(choice["moda"]["attributes"])
    (expected,) = describer.describe_detailed([colour_image("red")])
    assert choice["moda"]["attributes"] == expected.attributes


def test_json_object_returns_description_and_attributes_as_json(make_client):
    client = make_client()
    body = colour_body("red", response_format={"type": "json_object"})
    reply = client.post("/v1/chat/completions", json=body).json()
    content = json.loads(reply["choices"][0]["message"]["content"])
    assert content["description"] == DESCRIPTIONS["red"]
    assert content["attributes"] == reply["choices"][0]["moda"]["attributes"]
    assert_red_attributes(content["attributes"])
    assert reply["choices"][0]["finish_reason"] == "stop"
    plain = client.post("/v1/chat/completions", json=colour_body("red")).json()
    assert reply["usage"] == plain["usage"]  # tokens are the description's, whatever the format


def test_streams_keep_their_deltas_and_end_with_the_attributes(make_client):
    client = make_client()
    with client.stream("POST", "/v1/chat/completions", json=colour_body("red", stream=True)) as response:
        response.read()
    chunks = [json.loads(e) for e in sse_events(response)[:-1]]
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    assert "".join(deltas) == DESCRIPTIONS["red"] and sum(1 for d in deltas if d) > 1
    assert "moda" not in chunks[1]["choices"][0]
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert_red_attributes(chunks[-1]["choices"][0]["moda"]["attributes"])

    body = colour_body("red", stream=True, response_format={"type": "json_object"})
    with client.stream("POST", "/v1/chat/completions", json=body) as response:
        response.read()
    chunks = [json.loads(e) for e in sse_events(response)[:-1]]
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert json.loads(content)["description"] == DESCRIPTIONS["red"]  # one JSON piece, not text deltas


def test_an_unsupported_response_format_is_refused_by_name(make_client):
    client = make_client()
    for response_format in ({"type": "json_schema", "json_schema": {}}, "json"):
        body = colour_body("red", response_format=response_format)
        response = client.post("/v1/chat/completions", json=body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["param"] == "response_format" and "json_object" in error["message"]
    text = client.post("/v1/chat/completions", json=colour_body("red", response_format={"type": "text"}))
    assert text.json()["choices"][0]["message"]["content"] == DESCRIPTIONS["red"]
