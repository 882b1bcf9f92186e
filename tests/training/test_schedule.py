"""The seed's step decay is a real LR scheduler: lr x 0.8 every 2 epochs, on epoch boundaries."""

import pytest
import torch

from modeling_moda.training.schedule import get_step_decay_schedule


def test_lr_drops_by_factor_every_two_epochs():
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    scheduler = get_step_decay_schedule(optimizer, steps_per_epoch=3, decay_every_epochs=2, decay_factor=0.8)
    lrs = []
    for _ in range(13):
        lrs.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert lrs[:6] == pytest.approx([1e-3] * 6)  # epochs 0-1
    assert lrs[6:12] == pytest.approx([8e-4] * 6)  # epochs 2-3
    assert lrs[12] == pytest.approx(6.4e-4)  # epoch 4


def test_state_dict_round_trip_resumes_the_schedule():
    def make():
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
        return opt, get_step_decay_schedule(opt, steps_per_epoch=1, decay_every_epochs=1, decay_factor=0.5)

    opt, sched = make()
    for _ in range(3):
        opt.step()
        sched.step()
    opt2, sched2 = make()
    sched2.load_state_dict(sched.state_dict())
    opt2.load_state_dict(opt.state_dict())
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.125)


def test_warmup_then_decay():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sched = get_step_decay_schedule(
        opt, steps_per_epoch=4, decay_every_epochs=1, decay_factor=0.5, num_warmup_steps=2
    )
    assert opt.param_groups[0]["lr"] == pytest.approx(0.5)
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(1.0)
    with pytest.raises(ValueError):
        get_step_decay_schedule(opt, steps_per_epoch=0)
