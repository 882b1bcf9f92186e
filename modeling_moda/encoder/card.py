"""The encoder folder's model card: what it is, how it was trained, and its zero-shot / probe scores."""

from __future__ import annotations

from typing import Any

from huggingface_hub import ModelCardData

from .texts import ATTRIBUTES


def _percent(score: float | None) -> str:
    return "n/a" if score is None else f"{score:.1%}"


def encoder_card(metrics: dict, dataset: str, model: Any) -> str:
    """README.md text (YAML metadata + Markdown) for a trained encoder folder."""
    data = ModelCardData(
        library_name="transformers",
        pipeline_tag="zero-shot-image-classification",
        tags=["moda", "fashion", "contrastive", "clip"],
        license="apache-2.0",
    )
    zero_shot, probe = metrics["zero_shot"], metrics["linear_probe"]
    rows = "\n".join(
        f"| {name} | {_percent(zero_shot[name])} | {_percent(probe[name])} |" for name in ATTRIBUTES
    )
    params = sum(p.numel() for p in model.parameters()) / 1e6
    start = "from scratch" if metrics["init"] == "scratch" else f"from `{metrics['init']}`"
    # ours is a ResNet dual encoder whose code travels with the folder; a fine-tuned CLIP is stock
    remote = ", trust_remote_code=True" if metrics["init"] == "scratch" else ""
    return f"""---
{data.to_yaml()}
---

# MODA fashion encoder

A contrastive image-text encoder (`{metrics["architecture"]}`, {params:.1f} M parameters) trained {start} by
`moda encoder train` on the catalog `{dataset}` ({metrics["train_items"]} training items, images at
{metrics["image_size"]} px): a FashionCLIP for this catalog. MODA models built on it keep it frozen.

```python
from transformers import pipeline

classify = pipeline("zero-shot-image-classification", model="<this folder>"{remote})
classify("photo.jpg", candidate_labels=["tshirts", "jeans", "watches"], hypothesis_template="{{}}")
```

Prompts are lower-case attribute phrases as in training: `"red"`, `"tshirts"`, `"for women"`,
`"sports wear"`, or combinations in that order (`"red tshirts for women"`).

## Scores on the test split ({metrics["test_items"]} items)

| attribute | zero-shot top-1 | linear probe |
|---|---|---|
{rows}

Zero-shot: the nearest prompt among the values the train split uses. Linear probe: a logistic regression on
the frozen image embeddings (fit on the train split), the ceiling of what the image features hold.
Training: {len(metrics["epoch_losses"])} epochs, {metrics["train_seconds"]:.0f} s; mean contrastive loss per
epoch {metrics["epoch_losses"]}.
"""
