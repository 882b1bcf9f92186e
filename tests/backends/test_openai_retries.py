"""OpenAIChat's retry and endpoint-fault policy against real HTTP servers on 127.0.0.1 (scripted http.server).

The SDK's backoff starts at 0.5 s and doubles (minus up to 25% jitter).
"""

import pytest

from modeling_moda.backends import BackendError, EndpointDown, get_chat_backend
from modeling_moda.backends.openai_backend import OpenAIChat
from modeling_moda.backends.smollm2 import free_port

from ..scripted_openai import ScriptedOpenAIServer

pytestmark = pytest.mark.slow  # each test starts an HTTP server

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
    client = OpenAIChat(server.url, "scripted")
    reply = client.chat(MESSAGES, max_tokens=5)
    assert reply.text == "hi" and reply.usage == {
        "prompt_tokens": 5,
        "completion_tokens": 2,
        "total_tokens": 7,
    }
    assert len(server.requests) == 3 and client.totals["retries"] == 2 and client.totals["requests"] == 1
    gaps = [b - a for a, b in zip(server.times, server.times[1:], strict=False)]
    assert gaps[0] >= 0.35 and gaps[1] >= 0.7  # jittered within [0.75 d, d], d = 0.5 then 1
    assert server.requests[0]["max_tokens"] == 5 and server.requests[0]["model"] == "scripted"


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_transient_statuses_are_retried(scripted, status):
    server = scripted([status])
    assert OpenAIChat(server.url, "scripted").chat(MESSAGES).text == "hi"
    assert len(server.requests) == 2


def test_retry_after_header_is_honoured(scripted):
    server = scripted([429], headers={"Retry-After": "1.5"})
    OpenAIChat(server.url, "scripted").chat(MESSAGES)
    assert server.times[1] - server.times[0] >= 1.4  # the server's delay, not the backoff's 0.5 s


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_fail_at_once_with_the_servers_message(scripted, status):
    server = scripted([status])
    client = OpenAIChat(server.url, "scripted")
    with pytest.raises(BackendError, match=rf"HTTP {status}: status {status}") as failed:
        client.chat(MESSAGES)
    assert len(server.requests) == 1 and not isinstance(failed.value, EndpointDown)
    assert client.chat(MESSAGES).text == "hi"  # one bad request does not mark the endpoint down


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_marks_the_endpoint_down_at_once(scripted, status):
    server = scripted([status])
    client = OpenAIChat(server.url, "scripted", max_retries=3)
    with pytest.raises(
        EndpointDown, match=rf"{server.url} \(model scripted\): HTTP {status}.*OPENAI_API_KEY"
    ):
        client.chat(MESSAGES)
    with pytest.raises(EndpointDown, match=rf"HTTP {status}"):
        client.chat(MESSAGES)  # later calls fail at once, without a request
    assert len(server.requests) == 1


def test_consecutive_failures_mark_the_endpoint_down_and_a_success_resets_the_count(scripted):
    server = scripted([404, 404, 200, 404, 404, 404, 200])
    client = OpenAIChat(server.url, "scripted", max_consecutive_failures=3)
    for _ in range(2):
        with pytest.raises(BackendError) as failed:
            client.chat(MESSAGES)
        assert not isinstance(failed.value, EndpointDown)
    assert client.chat(MESSAGES).text == "hi"
    for _ in range(2):
        with pytest.raises(BackendError):
            client.chat(MESSAGES)
    with pytest.raises(EndpointDown, match=r"3 calls in a row failed; the last: .*HTTP 404"):
        client.chat(MESSAGES)
    replies = client.chat_many([MESSAGES] * 3)
    assert all(isinstance(r, EndpointDown) for r in replies) and len(server.requests) == 6


def test_server_that_stays_down_gives_backend_error(scripted):
    server = scripted([503] * 10)
    client = OpenAIChat(server.url, "scripted", max_retries=2)
    with pytest.raises(BackendError, match=r"gave up after 3 attempts; last error: HTTP 503"):
        client.chat(MESSAGES)
    assert len(server.requests) == 3 and client.totals["failures"] == 1


def test_nothing_listening_marks_the_endpoint_down_naming_it(scripted):
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"
    client = OpenAIChat(url, "m", max_retries=1, timeout=5)
    with pytest.raises(
        EndpointDown, match=rf"{url} \(model m\): unreachable: gave up after 2 attempts.*refused"
    ):
        client.chat(MESSAGES)
    server = scripted([], port=port)  # even with a server there now, this client tries no more
    results = client.chat_many([MESSAGES, MESSAGES])
    assert all(isinstance(r, EndpointDown) for r in results) and server.requests == []
    assert OpenAIChat(url, "m").chat(MESSAGES).text == "hi"  # a new client (a rerun) gets through


def test_timeout_is_retried_then_reported(scripted):
    server = scripted([], delay=1.0)
    client = OpenAIChat(server.url, "scripted", timeout=0.2, max_retries=1)
    with pytest.raises(BackendError, match="Timeout"):
        client.chat(MESSAGES)
    assert len(server.requests) == 2


def test_chat_many_keeps_order_and_bounds_concurrency(scripted):
    server = scripted([429, 500], delay=0.1)
    client = OpenAIChat(server.url, "scripted", max_concurrency=3)
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
