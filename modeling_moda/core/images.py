"""The one image loader, and the checks the data pipeline runs before a teacher sees an image.

`load_image` is the processor's (remote code), so training, inference, serving and the data pipeline read
images exactly as the saved model does: any mode -> RGB, EXIF orientation, decompression bombs and truncated
or non-image files refused with a message naming the source.
"""

from __future__ import annotations

from ..processing_moda import MAX_IMAGE_PIXELS, load_image

__all__ = ["MAX_IMAGE_PIXELS", "image_bytes", "image_problem", "load_image"]


def image_problem(image: str | bytes) -> str | None:
    """Why an image file (path) or encoded image (bytes) cannot be used, or None when it loads."""
    try:
        load_image(image)
    except ValueError as err:
        return str(err)
    return None


def image_bytes(image: str | bytes) -> bytes:
    """The encoded bytes of an image path or bytes, as stored in the dataset (no re-encoding)."""
    if isinstance(image, bytes):
        return image
    with open(image, "rb") as handle:
        return handle.read()
