"""The training loop of the recurrent models' experiments (seq2seq-attention, clockwork-vs-elman,
char-language-model) and of the GPT's: Adam on a fresh batch every step, the gradient's norm clipped, the rate
annealed to 0."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

import fukaku as fk
from fukaku import nn, optim


def adam_steps(model: nn.Module, batch_loss: Callable[[int], fk.Tensor], steps: int, lr: float, clip: float,
               cosine: bool = True, after_step: Callable[[int], None] | None = None) -> np.ndarray:
    """``steps`` Adam updates of ``model`` (left in training mode): ``batch_loss(step)`` returns the loss of
    that step's batch; the gradient's joint norm is clipped to ``clip``; with ``cosine`` the rate falls from
    ``lr`` to 0 along a cosine (``CosineAnnealingLR``), else it stays ``lr``. ``after_step(k)`` is called
    after the k-th update (k = 1 … steps), e.g. to validate. Returns the training losses."""
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, steps) if cosine else None
    losses = np.empty(steps)
    model.train()
    for step in range(steps):
        loss = batch_loss(step)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses[step] = loss.item()
        if after_step is not None:
            after_step(step + 1)
    return losses


def validated_steps(model: nn.Module, batch_loss: Callable[[int], fk.Tensor], steps: int, lr: float, clip: float,
                    every: int, held_out_loss: Callable[[], float]) -> tuple[np.ndarray, list[tuple[int, float]], float]:
    """:func:`adam_steps` with ``held_out_loss()`` measured before training, every ``every`` updates and after the
    last. Returns (the training losses, the checkpoints [(step, held-out loss)], the seconds it all took)."""
    checkpoints = [(0, held_out_loss())]

    def validate(step: int) -> None:
        if step % every == 0 or step == steps:
            checkpoints.append((step, held_out_loss()))

    start = time.perf_counter()
    curve = adam_steps(model, batch_loss, steps, lr, clip, after_step=validate)
    return curve, checkpoints, time.perf_counter() - start
