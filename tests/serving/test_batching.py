"""Dynamic batching: concurrent requests share `describe_detailed` calls, each gets its own image's text."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from modeling_moda.inference.attributes import Described
from modeling_moda.serving.batcher import Batcher, Job

from ..inference.inference_images import COLOURS, DESCRIPTIONS
from .conftest import colour_body

NAMES = list(COLOURS) * 2  # 8 requests, two per colour


def test_concurrent_requests_are_batched_through_the_real_model(make_client):
    client = make_client(batch_window_ms=200, max_batch_size=16)

    def ask(i: int) -> tuple[str, str, str]:
        name = NAMES[i]
        if i % 2:  # half of them stream: streamed and plain requests share batches
            with client.stream("POST", "/v1/chat/completions", json=colour_body(name, stream=True)) as r:
                r.read()
            chunks = [json.loads(e[6:]) for e in r.text.split("\n\n") if e and e != "data: [DONE]"]
            text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
        else:
            r = client.post("/v1/chat/completions", json=colour_body(name))
            text = r.json()["choices"][0]["message"]["content"]
        return name, text, r.headers["x-moda-batch-size"]

    with ThreadPoolExecutor(len(NAMES)) as pool:
        results = list(pool.map(ask, range(len(NAMES))))

    assert [text for _, text, _ in results] == [DESCRIPTIONS[name] for name, _, _ in results]  # no mix-ups
    metrics = client.get("/metrics").json()
    assert metrics["completed"] == metrics["requests"] == len(NAMES) and metrics["failed"] == 0
    assert metrics["batches"] < len(NAMES)  # fewer describe calls than requests
    assert sum(int(size) * n for size, n in metrics["batch_sizes"].items()) == len(NAMES)
    assert max(int(size) for _, _, size in results) > 1


class RecordingDescriber:
    """Pure batching logic only (no model): records each call's batch and settings."""

    model_id = "recording"
    max_new_tokens = 8

    def __init__(self, fail_first: bool = False):
        self.calls: list[tuple[list[str], int, str | None]] = []
        self.fail_first = fail_first
        self.release = threading.Event()

    def describe_detailed(self, images, *, max_new_tokens=None, prompt=None, on_text=None):
        self.release.wait(5)  # hold the first batch until the test has queued everything
        self.calls.append(([im.info["name"] for im in images], max_new_tokens, prompt))
        if self.fail_first and len(self.calls) == 1:
            raise RuntimeError("out of memory")
        return [Described(f"text of {im.info['name']}", {}) for im in images]


def job(name: str, max_new_tokens: int = 8, prompt: str | None = None) -> Job:
    image = Image.new("RGB", (2, 2))
    image.info["name"] = name
    return Job(image, max_new_tokens, prompt)


def test_batches_respect_max_size_and_never_mix_settings():
    describer = RecordingDescriber()
    batcher = Batcher(describer, max_batch_size=3, window_s=0.05)
    first = job("first")
    batcher.submit(first)  # the worker takes it and blocks in describe
    jobs = [job(f"a{i}") for i in range(4)] + [job("b0", max_new_tokens=4), job("c0", prompt="Describe.")]
    jobs.insert(2, job("b1", max_new_tokens=4))
    for j in jobs:
        batcher.submit(j)
    describer.release.set()
    assert [j.future.result(5).text for j in jobs] == [f"text of {j.image.info['name']}" for j in jobs]
    batcher.close()
    batches = [(names, n, prompt) for names, n, prompt in describer.calls]
    assert (["b1", "b0"], 4, None) in batches  # a held request is joined by a later one with its settings
    assert all(len(names) <= 3 for names, _, _ in batches)
    for names, n, prompt in batches:  # one setting per batch
        assert {(j.max_new_tokens, j.prompt) for j in jobs + [first] if j.image.info["name"] in names} == {
            (n, prompt)
        }
    assert sorted(name for names, _, _ in batches for name in names) == sorted(
        ["first"] + [j.image.info["name"] for j in jobs]
    )
    assert batcher.metrics()["completed"] == 8 and batcher.metrics()["batches"] == len(batches) < 8


def test_a_failed_batch_fails_its_requests_and_the_worker_goes_on():
    describer = RecordingDescriber(fail_first=True)
    describer.release.set()
    batcher = Batcher(describer, max_batch_size=4, window_s=0.0)
    failed = batcher.submit(job("x"))
    with pytest.raises(RuntimeError, match="out of memory"):
        failed.result(5)
    assert batcher.submit(job("y")).result(5).text == "text of y"
    batcher.close()
    assert batcher.metrics()["failed"] == 1 and batcher.metrics()["completed"] == 1
