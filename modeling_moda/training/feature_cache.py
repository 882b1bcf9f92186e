"""The feature cache: a frozen encoder's output for each image, computed once and stored with the dataset.

Layout: `<root>/<fingerprint[:16]>/<split>.safetensors`, one tensor `vision_embeds` [N, N_v, D_v] (fp32) with
the item ids and the full fingerprint in the safetensors metadata. The fingerprint covers the encoder's
identity (name, revision, config, and its output on a fixed probe image, so different weights never share
a cache) and the image-processor settings: change any of them and a new cache is built beside the old.
Items already cached are looked up by id; only new ids are encoded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from ..core.io import atomic_path


def _probe_image() -> Image.Image:
    """A fixed 64x64 colour gradient: deterministic input for the encoder's identity check."""
    ramp = np.linspace(0, 255, 64, dtype=np.float32)
    rgb = np.stack(
        [ramp[None, :].repeat(64, 0), ramp[:, None].repeat(64, 1), 255 - ramp[None, :].repeat(64, 0)]
    )
    return Image.fromarray(rgb.transpose(1, 2, 0).astype(np.uint8), "RGB")


@torch.inference_mode()
def encode_pixels(model: Any, pixel_values: torch.Tensor) -> torch.Tensor:
    """[B, 3, H, W] -> [B, N_v, D_v] fp32 on the CPU: what `model.encode_images` gives the projector."""
    param = next(model.parameters())
    return model.encode_images(pixel_values.to(param.device, param.dtype)).float().cpu()


def encoder_fingerprint(model: Any, processor: Any) -> str:
    """sha256 over encoder name/revision/config, image-processor settings and a probe image's features."""
    vision_config = model.config.vision_config
    pixel_values = processor.image_processor([_probe_image()], return_tensors="pt")["pixel_values"]
    probe = encode_pixels(model, pixel_values)  # [1, N_v, D_v]
    parts = {
        "encoder": getattr(vision_config, "_name_or_path", ""),
        "revision": getattr(vision_config, "_commit_hash", None),
        "vision_config": vision_config.to_json_string(use_diff=False),
        "vision_feature": getattr(model.config, "vision_feature", None),
        "image_processor": processor.image_processor.to_json_string(),
        "probe": hashlib.sha256(torch.round(probe * 1e3).to(torch.int64).numpy().tobytes()).hexdigest(),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class FeatureCache:
    """Encoder outputs for the images of one dataset, for one encoder fingerprint."""

    def __init__(self, root: str | Path, fingerprint: str) -> None:
        self.fingerprint = fingerprint
        self.dir = Path(root) / fingerprint[:16]

    def path(self, split: str) -> Path:
        return self.dir / f"{split}.safetensors"

    def load(self, split: str) -> dict[str, torch.Tensor]:
        """id -> [N_v, D_v] for everything cached for `split` (empty if nothing, or another fingerprint)."""
        path = self.path(split)
        if not path.exists():
            return {}
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            meta = handle.metadata() or {}
        if meta.get("fingerprint") != self.fingerprint:
            return {}
        embeds = load_file(str(path))["vision_embeds"]
        return dict(zip(json.loads(meta["ids"]), embeds, strict=True))

    def save(self, split: str, features: dict[str, torch.Tensor]) -> None:
        """Write atomically (core.io.atomic_path)."""
        ids = list(features)
        tensor = torch.stack([features[i] for i in ids]).contiguous()  # [N, N_v, D_v]
        with atomic_path(self.path(split)) as tmp:
            save_file(
                {"vision_embeds": tensor},
                str(tmp),
                metadata={"ids": json.dumps(ids), "fingerprint": self.fingerprint},
            )

    def get_or_encode(
        self,
        split: str,
        ids: Sequence[str],
        images: Sequence[Any],
        model: Any,
        processor: Any,
        batch_size: int = 64,
    ) -> torch.Tensor:
        """Features for `ids` in order, [N, N_v, D_v]; encodes (batched, with a progress bar) what is missing.

        `images` is indexable in the same order as `ids` (e.g. a datasets column; PIL images or paths), and is
        only read for ids not yet cached.
        """
        cached = self.load(split)
        missing = [i for i, item_id in enumerate(ids) if item_id not in cached]
        if missing:
            for start in tqdm(
                range(0, len(missing), batch_size), desc=f"encoding {split} images", unit="batch"
            ):
                rows = missing[start : start + batch_size]
                pil = [_load(processor, images[r], ids[r]) for r in rows]
                pixel_values = processor.image_processor(pil, return_tensors="pt")["pixel_values"]
                for r, feats in zip(rows, encode_pixels(model, pixel_values), strict=True):
                    cached[ids[r]] = feats.clone()
            self.save(split, cached)
        return torch.stack([cached[item_id] for item_id in ids])


def _load(processor: Any, image: Any, item_id: str) -> Image.Image:
    try:
        return processor.load_image(image)
    except ValueError as err:
        raise ValueError(f"item {item_id!r}: cannot read its image: {err}") from err
