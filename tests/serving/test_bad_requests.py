"""Refused requests: a 4xx in OpenAI's error shape naming the problem, and the server goes on serving."""

from __future__ import annotations

import base64
import functools
import http.server
import struct
import threading
import zlib

import pytest

from modeling_moda.serving.images import ImagePolicy

from ..inference.inference_images import DESCRIPTIONS, colour_image
from .conftest import chat_body, colour_body, data_url


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height pixels with almost no data: what a decompression bomb looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )


def b64_url(data: bytes, mime: str = "image/png") -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


TEXT_ONLY = {"messages": [{"role": "user", "content": "Describe the product."}]}
TWO_IMAGES = {
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": data_url(colour_image(c))}}
                for c in "red blue".split()
            ],
        }
    ]
}
AUDIO = {
    "messages": [
        {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "", "format": "wav"}}]}
    ]
}

# (case, request body or raw bytes, status, a phrase the error message must contain, error code)
CASES = [
    ("bad JSON", b'{"messages": [', 400, "not valid JSON", "invalid_json"),
    ("body not an object", b"[1, 2]", 400, "must be a JSON object", None),
    ("no messages", {"model": "x"}, 400, "`messages` must be a non-empty list", None),
    ("text only", TEXT_ONLY, 400, "no image in the request", "missing_image"),
    ("two images", TWO_IMAGES, 400, "holds 2 images", None),
    ("unsupported part", AUDIO, 400, "unsupported content part 'input_audio'", None),
    (
        "not an image",
        chat_body(b64_url(b"this is plain text, not a PNG")),
        400,
        "not an image",
        "invalid_image",
    ),
    ("truncated image", chat_body(b64_url(data_url(colour_image("red")).encode()[:60])), 400, "image", None),
    (
        "decompression bomb",
        chat_body(b64_url(png_header_only(20_000, 20_000))),
        400,
        "decompression",
        "decompression_bomb",
    ),
    ("bad base64", chat_body("data:image/png;base64,@@@not-base64@@@"), 400, "not valid base64", None),
    ("data URL not base64", chat_body("data:image/png,rawbytes"), 400, "must be base64-encoded", None),
    ("too large", chat_body(b64_url(bytes(3000))), 413, "more than this server's limit of 2000 bytes", None),
    (
        "remote URL",
        chat_body("https://example.com/shirt.jpg"),
        400,
        "--allow-remote-images",
        "remote_images_disabled",
    ),
    ("local path", chat_body("/etc/passwd"), 400, "--allow-local-files", "local_files_disabled"),
    ("file URL", chat_body("file:///etc/passwd"), 400, "--allow-local-files", "local_files_disabled"),
    ("n > 1", colour_body("red", n=2), 400, "`n` = 2 is not supported", None),
    ("max_tokens 0", colour_body("red", max_tokens=0), 400, "`max_tokens` must be a positive integer", None),
    ("stream not bool", colour_body("red", stream="yes"), 400, "`stream` must be true or false", None),
]


def test_bad_request_matrix_then_the_server_still_serves(make_client):
    client = make_client(images=ImagePolicy(max_bytes=2000))
    for case, body, status, phrase, code in CASES:
        if isinstance(body, bytes):
            response = client.post(
                "/v1/chat/completions", content=body, headers={"content-type": "application/json"}
            )
        else:
            response = client.post("/v1/chat/completions", json=body)
        assert response.status_code == status, (case, response.text)
        error = response.json()["error"]
        assert phrase in error["message"], (case, error)
        assert error["type"] == "invalid_request_error"
        if code:
            assert error["code"] == code, (case, error)
    ok = client.post("/v1/chat/completions", json=colour_body("yellow"))
    assert ok.status_code == 200 and ok.json()["choices"][0]["message"]["content"] == DESCRIPTIONS["yellow"]
    metrics = client.get("/metrics").json()
    assert sum(metrics["rejected"].values()) == len(CASES)
    assert metrics["completed"] == 1 and metrics["failed"] == 0


def test_api_key_is_enforced(make_client):
    client = make_client()
    body = colour_body("red")
    for headers, code in [
        ({"Authorization": ""}, "missing_api_key"),
        ({"Authorization": "Bearer nope"}, "invalid_api_key"),
    ]:
        for method, path in [("POST", "/v1/chat/completions"), ("GET", "/v1/models"), ("GET", "/metrics")]:
            response = client.request(method, path, json=body if method == "POST" else None, headers=headers)
            assert response.status_code == 401, (path, response.text)
            assert response.json()["error"]["code"] == code
    assert client.get("/health", headers={"Authorization": ""}).status_code == 200  # liveness needs no key
    assert client.post("/v1/chat/completions", json=body).status_code == 200  # the right key
    assert (
        make_client(api_key=None)
        .post("/v1/chat/completions", json=body, headers={"Authorization": ""})
        .status_code
        == 200
    )


@pytest.fixture()
def image_http_server(tmp_path):
    colour_image("blue").save(tmp_path / "blue.png")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.slow  # starts an HTTP server
def test_remote_and_local_images_when_allowed(make_client, image_http_server, tmp_path):
    client = make_client(images=ImagePolicy(allow_remote=True, allow_local_files=True))
    for url in [
        f"{image_http_server}/blue.png",
        str(tmp_path / "blue.png"),
        f"file://{tmp_path / 'blue.png'}",
    ]:
        response = client.post("/v1/chat/completions", json=chat_body(url))
        assert response.status_code == 200, (url, response.text)
        assert response.json()["choices"][0]["message"]["content"] == DESCRIPTIONS["blue"]
    missing = client.post("/v1/chat/completions", json=chat_body(f"{image_http_server}/nothing.png"))
    assert missing.status_code == 400 and "HTTP 404" in missing.json()["error"]["message"]
