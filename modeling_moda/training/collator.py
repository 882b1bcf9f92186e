"""Batching for training: dynamic padding, loss only on the description (the processor's `suffix=`)."""

from __future__ import annotations

from typing import Any

import torch


class ModaCollator:
    """Rows from `DescriptionRows` -> model inputs padded to the longest sample in the batch.

    The processor puts the image tokens (and the optional prompt) first and the description + EOS last, and
    sets `labels` to -100 everywhere but the description, so the loss is on description tokens only.
    """

    def __init__(self, processor: Any, prompt: str | None = None) -> None:
        self.processor = processor
        self.prompt = prompt

    def __call__(self, rows: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        suffix = [row["description"] for row in rows]
        text = None if self.prompt is None else [self.prompt] * len(rows)
        if "vision_embeds" in rows[0]:
            batch = self.processor(text=text, suffix=suffix, return_tensors="pt", padding=True)
            batch["vision_embeds"] = torch.stack([row["vision_embeds"] for row in rows])  # [B, N_v, D_v]
        else:
            images = [row["image"] for row in rows]
            batch = self.processor(images=images, text=text, suffix=suffix, return_tensors="pt", padding=True)
        return dict(batch)
