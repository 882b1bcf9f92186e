"""The OpenAI-compatible MODA server: `POST /v1/chat/completions`, `GET /v1/models`, `/health`, `/metrics`.

    app = create_app(load_describer("runs/quickstart/model"), load_token_counter("runs/quickstart/model"))
    uvicorn.run(app, host="127.0.0.1", port=8000)

Each request carries one image; concurrent requests are batched by `Batcher` (one worker thread, one model).
Replies have OpenAI's `chat.completion` / `chat.completion.chunk` shapes (streamed as server-sent events
ending with `data: [DONE]`), so the openai SDK and OpenAI-compatible clients work unchanged. One extra field,
`choices[0].moda.attributes` (in a completion, and in the last chunk of a stream), holds the description's
attributes with their confidence (schema: `core.attributes`); with `response_format: {"type":
"json_object"}` the message content is `{"description": ..., "attributes": ...}` as JSON (streamed as one
piece, since the attributes are known once the text is complete). The size of the
batch a reply came from is in its `x-moda-batch-size` header; `/metrics` has the counters and histogram.
Refused requests get a 4xx in OpenAI's error shape naming the problem, and the server goes on serving.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from .batcher import Batcher, Described, Describer, Job, QueueFull
from .chat_request import ChatRequest, parse_chat_request, parse_json_body
from .errors import RequestError, error_body, error_response
from .images import ImagePolicy, decode_image, resolve_image_bytes
from .usage import TokenCounter

BATCH_HEADER = "x-moda-batch-size"


@dataclass
class ServeSettings:
    model_name: str | None = None  # the id clients send and /v1/models lists (default: describer.model_id)
    api_key: str | None = None  # None: no key needed (bind to loopback then)
    max_batch_size: int = 16
    batch_window_ms: float = 10.0
    max_queue: int = 1024
    max_tokens_limit: int = 256  # a request's max_tokens is capped here
    use_request_text: bool = False  # True: a request's text parts become the model's prompt
    prompt: str | None = None  # the prompt the model was trained with (None: the seed's no prompt)
    images: ImagePolicy = field(default_factory=ImagePolicy)


def create_app(describer: Describer, counter: TokenCounter, settings: ServeSettings | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    model_name = settings.model_name or describer.model_id
    batcher = Batcher(describer, settings.max_batch_size, settings.batch_window_ms / 1000, settings.max_queue)
    rejected: Counter[str] = Counter()
    # a request body is at most the base64 of the largest image plus the JSON around it
    max_body = settings.images.max_bytes * 4 // 3 + 64 * 1024

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        batcher.close()

    app = FastAPI(title="MODA", lifespan=lifespan)
    app.state.batcher = batcher
    app.state.settings = settings

    @app.exception_handler(RequestError)
    async def refused(request: Request, err: RequestError) -> JSONResponse:
        rejected[err.code or str(err.status)] += 1
        return error_response(err)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, err: HTTPException) -> JSONResponse:
        rejected[str(err.status_code)] += 1
        return JSONResponse(error_body(err.status_code, str(err.detail)), status_code=err.status_code)

    def check_key(request: Request) -> None:
        if settings.api_key is None:
            return
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise RequestError(
                "missing API key: send the header `Authorization: Bearer <key>`",
                status=401,
                code="missing_api_key",
            )
        if not hmac.compare_digest(key.strip().encode(), settings.api_key.encode()):
            raise RequestError("incorrect API key", status=401, code="invalid_api_key")

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": model_name}

    @app.get("/v1/models")
    async def models(request: Request) -> dict:
        check_key(request)
        card = {"id": model_name, "object": "model", "created": 0, "owned_by": "moda"}
        return {"object": "list", "data": [card]}

    @app.get("/metrics")
    async def metrics(request: Request) -> dict:
        check_key(request)
        return {**batcher.metrics(), "rejected": dict(rejected)}

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request) -> Response:
        check_key(request)
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            raise RequestError(f"the request body is {length} bytes, more than {max_body}", status=413)
        raw = await request.body()
        if len(raw) > max_body:
            raise RequestError(f"the request body is {len(raw)} bytes, more than {max_body}", status=413)
        chat = parse_chat_request(parse_json_body(raw))
        if chat.model is not None and chat.model != model_name:
            raise RequestError(
                f"model {chat.model!r} is not served here; this server serves {model_name!r}",
                "model",
                status=404,
                code="model_not_found",
            )
        data = await resolve_image_bytes(chat.image_url, settings.images)
        image = await run_in_threadpool(decode_image, data)
        max_new_tokens = min(chat.max_tokens or describer.max_new_tokens, settings.max_tokens_limit)
        prompt = chat.text if settings.use_request_text and chat.text else settings.prompt
        job = Job(image, max_new_tokens, prompt)
        reply = Reply(model_name, chat, counter, prompt, max_new_tokens)
        if chat.stream:
            return await stream(job, reply)
        try:
            described = await asyncio.wrap_future(submit(job))
        except Exception as err:  # the batch failed in the model
            return JSONResponse(error_body(500, f"the model failed: {err}"), status_code=500)
        return JSONResponse(reply.completion(described), headers={BATCH_HEADER: str(job.batch_size)})

    def submit(job: Job):
        try:
            return batcher.submit(job)
        except QueueFull as err:
            raise RequestError(str(err), status=503, code="overloaded") from err

    async def stream(job: Job, reply: Reply) -> Response:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue = asyncio.Queue()

        def notify(kind: str, value: object) -> None:  # from the worker thread, in order
            loop.call_soon_threadsafe(events.put_nowait, (kind, value))

        job.notify = notify
        submit(job).add_done_callback(lambda future: notify("end", future))
        kind, value = await events.get()  # wait for the batch to start: then its size is known
        if kind == "end" and value.exception() is not None:
            return JSONResponse(error_body(500, f"the model failed: {value.exception()}"), status_code=500)

        async def sse() -> AsyncIterator[str]:
            yield reply.sse(reply.chunk({"role": "assistant", "content": ""}))
            sent, end = "", value if kind == "end" else None
            while end is None:
                kind_, value_ = await events.get()
                if kind_ == "text" and not reply.chat.json_object:
                    sent += value_
                    yield reply.sse(reply.chunk({"content": value_}))
                elif kind_ == "end":
                    end = value_
            if end.exception() is not None:
                yield reply.sse(error_body(500, f"the model failed: {end.exception()}"))
            else:
                described = end.result()
                content = reply.content(described)
                if len(content) > len(sent) and content.startswith(sent):  # text the streamer held back
                    yield reply.sse(reply.chunk({"content": content[len(sent) :]}))
                yield reply.sse(reply.chunk({}, reply.finish(described.text), reply.extra(described)))
                if reply.chat.include_usage:
                    yield reply.sse(reply.usage_chunk(described.text))
            yield "data: [DONE]\n\n"

        return StreamingResponse(
            sse(), media_type="text/event-stream", headers={BATCH_HEADER: str(job.batch_size)}
        )

    return app


class Reply:
    """The OpenAI response bodies for one request."""

    def __init__(
        self, model: str, chat: ChatRequest, counter: TokenCounter, prompt: str | None, max_new_tokens: int
    ):
        self.model = model
        self.chat = chat
        self.counter = counter
        self.prompt = prompt
        self.max_new_tokens = max_new_tokens
        self.id = f"chatcmpl-{uuid.uuid4().hex}"
        self.created = int(time.time())

    def finish(self, text: str) -> str:
        return self.counter.completion(text, self.max_new_tokens)[1]

    def usage(self, text: str) -> dict:
        prompt_tokens = self.counter.prompt_tokens(self.prompt)
        completion_tokens = self.counter.completion(text, self.max_new_tokens)[0]
        return {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def content(self, described: Described) -> str:
        """The message content: the description, or with json_object the description and its attributes."""
        if not self.chat.json_object:
            return described.text
        return json.dumps(
            {"description": described.text, "attributes": described.attributes}, ensure_ascii=False
        )

    @staticmethod
    def extra(described: Described) -> dict:
        """The choice's extra field (beside OpenAI's): the attributes and their confidence."""
        return {"moda": {"attributes": described.attributes}}

    def completion(self, described: Described) -> dict:
        text = described.text  # tokens are counted on the description, whatever the content's format
        message = {"role": "assistant", "content": self.content(described)}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": self.finish(text)}
        choice.update(self.extra(described))
        return {**self._head("chat.completion"), "choices": [choice], "usage": self.usage(text)}

    def chunk(self, delta: dict, finish_reason: str | None = None, extra: dict | None = None) -> dict:
        choice = {
            "index": 0,
            "delta": delta,
            "logprobs": None,
            "finish_reason": finish_reason,
            **(extra or {}),
        }
        return {**self._head("chat.completion.chunk"), "choices": [choice]}

    def usage_chunk(self, text: str) -> dict:
        return {**self._head("chat.completion.chunk"), "choices": [], "usage": self.usage(text)}

    @staticmethod
    def sse(payload: dict) -> str:
        return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"
