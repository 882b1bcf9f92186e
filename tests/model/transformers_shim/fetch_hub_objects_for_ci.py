"""Stand-in for transformers' `utils/fetch_hub_objects_for_ci.py` (outside the sdist's tests/ folder).

In transformers' CI that script downloads the Hub files the processor tests name by URL and maps each URL to
its local copy. Tests here never reach the network, so an image URL maps to a local, generated RGB picture of
the same name (what the processor tests need: a real image file); other URLs (video, audio) map to a path that
does not exist, and MODA's processor has no video or audio input.
"""

import os
import tempfile

import numpy as np
from PIL import Image

_FOLDER = os.path.join(tempfile.gettempdir(), "moda-transformers-test-fixtures")
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def url_to_local_path(url: str) -> str:
    path = os.path.join(_FOLDER, os.path.basename(url))
    if path.lower().endswith(_IMAGE_SUFFIXES) and not os.path.exists(path):
        os.makedirs(_FOLDER, exist_ok=True)
        pixels = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)  # COCO-sized
        tmp = f"{path}.{os.getpid()}.tmp"
        Image.fromarray(pixels).save(tmp, format="PNG")
        os.replace(tmp, path)  # atomic: parallel test processes may create it at once
    return path
