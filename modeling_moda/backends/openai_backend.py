"""A client for any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp, `transformers serve`).

Transport faults are the `openai` SDK's own business: it retries 408, 409, 429, 5xx, timeouts and connection
errors `max_retries` times with exponential backoff and jitter (0.5 s doubling to 8 s; a server's Retry-After
up to two minutes wins) and fails other 4xx at once. When a call fails for good, `BackendError` names the
server, the model and the last error.

Endpoint faults are ours: an endpoint that cannot be reached (after those retries), that refuses the key
(401/403), or whose calls fail `max_consecutive_failures` times in a row is marked down; that call and every
later one raise `EndpointDown` at once, so a long job stops with one message instead of failing item after
item. Concurrency is bounded per client (a semaphore shared by `chat` and the thread pool of `chat_many`).
The API key comes from the environment only.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from .base import BackendError, ChatReply, EndpointDown, image_to_data_url

__all__ = ["OpenAIChat", "ChatReply", "BackendError", "EndpointDown", "image_to_data_url"]

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_RETRIED_STATUS = {408, 409, 429}  # and every 5xx: what the SDK retries


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
        max_consecutive_failures: int = 5,
    ):
        import openai

        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.max_concurrency = max_concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_consecutive_failures = max_consecutive_failures
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self._lock = threading.Lock()
        self._consecutive_failures = 0
        self.down: EndpointDown | None = None  # set once the endpoint is marked down
        self.totals = {"requests": 0, "retries": 0, "failures": 0, "prompt_tokens": 0, "completion_tokens": 0}
        api_key = os.environ.get(api_key_env)
        if not api_key:
            if urlparse(base_url or "").hostname not in _LOCAL_HOSTS:
                raise BackendError(
                    f"no API key: set the environment variable {api_key_env} ({base_url or 'api.openai.com'})"
                )
            api_key = "local-no-key"  # local servers ignore it, the SDK insists on one
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries
        )
        if self.model is None:
            self.model = self._served_model()

    def chat(self, messages: list[dict], **gen: Any) -> ChatReply:
        """One chat completion (the SDK retries transient errors); `BackendError` when it fails for good,
        `EndpointDown` when the endpoint is (now) marked down."""
        import openai

        with self._slots:
            self._raise_if_down()  # checked again here: it may have gone down while this call waited
            start = time.perf_counter()
            try:
                raw = self._client.chat.completions.with_raw_response.create(
                    model=self.model, messages=messages, **gen
                )
                response = raw.parse()
            except openai.OpenAIError as exc:
                raise self._failure(exc) from exc
        with self._lock:
            self._consecutive_failures = 0
        self._tally(retries=raw.retries_taken)
        return self._reply(response, time.perf_counter() - start)

    def chat_many(
        self, batch: list[list[dict]], progress: bool = False, **gen: Any
    ) -> list[ChatReply | Exception]:
        """Replies in input order; a call that fails for good yields its exception in place of a reply (an
        `EndpointDown` for every call from the one that marked the endpoint down on)."""

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
            raise self._failure(exc, "cannot list the served models: ") from exc
        if len(ids) != 1:
            raise BackendError(f"{self._where()}: serves {len(ids)} models {ids[:10]}; pass model=")
        return ids[0]

    def _failure(self, exc: Exception, context: str = "") -> BackendError:
        """The error to raise for a call that failed for good; it may mark the endpoint down."""
        import openai

        status = getattr(exc, "status_code", None)
        retried = (
            isinstance(exc, openai.APIConnectionError) or status in _RETRIED_STATUS or (status or 0) >= 500
        )
        attempts = f"gave up after {self.max_retries + 1} attempts; last error: " if retried else ""
        message = f"{self._where()}: {context}{attempts}{_describe(exc)}"
        self._tally(failures=1, retries=self.max_retries if retried else 0)
        if isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError):
            return self._mark_down(f"{self._where()}: unreachable: {context}{attempts}{_describe(exc)}")
        if status in (401, 403):
            return self._mark_down(f"{message} (the key comes from ${self.api_key_env})")
        with self._lock:
            self._consecutive_failures += 1
            failures = self._consecutive_failures
        if failures >= self.max_consecutive_failures:
            return self._mark_down(f"{self._where()}: {failures} calls in a row failed; the last: {message}")
        return BackendError(message)

    def _mark_down(self, message: str) -> EndpointDown:
        with self._lock:
            if self.down is None:  # the first reason wins; calls failing at the same time repeat it
                self.down = EndpointDown(message)
            return EndpointDown(str(self.down))

    def _raise_if_down(self) -> None:
        if self.down is not None:
            raise EndpointDown(str(self.down))

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

    def _tally(self, **counts: int) -> None:
        with self._lock:
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


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    if status:
        return f"HTTP {status}: {_message(exc)}"
    cause = f" ({exc.__cause__})" if exc.__cause__ else ""  # e.g. "[Errno 111] Connection refused"
    return f"{type(exc).__name__}: {exc}{cause}"
