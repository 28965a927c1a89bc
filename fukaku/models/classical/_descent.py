"""Full-batch gradient descent for the convex single-neuron models (seed 000 §6.1.1–6.1.2):
forward → loss → backward → step, on the whole training set each iteration, until the gradient
vanishes. The gradients come from fukaku's autograd and the step from ``fukaku.optim``."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ... import optim
from ...nn.modules.module import Module
from ...tensor import Tensor


@dataclass
class FitResult:
    """``converged``: the largest gradient entry fell to ``tol``; ``iterations``: steps taken;
    ``loss``: the objective at the returned weights; ``grad_max``: max |∂loss/∂θ| there; ``losses``:
    the objective before each step (and at the end)."""

    converged: bool
    iterations: int
    loss: float
    grad_max: float
    losses: list[float] = field(default_factory=list)


def lipschitz_step(X: np.ndarray, curvature: float) -> float:
    """1/L for an objective whose Hessian is at most ``curvature``·X̃ᵀX̃/N (X̃ = (X, 1)), the step
    with which plain gradient descent on a convex smooth loss always decreases it."""
    s = np.linalg.norm(np.concatenate([X, np.ones((len(X), 1), X.dtype)], axis=1), ord=2)
    return float(len(X) / (curvature * s * s))


def descend(model: Module, objective: Callable[[], Tensor], optimizer: str, lr: float, max_iter: int,
            tol: float, where: str) -> FitResult:
    """Minimise ``objective()`` over ``model``'s parameters: ``optimizer`` 'gd' (``optim.SGD``, plain
    gradient descent) or 'adam' (``optim.Adam``), at most ``max_iter`` steps, stopping once every
    gradient entry is at most ``tol`` in absolute value. If the loss overflows (lr too large), the
    parameters are restored and FloatingPointError is raised."""
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer == "gd":
        opt = optim.SGD(params, lr=lr)
    elif optimizer == "adam":
        opt = optim.Adam(params, lr=lr)
    else:
        raise ValueError(f"{where}: optimizer must be 'gd' or 'adam', got {optimizer!r}")
    start = [p._data.copy() for p in params]
    losses: list[float] = []
    iteration = 0
    while True:
        opt.zero_grad()
        loss = objective()
        loss.backward()
        losses.append(loss.item())
        if not np.isfinite(losses[-1]):
            for p, saved in zip(params, start):  # leave the model as it was, not half-diverged
                p._data[...] = saved
            raise FloatingPointError(f"{where}: the loss became {losses[-1]} after {iteration} steps; "
                                     f"lower lr (was {lr})")
        grad_max = max(float(np.max(np.abs(p.grad._data))) for p in params)
        if grad_max <= tol or iteration == max_iter:
            return FitResult(converged=grad_max <= tol, iterations=iteration, loss=losses[-1],
                             grad_max=grad_max, losses=losses)
        opt.step()
        iteration += 1
