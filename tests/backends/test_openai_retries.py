"""OpenAIChat's retry policy against real HTTP servers on 127.0.0.1 (a tiny scripted http.server)."""

import pytest

from modeling_moda.backends import BackendError, get_chat_backend
from modeling_moda.backends.openai_backend import OpenAIChat
from modeling_moda.backends.smollm2 import free_port

from ..scripted_openai import ScriptedOpenAIServer

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def scripted():
    servers = []

    def make(statuses: list[int], **kwargs):
        # a 200 echoes the last message, so a reply shows which request it answers
        servers.append(ScriptedOpenAIServer([(status, None) for status in statuses], **kwargs))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


def test_429_twice_then_success_with_growing_backoff(scripted):
    server = scripted([429, 429])
    client = OpenAIChat(server.url, "scripted", backoff_base=0.2)
    reply = client.chat(MESSAGES, max_tokens=5)
    assert reply.text == "hi" and reply.usage == {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "total_tokens": 7,
    }
    assert len(server.requests) == 3 and client.totals["retries"] == 2 and client.totals["requests"] == 1
    gaps = [b - a for a, b in zip(server.times, server.times[1:], strict=False)]
    assert gaps[0] >= 0.1 and gaps[1] >= 0.2  # jittered within [d/2, d], d = 0.2 then 0.4
    assert server.requests[0]["max_tokens"] == 5 and server.requests[0]["model"] == "scripted"


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_transient_statuses_are_retried(scripted, status):
    server = scripted([status])
    assert OpenAIChat(server.url, "scripted", backoff_base=0.01).chat(MESSAGES).text == "hi"
    assert len(server.requests) == 2


def test_retry_after_header_is_honoured(scripted):
    server = scripted([429], headers={"Retry-After": "0.5"})
    OpenAIChat(server.url, "scripted", backoff_base=0.01).chat(MESSAGES)
    assert server.times[1] - server.times[0] >= 0.45


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_client_errors_fail_at_once_with_the_servers_message(scripted, status):
    server = scripted([status] * 5)
    with pytest.raises(BackendError, match=rf"HTTP {status}: status {status}"):
        OpenAIChat(server.url, "scripted", backoff_base=0.01).chat(MESSAGES)
    assert len(server.requests) == 1


def test_server_that_stays_down_gives_backend_error(scripted):
    server = scripted([503] * 10)
    client = OpenAIChat(server.url, "scripted", max_retries=2, backoff_base=0.01)
    with pytest.raises(BackendError, match=r"gave up after 3 attempts; last error: HTTP 503"):
        client.chat(MESSAGES)
    assert len(server.requests) == 3 and client.totals["failures"] == 1


def test_nothing_listening_gives_backend_error_naming_the_server():
    url = f"http://127.0.0.1:{free_port()}/v1"
    client = OpenAIChat(url, "m", max_retries=2, backoff_base=0.01, timeout=5)
    with pytest.raises(BackendError, match=rf"{url} \(model m\): gave up after 3 attempts.*Connection error"):
        client.chat(MESSAGES)
    results = client.chat_many([MESSAGES, MESSAGES])
    assert all(isinstance(r, BackendError) for r in results)


def test_timeout_is_retried_then_reported(scripted):
    server = scripted([], delay=1.0)
    client = OpenAIChat(server.url, "scripted", timeout=0.2, max_retries=1, backoff_base=0.01)
    with pytest.raises(BackendError, match="Timeout"):
        client.chat(MESSAGES)
    assert len(server.requests) == 2


def test_chat_many_keeps_order_and_bounds_concurrency(scripted):
    server = scripted([429, 500], delay=0.1)
    client = OpenAIChat(server.url, "scripted", max_concurrency=3, backoff_base=0.01)
    batch = [[{"role": "user", "content": f"item {i}"}] for i in range(12)]
    replies = client.chat_many(batch, max_tokens=3)
    assert [r.text for r in replies] == [f"item {i}" for i in range(12)]
    assert server.max_active <= 3 and len(server.requests) == 14
    assert client.totals["prompt_tokens"] == 60 and client.totals["completion_tokens"] == 24


def test_api_key_comes_from_the_environment_only(monkeypatch, scripted):
    monkeypatch.delenv("MODA_TEST_KEY", raising=False)
    with pytest.raises(BackendError, match="set the environment variable MODA_TEST_KEY"):
        OpenAIChat("https://api.example.invalid/v1", "m", api_key_env="MODA_TEST_KEY")
    OpenAIChat(scripted([]).url, "m", api_key_env="MODA_TEST_KEY")  # a local server needs no key


def test_factory_builds_the_openai_client_and_rejects_unknown_names(scripted):
    client = get_chat_backend("openai", base_url=scripted([]).url, model="scripted")
    assert isinstance(client, OpenAIChat) and client.name == "openai"
    with pytest.raises(ValueError, match="unknown chat backend 'vllm'"):
        get_chat_backend("vllm")
