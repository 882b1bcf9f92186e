"""The seed's learning-rate schedule as a real scheduler: lr x factor every N epochs (step decay)."""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR


def get_step_decay_schedule(
    optimizer: Optimizer,
    steps_per_epoch: int,
    decay_every_epochs: float = 2.0,
    decay_factor: float = 0.8,
    num_warmup_steps: int = 0,
) -> LambdaLR:
    """LambdaLR stepped once per optimizer update: lr = base_lr * factor ** floor(epoch / every).

    `steps_per_epoch` is optimizer updates per epoch (after gradient accumulation), so the decay lands on
    epoch boundaries whatever the batch size, accumulation or number of processes. An optional linear warmup
    covers the first `num_warmup_steps` updates.
    """
    if steps_per_epoch < 1:
        raise ValueError(f"steps_per_epoch must be >= 1, got {steps_per_epoch}")
    step_size = max(1, math.ceil(decay_every_epochs * steps_per_epoch))

    def lr_lambda(step: int) -> float:
        warmup = (step + 1) / num_warmup_steps if step < num_warmup_steps else 1.0
        return warmup * decay_factor ** (step // step_size)

    return LambdaLR(optimizer, lr_lambda)
