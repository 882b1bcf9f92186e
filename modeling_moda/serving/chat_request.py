"""An OpenAI chat-completions request body -> what MODA needs: one image, the text, generation settings.

MODA describes one image per request. The image is an `image_url` content part of a user message; text parts
are kept (the server decides whether they become the model's prompt). Anything the model cannot honour is
refused with a message naming the field, rather than silently ignored: more than one image, `n` > 1, a
content type other than text / image_url, a `response_format` other than text / json_object. Sampling
settings (temperature, top_p, seed) are accepted and ignored: MODA generates greedily, so they cannot change
its reply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .errors import RequestError


@dataclass(frozen=True)
class ChatRequest:
    image_url: str
    text: str  # the text parts of the message with the image, joined by newlines ("" if none)
    max_tokens: int | None  # as asked (None: the model's default); the server caps it
    stream: bool
    include_usage: bool  # stream_options.include_usage: a last chunk with the token counts
    model: str | None
    json_object: bool = False  # response_format {"type": "json_object"}: the content is the attributes JSON


def parse_json_body(raw: bytes) -> dict:
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RequestError(f"the request body is not valid JSON: {err}", code="invalid_json") from err
    if not isinstance(body, dict):
        raise RequestError(f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def parse_chat_request(body: dict) -> ChatRequest:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError("`messages` must be a non-empty list of chat messages", "messages")
    images: list[tuple[str, str]] = []  # (url, text of its message)
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or "role" not in message:
            raise RequestError(f"messages[{i}] must be an object with a `role`", f"messages[{i}]")
        if message["role"] != "user":
            continue  # system / assistant turns carry no image for a captioning model
        urls, texts = _content_parts(message.get("content"), f"messages[{i}].content")
        images += [(url, "\n".join(texts)) for url in urls]
    if not images:
        raise RequestError(
            "no image in the request: MODA describes an image; add a user content part "
            '{"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,..."}}',
            "messages",
            code="missing_image",
        )
    if len(images) > 1:
        raise RequestError(
            f"the request holds {len(images)} images; MODA describes one image per request "
            "(send concurrent requests: the server batches them)",
            "messages",
        )
    n = body.get("n", 1)
    if n != 1:
        raise RequestError(f"`n` = {n!r} is not supported: MODA generates greedily, one choice", "n")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise RequestError("`stream` must be true or false", "stream")
    options = body.get("stream_options") or {}
    if not isinstance(options, dict):
        raise RequestError("`stream_options` must be an object", "stream_options")
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise RequestError("`model` must be a string", "model")
    url, text = images[0]
    return ChatRequest(
        json_object=_response_format(body) == "json_object",
        image_url=url,
        text=text.strip(),
        max_tokens=_max_tokens(body),
        stream=stream,
        include_usage=bool(options.get("include_usage", False)),
        model=model,
    )


def _content_parts(content: Any, where: str) -> tuple[list[str], list[str]]:
    if isinstance(content, str):
        return [], [content]
    if not isinstance(content, list):
        raise RequestError(f"{where} must be a string or a list of content parts", where)
    urls, texts = [], []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            image_url = part.get("image_url")
            url = image_url.get("url") if isinstance(image_url, dict) else image_url
            if not isinstance(url, str) or not url:
                raise RequestError(f"{where}[{j}].image_url.url must be a non-empty string", f"{where}[{j}]")
            urls.append(url)
        else:
            raise RequestError(
                f"{where}[{j}]: unsupported content part {kind!r}; MODA takes `image_url` and `text` parts",
                f"{where}[{j}]",
            )
    return urls, texts


def _response_format(body: dict) -> str:
    response_format = body.get("response_format")
    if response_format is None:
        return "text"
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in ("text", "json_object"):
        raise RequestError(
            f"`response_format` {response_format!r} is not supported: MODA answers text, or its attributes "
            'as JSON with {"type": "json_object"}',
            "response_format",
        )
    return kind


def _max_tokens(body: dict) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise RequestError(f"`{name}` must be a positive integer, got {value!r}", name)
        return value
    return None
