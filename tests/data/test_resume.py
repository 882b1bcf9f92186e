"""A build killed with SIGKILL mid-run, then run again: no lost rows, no duplicated rows, no repeated call."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import datasets

from modeling_moda.data.synth import synth_catalog


def _cache_keys(out: Path) -> list[str]:
    *complete, _torn = (out / ".moda" / "cache-00000-of-00001.jsonl").read_bytes().split(b"\n")
    return [json.loads(line)["key"] for line in complete if line.strip()]


def test_sigkill_then_resume(tmp_path: Path) -> None:
    catalog, out = tmp_path / "catalog", tmp_path / "ds"
    synth_catalog(catalog, n=240, seed=11, workers=2, progress=False)
    config = tmp_path / "build.yaml"
    config.write_text("batch_size: 4\n")
    command = [sys.executable, "-m", "modeling_moda", "dataset", "build", "--source", str(catalog),
               "--out", str(out), "--config", str(config), "--quiet"]  # fmt: skip
    cache = out / ".moda" / "cache-00000-of-00001.jsonl"
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if cache.exists() and cache.stat().st_size > 0 and len(_cache_keys(out)) >= 60:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the build finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(set(_cache_keys(out)))
    assert 60 <= done_before < 480 and not (out / "data").exists()

    finished = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr[-2000:]
    summary = json.loads(finished.stdout)
    keys = _cache_keys(out)
    assert len(keys) == len(set(keys)) == 480  # one reply per (item, step): no call was made twice
    assert summary["calls"]["teacher"] + summary["calls"]["refiner"] == 480 - done_before
    ids = [i for part in datasets.load_dataset(str(out)).values() for i in part["id"]]
    assert len(ids) == len(set(ids)) == 240  # nothing lost, nothing duplicated
