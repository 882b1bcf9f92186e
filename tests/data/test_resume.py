"""A build killed with SIGKILL mid-run, then run again: no lost rows, no duplicated rows, no repeated call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import datasets
import pytest
import yaml

from modeling_moda.data.synth import synth_catalog

from ..scripted_openai import ScriptedOpenAIServer, keep_the_draft


def _cache_keys(out: Path) -> list[str]:
    *complete, _torn = (out / ".moda" / "cache-00000-of-00001.jsonl").read_bytes().split(b"\n")
    return [json.loads(line)["key"] for line in complete if line.strip()]


@pytest.mark.slow  # starts two build processes
def test_sigkill_then_resume(tmp_path: Path) -> None:
    catalog, out = tmp_path / "catalog", tmp_path / "ds"
    synth_catalog(catalog, n=240, seed=11, workers=2, progress=False)
    # The refiner is an HTTP server that holds its 61st request until released: the build is then stuck
    # with exactly 15 batches of 4 items done (teacher + refiner) and batch 16's teacher replies cached.
    gate = threading.Event()

    def held(body: dict) -> str:
        gate.wait(timeout=600)
        return keep_the_draft(body)

    server = ScriptedOpenAIServer([(200, keep_the_draft)] * 60 + [(200, held)], default=keep_the_draft)
    config = tmp_path / "build.yaml"
    refiner = {"backend": "openai", "base_url": server.url, "model": "m", "max_concurrency": 1}
    config.write_text(yaml.safe_dump({"batch_size": 4, "prompt_version": "small-v1", "refiner": refiner}))
    command = [sys.executable, "-m", "modeling_moda", "dataset", "build", "--source", str(catalog),
               "--out", str(out), "--config", str(config), "--quiet"]  # fmt: skip
    try:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300  # a bound on waiting, not a speed check
        while time.monotonic() < deadline and len(server.requests) < 61 and process.poll() is None:
            time.sleep(0.05)
        assert len(server.requests) == 61 and process.poll() is None, "the build did not stop at the gate"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        done_before = len(set(_cache_keys(out)))
        assert done_before == 2 * 60 + 4 and not (out / "data").exists()
        gate.set()

        finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        gate.set()
        server.close()
    assert finished.returncode == 0, finished.stderr[-2000:]
    summary = json.loads(finished.stdout)
    keys = _cache_keys(out)
    assert len(keys) == len(set(keys)) == 480  # one reply per (item, step): no call was made twice
    assert summary["calls"]["teacher"] + summary["calls"]["refiner"] == 480 - done_before
    assert len(server.requests) == 61 + 240 - 60  # the rerun asked only for the 180 unfinished refinements
    ids = [i for part in datasets.load_dataset(str(out)).values() for i in part["id"]]
    assert len(ids) == len(set(ids)) == 240  # nothing lost, nothing duplicated
