"""transformers.Trainer with the seed's step decay (`lr_decay_every_epochs` in ModaTrainingArguments)."""

from __future__ import annotations

import torch
from transformers import Trainer

from .schedule import get_step_decay_schedule


class ModaTrainer(Trainer):
    """Trainer whose scheduler is the step decay (lr x factor every N epochs, on epoch boundaries) when
    `args.lr_decay_every_epochs` is set.

    Everything else (loop, DDP/FSDP through accelerate, mixed precision, checkpoints, resume) is Trainer's.
    """

    _updates_per_epoch: int | None = None

    def set_initial_training_values(self, args, dataloader):  # noqa: ANN001, ANN201 (Trainer's signature)
        values = super().set_initial_training_values(args, dataloader)
        self._updates_per_epoch = values[1]  # optimizer updates per epoch, after accumulation and sharding
        return values

    def create_scheduler(
        self, num_training_steps: int, optimizer: torch.optim.Optimizer | None = None
    ) -> torch.optim.lr_scheduler.LRScheduler:
        every_epochs = getattr(self.args, "lr_decay_every_epochs", None)
        if every_epochs is None or self.lr_scheduler is not None:
            return super().create_scheduler(num_training_steps, optimizer)
        self.lr_scheduler = get_step_decay_schedule(
            optimizer or self.optimizer,
            steps_per_epoch=self._updates_per_epoch or num_training_steps,
            decay_every_epochs=every_epochs,
            decay_factor=self.args.lr_decay_factor,
            num_warmup_steps=self.args.get_warmup_steps(num_training_steps),
        )
        self._created_lr_scheduler = True
        return self.lr_scheduler
