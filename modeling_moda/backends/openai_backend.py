"""A client for any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp, `transformers serve`).

Built on the official `openai` SDK with its own retries switched off, so that the policy is ours and visible:
429, 408, 5xx, timeouts and connection errors are retried with exponential backoff and jitter (honouring a
`Retry-After` header), other 4xx fail at once, and when the retries are spent a `BackendError` names the
server, the model and the last error. Concurrency is bounded per client (a semaphore shared by `chat` and the
thread pool of `chat_many`). The API key comes from the environment only.
"""

from __future__ import annotations

import os
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from .base import BackendError, ChatReply, image_to_data_url

__all__ = ["OpenAIChat", "ChatReply", "BackendError", "image_to_data_url"]

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_RETRY_STATUS = {408, 409, 429}


class OpenAIChat:
    """`.chat(messages, **gen) -> ChatReply`; `.chat_many(batch, **gen) -> list[ChatReply | Exception]`.

    `gen` goes to `chat.completions.create` (`max_tokens`, `temperature`, `seed`, `response_format`, ...).
    `base_url=None` means OpenAI itself. A local server (127.0.0.1/localhost) needs no key. `model=None` asks
    the server (`/v1/models`) and takes the one model it serves, e.g. a pinned `transformers serve`.
    """

    name = "openai"

    def __init__(
        self,
        base_url: str | None,
        model: str | None,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 4,
        timeout: float = 60,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
    ):
        import openai

        self.base_url = base_url
        self.model = model
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._tally_lock = threading.Lock()
        self.totals = {"requests": 0, "retries": 0, "failures": 0, "prompt_tokens": 0, "completion_tokens": 0}
        api_key = os.environ.get(api_key_env)
        if not api_key:
            if urlparse(base_url or "").hostname not in _LOCAL_HOSTS:
                raise BackendError(
                    f"no API key: set the environment variable {api_key_env} ({base_url or 'api.openai.com'})"
                )
            api_key = "local-no-key"  # local servers ignore it, the SDK insists on one
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        if self.model is None:
            self.model = self._served_model()

    def chat(self, messages: list[dict], **gen: Any) -> ChatReply:
        """One chat completion, retried on transient errors; raises `BackendError` when it fails for good."""
        import openai

        last: Exception | None = None
        for attempt in range(self.max_retries + 1):
            if attempt:
                time.sleep(self._delay(attempt, last))
                self._tally(retries=1)
            start = time.perf_counter()
            try:
                with self._slots:
                    response = self._client.chat.completions.create(
                        model=self.model, messages=messages, **gen
                    )
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                last = exc
            except openai.APIStatusError as exc:
                if exc.status_code not in _RETRY_STATUS and exc.status_code < 500:
                    self._tally(failures=1)
                    raise BackendError(f"{self._where()}: HTTP {exc.status_code}: {_message(exc)}") from exc
                last = exc
            else:
                return self._reply(response, time.perf_counter() - start)
        self._tally(failures=1)
        raise BackendError(
            f"{self._where()}: gave up after {self.max_retries + 1} attempts; last error: {_describe(last)}"
        ) from last

    def chat_many(
        self, batch: list[list[dict]], progress: bool = False, **gen: Any
    ) -> list[ChatReply | Exception]:
        """Replies in input order; a call that fails for good yields its exception in place of a reply."""

        def one(messages: list[dict]) -> ChatReply | Exception:
            try:
                return self.chat(messages, **gen)
            except BackendError as exc:
                return exc

        with ThreadPoolExecutor(max_workers=self.max_concurrency) as pool:
            results = pool.map(one, batch)
            if progress:
                from tqdm.auto import tqdm

                results = tqdm(results, total=len(batch), desc=f"{self.model} chat")
            return list(results)

    def _served_model(self) -> str:
        import openai

        try:
            ids = [m.id for m in self._client.models.list()]
        except openai.OpenAIError as exc:
            raise BackendError(f"{self._where()}: cannot list the served models: {_describe(exc)}") from exc
        if len(ids) != 1:
            raise BackendError(f"{self._where()}: serves {len(ids)} models {ids[:10]}; pass model=")
        return ids[0]

    def _reply(self, response: Any, latency: float) -> ChatReply:
        if not response.choices:
            raise BackendError(f"{self._where()}: reply without choices")
        choice = response.choices[0]
        usage = response.usage
        counts = {
            "prompt_tokens": getattr(usage, "prompt_tokens", 0) or 0,
            "completion_tokens": getattr(usage, "completion_tokens", 0) or 0,
        }
        counts["total_tokens"] = counts["prompt_tokens"] + counts["completion_tokens"]
        self._tally(
            requests=1, prompt_tokens=counts["prompt_tokens"], completion_tokens=counts["completion_tokens"]
        )
        return ChatReply(
            text=choice.message.content or "",
            usage=counts,
            model=response.model or self.model,
            finish_reason=choice.finish_reason,
            latency_s=latency,
        )

    def _delay(self, attempt: int, error: Exception | None) -> float:
        """Exponential backoff with jitter: half fixed, half random; a server's Retry-After wins if longer."""
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        delay = ceiling / 2 + random.uniform(0, ceiling / 2)
        response = getattr(error, "response", None)
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                delay = max(delay, min(self.backoff_max, float(retry_after)))
            except ValueError:
                pass  # an HTTP date: keep our own delay
        return delay

    def _tally(self, **counts: int) -> None:
        with self._tally_lock:
            for k, v in counts.items():
                self.totals[k] += v

    def _where(self) -> str:
        return f"{self.base_url or 'api.openai.com'} (model {self.model})"


def _message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        return str(err.get("message", err) if isinstance(err, dict) else err)[:300]
    return str(exc)[:300]


def _describe(exc: Exception | None) -> str:
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}: {_message(exc)}" if status else f"{type(exc).__name__}: {exc}"
