"""SERVING fixtures: the INFERENCE area's tiny trained MODA (each colour image has its own description) behind
the real torch describer, and an in-process client of the server built on it."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from ..inference import conftest as inference_fixtures
from ..inference.inference_images import colour_image

API_KEY = "test-key"
# the INFERENCE fixtures, visible to this package's tests
trained_tiny = inference_fixtures.trained_tiny
trained_tiny_dir = inference_fixtures.trained_tiny_dir


def data_url(image: Image.Image, format: str = "PNG") -> str:
    buf = io.BytesIO()
    image.save(buf, format=format)
    return f"data:image/{format.lower()};base64,{base64.b64encode(buf.getvalue()).decode()}"


def chat_body(url: str, text: str | None = None, **extra) -> dict:
    content = [{"type": "image_url", "image_url": {"url": url}}]
    if text:
        content.append({"type": "text", "text": text})
    return {"messages": [{"role": "user", "content": content}], **extra}


def colour_body(name: str, **extra) -> dict:
    return chat_body(data_url(colour_image(name)), **extra)


@pytest.fixture(scope="session")
def describer(trained_tiny_dir):
    from modeling_moda.inference.describer import load_describer

    return load_describer(str(trained_tiny_dir), "torch", dtype="fp32", num_threads=1)


@pytest.fixture(scope="session")
def counter(trained_tiny_dir):
    from modeling_moda.serving.usage import load_token_counter

    return load_token_counter(trained_tiny_dir)


@pytest.fixture()
def make_client(describer, counter):
    """make_client(**settings) -> a TestClient of a fresh app (own batcher and metrics); closed after."""
    from fastapi.testclient import TestClient

    from modeling_moda.serving.app import ServeSettings, create_app

    clients = []

    def make(**settings) -> TestClient:
        settings.setdefault("api_key", API_KEY)
        client = TestClient(create_app(describer, counter, ServeSettings(**settings)))
        client.headers["Authorization"] = f"Bearer {API_KEY}"
        clients.append(client.__enter__())
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)
