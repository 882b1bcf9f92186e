"""An `image_url` content part -> a PIL image, under the server's rules.

Data URLs (`data:image/png;base64,...`) are always accepted. http(s) URLs are fetched only when the server
allows remote images, and local files (`file://` or a plain path) only when it allows local files: a public
server must not read its own disk or reach other hosts for a caller. Every image goes through the one
loader (`core.images.load_image`: decompression-bomb guard, EXIF, RGB) after a size check on the bytes.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from PIL import Image

from modeling_moda.core.images import load_image

from .errors import RequestError


@dataclass(frozen=True)
class ImagePolicy:
    max_bytes: int = 20 * 2**20
    allow_remote: bool = False
    allow_local_files: bool = False
    remote_timeout_s: float = 10.0


def decode_data_url(url: str, max_bytes: int) -> bytes:
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise RequestError(
            "image_url data URL must be base64-encoded (data:image/...;base64,...)", "image_url"
        )
    if len(payload) > (max_bytes + 2) // 3 * 4 + 4:  # base64 length of max_bytes, before decoding it
        raise RequestError(_too_large(len(payload) * 3 // 4, max_bytes), "image_url", status=413)
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as err:
        raise RequestError(f"image_url data URL is not valid base64 ({err})", "image_url") from err
    if len(data) > max_bytes:
        raise RequestError(_too_large(len(data), max_bytes), "image_url", status=413)
    return data


async def fetch_remote(url: str, policy: ImagePolicy) -> bytes:
    import httpx2

    try:
        async with httpx2.AsyncClient(timeout=policy.remote_timeout_s, follow_redirects=True) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise RequestError(
                        f"image_url {url}: the remote server answered HTTP {response.status_code}"
                    )
                data = bytearray()
                async for chunk in response.aiter_bytes():
                    data += chunk
                    if len(data) > policy.max_bytes:
                        raise RequestError(_too_large(len(data), policy.max_bytes), "image_url", status=413)
                return bytes(data)
    except httpx2.HTTPError as err:
        raise RequestError(f"image_url {url}: cannot fetch it ({type(err).__name__}: {err})") from err


def read_local(url: str, policy: ImagePolicy) -> bytes:
    path = Path(unquote(urlparse(url).path) if url.startswith("file://") else url)
    try:
        size = os.path.getsize(path)
    except OSError as err:
        raise RequestError(f"image_url {url}: no such readable file") from err
    if size > policy.max_bytes:
        raise RequestError(_too_large(size, policy.max_bytes), "image_url", status=413)
    return path.read_bytes()


async def resolve_image_bytes(url: str, policy: ImagePolicy) -> bytes:
    """The encoded image bytes behind an `image_url` (RequestError when refused)."""
    if not isinstance(url, str) or not url:
        raise RequestError("image_url.url must be a non-empty string", "image_url")
    scheme = urlparse(url).scheme.lower()
    if scheme == "data":
        return decode_data_url(url, policy.max_bytes)
    if scheme in ("http", "https"):
        if not policy.allow_remote:
            raise RequestError(
                "remote image URLs are not allowed on this server (start it with --allow-remote-images), "
                "send the image as a base64 data URL",
                "image_url",
                code="remote_images_disabled",
            )
        return await fetch_remote(url, policy)
    if scheme in ("file", "") or len(scheme) == 1:  # a Windows drive letter parses as a scheme
        if not policy.allow_local_files:
            raise RequestError(
                "local image paths are not allowed on this server (start it with --allow-local-files), "
                "send the image as a base64 data URL",
                "image_url",
                code="local_files_disabled",
            )
        return read_local(url, policy)
    raise RequestError(f"image_url scheme {scheme!r} is not supported; send a base64 data URL", "image_url")


def decode_image(data: bytes) -> Image.Image:
    """RGB image from encoded bytes; not an image, truncated or a decompression bomb -> RequestError."""
    try:
        return load_image(data)
    except ValueError as err:
        code = "decompression_bomb" if "decompression" in str(err) else "invalid_image"
        raise RequestError(f"image_url: {err}", "image_url", code=code) from err


def _too_large(size: int, max_bytes: int) -> str:
    return f"image_url: the image is {size} bytes, more than this server's limit of {max_bytes} bytes"
