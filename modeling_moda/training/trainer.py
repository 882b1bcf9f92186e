"""transformers.Trainer with the seed's step-decay schedule available as `lr_scheduler: step_decay`."""

from __future__ import annotations

from typing import Any

import torch
from transformers import Trainer

from .schedule import get_step_decay_schedule


class ModaTrainer(Trainer):
    """Trainer whose scheduler can be the step decay (lr x factor every N epochs), on epoch boundaries.

    Everything else (loop, DDP/FSDP through accelerate, mixed precision, checkpoints, resume) is Trainer's.
    """

    def __init__(self, *args: Any, step_decay: tuple[float, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step_decay = step_decay  # (every_epochs, factor), or None for the TrainingArguments scheduler
        self._updates_per_epoch: int | None = None

    def set_initial_training_values(self, args, dataloader):  # noqa: ANN001, ANN201 (Trainer's signature)
        values = super().set_initial_training_values(args, dataloader)
        self._updates_per_epoch = values[1]  # optimizer updates per epoch, after accumulation and sharding
        return values

    def create_scheduler(
        self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None
    ) -> torch.optim.lr_scheduler.LRScheduler:
        if self.step_decay is None or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        every_epochs, factor = self.step_decay
        self.lr_scheduler = get_step_decay_schedule(
            optimizer or self.optimizer,
            steps_per_epoch=self._updates_per_epoch or num_training_steps,
            decay_every_epochs=every_epochs,
            decay_factor=factor,
            num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
        )
        self._created_lr_scheduler = True
        return self.lr_scheduler
