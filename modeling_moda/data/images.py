"""Checking catalog images before any teacher sees them."""

from __future__ import annotations

import io
import os
import warnings

from PIL import Image


def image_problem(image: str | bytes) -> str | None:
    """Why an image file (path) or encoded image (bytes) cannot be used, or None when it decodes."""
    if isinstance(image, str) and not os.path.isfile(image):
        return f"image file not found: {image}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(image if isinstance(image, str) else io.BytesIO(image)) as img:
                img.verify()
    except (
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombWarning,
        Image.DecompressionBombError,
    ) as err:
        name = image if isinstance(image, str) else "embedded image"
        return f"unreadable image: {name}: {type(err).__name__}: {err}"
    return None


def image_bytes(image: str | bytes) -> bytes:
    """The encoded bytes of an image path or bytes, as stored in the dataset (no re-encoding)."""
    if isinstance(image, bytes):
        return image
    with open(image, "rb") as handle:
        return handle.read()


def open_rgb(image: str | bytes) -> Image.Image:
    """The image as an RGB PIL image (for teachers that look at pixels)."""
    with Image.open(image if isinstance(image, str) else io.BytesIO(image)) as img:
        return img.convert("RGB")
