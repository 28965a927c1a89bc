"""The learning rate a scheduler sets, epoch by epoch: what the schedule experiments measure."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from fukaku import nn, optim, zeros

REL_TOL = 1e-9  # the schedulers update recursively (as PyTorch does): rounding, nothing more


def lr_sequence(make_scheduler: Callable[[optim.Optimizer], optim.lr_scheduler.LRScheduler], base_lr: float,
                epochs: int) -> np.ndarray:
    """The learning rate used in each of ``epochs`` epochs: one optimizer step, then one scheduler step,
    per epoch — the order PyTorch prescribes."""
    param = nn.Parameter(zeros(1))
    opt = optim.SGD([param], lr=base_lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()  # no gradient: the parameter stays; the call keeps the step order of a real loop
        scheduler.step()
    return np.array(lrs)
