"""The official openai SDK parses the server's replies: completions, streaming with usage, models, errors."""

from __future__ import annotations

import openai
import pytest

from ..inference.inference_images import DESCRIPTIONS, colour_image
from .conftest import API_KEY, data_url


@pytest.fixture()
def sdk(make_client):
    """An `openai.OpenAI` client whose HTTP goes to the in-process app (the TestClient is an httpx client)."""
    http_client = make_client(model_name="moda-tiny")
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key=API_KEY, http_client=http_client, max_retries=0
    )


def messages(name: str) -> list[dict]:
    image_part = {"type": "image_url", "image_url": {"url": data_url(colour_image(name), "JPEG")}}
    return [{"role": "user", "content": [image_part, {"type": "text", "text": "Describe the product."}]}]


def test_sdk_completion_stream_and_models(sdk):
    assert [m.id for m in sdk.models.list()] == ["moda-tiny"]
    reply = sdk.chat.completions.create(model="moda-tiny", messages=messages("red"), max_tokens=40)
    assert reply.choices[0].message.content == DESCRIPTIONS["red"]
    assert reply.choices[0].finish_reason == "stop" and reply.usage.completion_tokens > 1

    stream = sdk.chat.completions.create(
        model="moda-tiny", messages=messages("red"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == DESCRIPTIONS["red"]
    assert chunks[-1].usage.total_tokens == reply.usage.total_tokens


def test_sdk_raises_the_servers_errors(sdk):
    with pytest.raises(openai.BadRequestError, match="no image in the request"):
        sdk.chat.completions.create(model="moda-tiny", messages=[{"role": "user", "content": "hi"}])
    sdk.api_key = "wrong"
    with pytest.raises(openai.AuthenticationError, match="incorrect API key"):
        sdk.chat.completions.create(model="moda-tiny", messages=messages("red"))
