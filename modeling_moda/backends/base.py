"""What every chat backend shares: the reply type, the error type, and the image-to-message helper."""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "BackendError",
    "ChatBackend",
    "ChatReply",
    "EndpointDown",
    "image_to_data_url",
    "data_url_to_image",
]


class BackendError(RuntimeError):
    """A chat call that failed for good (server down, retries spent, bad request, model cannot do it)."""


class EndpointDown(BackendError):
    """The endpoint cannot serve any call: unreachable, refusing the key (401/403), or failing call on call.

    A job stops on it (after keeping the replies that did arrive) instead of failing item after item; the
    message names the endpoint and the last error.
    """


@dataclass
class ChatReply:
    """One assistant reply; `usage`: `prompt_tokens`, `completion_tokens`, `total_tokens` (cost tallies)."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    model: str = ""
    finish_reason: str | None = None
    latency_s: float = 0.0


class ChatBackend(Protocol):
    name: str  # "openai" | "transformers": part of every cache key
    model: str

    def chat(self, messages: list[dict], **gen: Any) -> ChatReply: ...

    def chat_many(self, batch: list[list[dict]], **gen: Any) -> list[ChatReply | Exception]: ...


def image_to_data_url(image: Any, format: str = "JPEG", quality: int = 90) -> str:
    """A PIL image as a `data:image/...;base64,` URL for an OpenAI-style `image_url` content part."""
    buf = io.BytesIO()
    image = image.convert("RGB") if format.upper() == "JPEG" else image
    image.save(buf, format=format, quality=quality)
    return f"data:image/{format.lower()};base64,{base64.b64encode(buf.getvalue()).decode('ascii')}"


def data_url_to_image(url: str):
    """The inverse of `image_to_data_url` (a PIL image); ValueError for anything but a base64 data URL."""
    from PIL import Image

    if not url.startswith("data:") or ";base64," not in url:
        raise ValueError(f"only base64 data URLs are supported for local models, got {url[:40]!r}")
    payload = base64.b64decode(url.split(";base64,", 1)[1])
    image = Image.open(io.BytesIO(payload))
    image.load()
    return image
