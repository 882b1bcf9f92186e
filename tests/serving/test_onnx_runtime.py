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
def onnx_export(trained_tiny_dir, tmp_path_factory):
    from modeling_moda.cli import main

    out = tmp_path_factory.mktemp("serve-onnx") / "tiny-onnx"
    assert main(["export", "onnx", "--model", str(trained_tiny_dir), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def onnx_client(onnx_export):
    from fastapi.testclient import TestClient

    from modeling_moda.inference.describer import load_describer
    from modeling_moda.serving.app import ServeSettings, create_app
    from modeling_moda.serving.usage import load_token_counter

    out = onnx_export
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


@pytest.mark.slow
def test_moda_serve_process_serves_an_onnx_export_under_its_folder(onnx_export):
    """`moda serve EXPORT --runtime onnxruntime`: the model id is EXPORT as given (not the source model)."""
    import openai

    from modeling_moda.serving.process import ModaServer

    from ..inference.inference_images import colour_image
    from .conftest import data_url

    args = ["--runtime", "onnxruntime", "--threads", "1"]
    with ModaServer(onnx_export, extra_args=args, startup_timeout=180) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=120)
        assert [m.id for m in client.models.list()] == [str(onnx_export)]
        content = [{"type": "image_url", "image_url": {"url": data_url(colour_image("blue"))}}]
        reply = client.chat.completions.create(
            model=str(onnx_export), messages=[{"role": "user", "content": content}]
        )
        assert reply.choices[0].message.content == DESCRIPTIONS["blue"]
