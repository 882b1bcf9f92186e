"""A refiner endpoint that is down stops `moda dataset build` early, marks nothing finished, and the rerun
after the endpoint is back completes without repeating a call that succeeded (counted at the server).

The endpoint is a real HTTP server on 127.0.0.1 with scripted replies (or nothing listening at all).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from modeling_moda.backends import EndpointDown
from modeling_moda.backends.smollm2 import free_port
from modeling_moda.data.build import build_dataset
from modeling_moda.data.config import load_build_config

from ..scripted_openai import ScriptedOpenAIServer, keep_the_draft

ITEMS = 6


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from modeling_moda.data.synth import synth_catalog

    out = tmp_path_factory.mktemp("faults") / "catalog"
    synth_catalog(out, n=ITEMS, seed=5, workers=1, progress=False)
    return out


def _config(path: Path, url: str, **refiner) -> Path:
    refiner = {"backend": "openai", "base_url": url, "model": "m", "max_concurrency": 1, **refiner}
    path.write_text(yaml.safe_dump({"prompt_version": "small-v1", "refiner": refiner}))
    return path


def _finished(out: Path) -> list[str]:
    """What a finished build leaves: rows, statistics, rejects, the card."""
    found = [*out.glob("data/*.parquet"), *out.glob(".moda/stats-*"), *out.glob("rejects/*")]
    return sorted(str(p.relative_to(out)) for p in found + [out / "README.md"] if p.exists())


@pytest.mark.slow  # starts two `moda dataset build` processes
def test_dead_endpoint_exits_non_zero_then_the_rerun_completes(catalog: Path, tmp_path: Path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1"  # nothing listens here yet
    config = _config(tmp_path / "build.yaml", url, max_retries=1)
    out = tmp_path / "dataset"
    command = [sys.executable, "-m", "modeling_moda", "dataset", "build", "--source", str(catalog)]
    command += ["--out", str(out), "--config", str(config), "--quiet"]
    # timeout: a bound on hanging (the default config would retry for ~8 s), not a speed check
    dead = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert dead.returncode == 1, dead.stderr
    assert f"{url} (model m): unreachable" in dead.stderr and "Traceback" not in dead.stderr
    assert _finished(out) == []

    server = ScriptedOpenAIServer([], default=keep_the_draft, port=port)  # the endpoint is back
    try:
        back = subprocess.run(command, capture_output=True, text=True, timeout=300)
    finally:
        server.close()
    assert back.returncode == 0, back.stderr
    summary = json.loads(back.stdout)
    assert sum(summary["rows"].values()) + sum(summary["rejects"].values()) == ITEMS
    assert summary["calls"]["refiner"] == len(server.requests) == ITEMS  # one call per item, none twice
    assert (out / "README.md").is_file()


@pytest.mark.slow  # starts an HTTP server
def test_failing_endpoint_stops_the_build_and_the_rerun_repeats_no_finished_call(catalog: Path, tmp_path):
    # three good replies, then HTTP 500 twice (no transport retries): two failures in a row = down
    server = ScriptedOpenAIServer([(200, keep_the_draft)] * 3 + [(500, "")] * 2, default=keep_the_draft)
    try:
        config = load_build_config(
            _config(tmp_path / "b.yaml", server.url, max_retries=0, max_consecutive_failures=2)
        )
        out = tmp_path / "dataset"
        with pytest.raises(EndpointDown, match=rf"{server.url} \(model m\): 2 calls in a row failed"):
            build_dataset(str(catalog), out, config, progress=False)
        assert len(server.requests) == 5  # the sixth item was never sent
        assert _finished(out) == []

        stats = build_dataset(str(catalog), out, config, progress=False)
    finally:
        server.close()
    prompts = [r["messages"][-1]["content"] for r in server.requests]
    good, failed, rerun = prompts[:3], prompts[3:5], prompts[5:]
    assert len(rerun) == ITEMS - 3 and sorted(rerun[:2]) == sorted(failed)
    assert not set(rerun) & set(good)  # no call that succeeded was made again
    assert stats["refiner_calls"] == ITEMS - 3
    assert sum(stats["rows"].values()) + sum(stats["rejects"].values()) == ITEMS
    assert (out / "README.md").is_file()
