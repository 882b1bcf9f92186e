"""Dynamic batching: requests from many connections go through one model in batches.

Requests wait in one queue. One worker thread takes the first, then keeps taking requests until the batch
holds `max_batch_size` or `window_s` has passed since the first arrived, and runs one `describe` call for the
batch. Requests that arrive while a batch generates wait in the queue, so under load the next batch fills at
once. Only requests with the same generation settings (max_new_tokens, prompt) share a batch; a request that
differs waits for the next one. Counters and a batch-size histogram make the batching observable.

Every batch runs `describe_detailed`, so each reply can carry its attributes and their confidence: keeping the
chosen tokens' probabilities and reading the text costs little next to generating it (measured in the README,
attributes and confidence), and one call keeps streamed and plain requests in the same batches.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from PIL import Image

OnText = Callable[[int, str], None]
Notify = Callable[[str, Any], None]  # (event, value): ("start", batch_size) then ("text", delta) ...


class Described(Protocol):
    """One description and its attributes (schema: `core.attributes`)."""

    text: str
    attributes: dict


class Describer(Protocol):
    """What the server needs of a model (e.g. `modeling_moda.inference.describer.load_describer`)."""

    model_id: str
    max_new_tokens: int

    def describe_detailed(
        self,
        images: Sequence[Image.Image],
        *,
        max_new_tokens: int | None = None,
        prompt: str | None = None,
        on_text: OnText | None = None,
    ) -> list[Described]: ...


class QueueFull(RuntimeError):
    """The queue holds `max_queue` requests already: the caller should answer 503."""


@dataclass
class Job:
    """One image to describe. `notify` (optional, called from the worker thread) receives ("start",
    batch size) when its batch starts, then ("text", delta) as its text grows; `future` gets the
    `Described` (text and attributes)."""

    image: Image.Image
    max_new_tokens: int
    prompt: str | None = None
    notify: Notify | None = None
    future: Future = field(default_factory=Future)
    batch_size: int = 0  # the size of the batch it ran in

    @property
    def settings(self) -> tuple[int, str | None]:
        return self.max_new_tokens, self.prompt


_STOP = object()


class Batcher:
    """`submit(job)` from any thread; one worker thread runs the batches. `close()` stops it."""

    def __init__(
        self, describer: Describer, max_batch_size: int = 16, window_s: float = 0.01, max_queue: int = 1024
    ):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        if window_s < 0:
            raise ValueError(f"the batch window must be >= 0 s, got {window_s}")
        self.describer = describer
        self.max_batch_size = max_batch_size
        self.window_s = window_s
        self.max_queue = max_queue
        self._queue: queue.Queue = queue.Queue()
        self._held: list[Job] = []  # taken from the queue but with other settings than the batch they met
        self._lock = threading.Lock()
        self._batch_sizes: Counter[int] = Counter()
        self._counts = {"requests": 0, "completed": 0, "failed": 0, "batches": 0, "describe_s": 0.0}
        self._worker = threading.Thread(target=self._run, name="moda-batcher", daemon=True)
        self._worker.start()

    def submit(self, job: Job) -> Future:
        if self._queue.qsize() + len(self._held) >= self.max_queue:
            raise QueueFull(f"{self.max_queue} requests are waiting already; try again later")
        with self._lock:
            self._counts["requests"] += 1
        self._queue.put(job)
        return job.future

    def close(self, timeout: float = 30.0) -> None:
        self._queue.put(_STOP)
        self._worker.join(timeout)

    def metrics(self) -> dict[str, Any]:
        with self._lock:
            counts = dict(self._counts)
            sizes = dict(sorted(self._batch_sizes.items()))
        batches = counts["batches"]
        return {
            **counts,
            "describe_s": round(counts["describe_s"], 3),
            "waiting": self._queue.qsize() + len(self._held),
            "batch_sizes": {str(size): n for size, n in sizes.items()},  # histogram: size -> batches
            "mean_batch_size": round(sum(s * n for s, n in sizes.items()) / batches, 3) if batches else 0.0,
            "max_batch_size": self.max_batch_size,
            "batch_window_ms": self.window_s * 1000,
        }

    # --- worker thread ------------------------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping or self._held:
            if self._held:
                first = self._held.pop(0)
            else:
                first = self._queue.get()
                if first is _STOP:
                    return
            batch = [first]
            # held requests with the same settings join first: they have waited longest
            for job in [j for j in self._held if j.settings == first.settings][: self.max_batch_size - 1]:
                self._held.remove(job)
                batch.append(job)
            deadline = time.monotonic() + self.window_s
            while len(batch) < self.max_batch_size and not stopping:
                try:
                    job = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if job is _STOP:
                    stopping = True
                elif job.settings == first.settings:
                    batch.append(job)
                else:
                    self._held.append(job)
            self._describe(batch)

    def _describe(self, batch: list[Job]) -> None:
        batch = [job for job in batch if job.future.set_running_or_notify_cancel()]
        if not batch:
            return
        for job in batch:
            job.batch_size = len(batch)
            if job.notify:
                job.notify("start", len(batch))

        def on_text(row: int, delta: str) -> None:
            if batch[row].notify:
                batch[row].notify("text", delta)

        streaming = any(job.notify for job in batch)
        start = time.perf_counter()
        try:
            described = self.describer.describe_detailed(
                [job.image for job in batch],
                max_new_tokens=batch[0].max_new_tokens,
                prompt=batch[0].prompt,
                on_text=on_text if streaming else None,
            )
        except Exception as err:  # the model failed this batch: its requests fail, the server goes on
            self._record(batch, time.perf_counter() - start, failed=True)
            for job in batch:
                job.future.set_exception(err)
            return
        self._record(batch, time.perf_counter() - start, failed=False)
        for job, result in zip(batch, described, strict=True):
            job.future.set_result(result)

    def _record(self, batch: list[Job], seconds: float, failed: bool) -> None:
        with self._lock:
            self._counts["batches"] += 1
            self._counts["failed" if failed else "completed"] += len(batch)
            self._counts["describe_s"] += seconds
            self._batch_sizes[len(batch)] += 1
