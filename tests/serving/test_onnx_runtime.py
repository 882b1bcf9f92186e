"""The server on the ONNX Runtime describer (a `moda export onnx` folder): the same replies as on PyTorch,
streamed and batched."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from ..inference.inference_images import COLOURS, DESCRIPTIONS
from .conftest import colour_body

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")


@pytest.fixture(scope="module")
def onnx_client(trained_tiny_dir, tmp_path_factory):
    from fastapi.testclient import TestClient

    from modeling_moda.cli import main
    from modeling_moda.inference.describer import load_describer
    from modeling_moda.serving.app import ServeSettings, create_app
    from modeling_moda.serving.usage import load_token_counter

    out = tmp_path_factory.mktemp("serve-onnx") / "tiny-onnx"
    assert main(["export", "onnx", "--model", str(trained_tiny_dir), "--out", str(out)]) == 0
    describer = load_describer(str(out), "onnxruntime", dtype="fp32", num_threads=1)
    app = create_app(describer, load_token_counter(out), ServeSettings(batch_window_ms=200))
    with TestClient(app) as client:
        yield client


@pytest.mark.slow
def test_onnx_runtime_server_replies_streams_and_batches(onnx_client):
    names = list(COLOURS)
    with ThreadPoolExecutor(len(names)) as pool:
        replies = list(
            pool.map(lambda n: onnx_client.post("/v1/chat/completions", json=colour_body(n)), names)
        )
    assert [r.json()["choices"][0]["message"]["content"] for r in replies] == [DESCRIPTIONS[n] for n in names]
    assert onnx_client.get("/metrics").json()["batches"] < len(names)

    with onnx_client.stream(
        "POST", "/v1/chat/completions", json=colour_body("yellow", stream=True)
    ) as response:
        response.read()
    chunks = [json.loads(e[6:]) for e in response.text.split("\n\n") if e and e != "data: [DONE]"]
    deltas = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    assert "".join(deltas) == DESCRIPTIONS["yellow"] and sum(1 for d in deltas if d) > 1
