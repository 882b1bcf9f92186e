"""`moda serve` as a real process on loopback: the openai SDK over HTTP, concurrent requests batched."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import openai
import pytest

from modeling_moda.serving.process import ModaServer

from ..inference.inference_images import COLOURS, DESCRIPTIONS, colour_image
from .conftest import data_url


def messages(name: str) -> list[dict]:
    return [
        {
            "role": "user",
            "content": [{"type": "image_url", "image_url": {"url": data_url(colour_image(name))}}],
        }
    ]


@pytest.mark.slow
def test_moda_serve_process_batches_streams_and_checks_the_key(trained_tiny_dir, monkeypatch):
    monkeypatch.setenv("MODA_TEST_SERVE_KEY", "s3cret")
    args = ["--api-key-env", "MODA_TEST_SERVE_KEY", "--batch-window-ms", "300", "--threads", "1"]
    with ModaServer(trained_tiny_dir, extra_args=args, startup_timeout=180) as base_url:
        client = openai.OpenAI(base_url=base_url, api_key="s3cret", max_retries=0, timeout=120)
        names = list(COLOURS) * 2

        def ask(name: str) -> tuple[str, int]:
            raw = client.chat.completions.with_raw_response.create(
                model=str(trained_tiny_dir), messages=messages(name)
            )
            return raw.parse().choices[0].message.content, int(raw.headers["x-moda-batch-size"])

        with ThreadPoolExecutor(len(names)) as pool:
            results = list(pool.map(ask, names))
        assert [text for text, _ in results] == [DESCRIPTIONS[n] for n in names]
        assert max(size for _, size in results) > 1

        stream = client.chat.completions.create(
            model=str(trained_tiny_dir), messages=messages("green"), stream=True
        )
        assert "".join(c.choices[0].delta.content or "" for c in stream) == DESCRIPTIONS["green"]

        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=base_url, api_key="wrong", max_retries=0).models.list()
