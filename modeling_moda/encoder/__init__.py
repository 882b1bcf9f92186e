"""The encoder stage: a contrastive image-text encoder trained on the catalog (our FashionCLIP)."""

from .train import METRICS_FILE, train_encoder

__all__ = ["METRICS_FILE", "train_encoder"]
