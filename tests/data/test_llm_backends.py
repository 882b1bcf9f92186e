"""The refiner on real local models: `transformers serve` (openai backend) and transformers in-process.

SmolLM2-135M-Instruct cannot follow Prompt II v1 (it echoes the prompt: no JSON, retried with the reason, then
rejected with it); with the short `small-v1` Prompt II it returns the draft as JSON, printed words and all,
and the OCR check removes them. Either way every item ends as a row or a reject with its reason, and a second
run is served from the cache.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from modeling_moda.data.build import build_dataset
from modeling_moda.data.config import BuildConfig, StepConfig
from modeling_moda.data.synth import synth_catalog

GENERATION = {"max_tokens": 48, "temperature": 0.0}
ITEMS = 2


@pytest.fixture(scope="module")
def small_catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("llm") / "catalog"
    synth_catalog(out, n=ITEMS, seed=4, workers=1, progress=False)  # both items carry printed words
    return out


def _check_outcome(out: Path, stats: dict) -> None:
    rejects = [json.loads(line) for line in (out / "rejects" / "rejects-00000-of-00001.jsonl").open()]
    rows = sum(pq.read_metadata(path).num_rows for path in (out / "data").glob("*.parquet"))
    assert (
        rows + len(rejects) == ITEMS == sum(stats["rows"].values()) + len(rejects)
    )  # every item accounted for
    assert all(r["stage"] in ("refiner", "check", "agreement") and r["reason"] for r in rejects)
    assert stats["refiner_calls"] >= ITEMS and stats["teacher_calls"] == ITEMS


@pytest.mark.slow  # a real model writes every reply (~3 s each on 2 idle cores), after a server start
def test_openai_backend_on_local_server(
    openai_server: str, smollm2_dir: Path, small_catalog: Path, tmp_path: Path
):
    refiner = StepConfig(backend="openai", base_url=openai_server, model=str(smollm2_dir), attempts=2,
                         max_concurrency=1, timeout=600, generation=GENERATION)  # fmt: skip
    config = BuildConfig(refiner=refiner, prompt_version="small-v1")
    stats = build_dataset(str(small_catalog), tmp_path, config, progress=False)
    _check_outcome(tmp_path, stats)
    assert stats["refiner"] == f"openai:{smollm2_dir}"
    assert stats["completion_tokens"] > 0
    again = build_dataset(str(small_catalog), tmp_path, config, progress=False)
    assert again["refiner_calls"] == 0 and again["rows"] == stats["rows"]


@pytest.mark.slow
def test_transformers_backend_in_process(smollm2_dir: Path, small_catalog: Path, tmp_path: Path) -> None:
    refiner = StepConfig(backend="transformers", model=str(smollm2_dir), attempts=2, generation=GENERATION)
    stats = build_dataset(str(small_catalog), tmp_path, BuildConfig(refiner=refiner), progress=False)
    _check_outcome(tmp_path, stats)
    assert stats["refiner"] == f"transformers:{smollm2_dir}"
