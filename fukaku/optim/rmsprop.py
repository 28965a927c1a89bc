"""RMSprop (Hinton's lecture notes, 2012), as ``torch.optim.RMSprop``.

Adagrad with a decaying average of squared gradients instead of their sum, so the step size does
not shrink for good:

    g ← ∇L (+ λθ)      v ← α·v + (1 − α)·g²
    centered:  ḡ ← α·ḡ + (1 − α)·g,  d = √(v − ḡ²) + ε    (an estimate of the gradient's variance)
    else:      d = √v + ε
    θ ← θ − η·g/d,  or with momentum μ:  b ← μ·b + g/d,  θ ← θ − η·b

ε is added outside the square root (PyTorch's form; Hinton's notes leave it unspecified).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from ..tensor import Tensor, bump_version
from .optimizer import Optimizer, ParamsT, check_nonnegative, effective_grad, init_state


class RMSprop(Optimizer):
    """``RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False, *,
    maximize=False)``.

    State per parameter: ``'step'``, ``'square_avg'`` (v), ``'momentum_buffer'`` when momentum > 0,
    ``'grad_avg'`` (ḡ) when centered.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, *,
                 maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        check_nonnegative("RMSprop", options, "lr", "eps", "momentum", "weight_decay", "alpha")

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
        for p, g in zip(params, grads):
            state = self.state[p]
            if not state:
                init_state(state, p, "square_avg", *(("momentum_buffer",) if momentum > 0 else ()),
                           *(("grad_avg",) if centered else ()))
            state["step"]._data += 1
            x = p._data
            xp = array_module(x)
            d = effective_grad(x, g, weight_decay, maximize)
            square_avg = state["square_avg"]._data
            avg = xp.multiply(d, d, out=xp.empty_like(x))  # out=: a 0-d input would give a scalar
            avg *= 1 - alpha
            square_avg *= alpha
            square_avg += avg
            if centered:  # ḡ.lerp_(g, 1 − α), then v − ḡ²
                grad_avg = state["grad_avg"]._data
                xp.subtract(d, grad_avg, out=avg)
                avg *= 1 - alpha
                grad_avg += avg
                xp.multiply(grad_avg, grad_avg, out=avg)
                xp.subtract(square_avg, avg, out=avg)
                xp.sqrt(avg, out=avg)
            else:
                xp.sqrt(square_avg, out=avg)
            avg += eps
            xp.divide(d, avg, out=avg)  # g / d
            if momentum > 0:
                buf = state["momentum_buffer"]._data
                buf *= momentum
                buf += avg
                xp.multiply(buf, lr, out=avg)
            else:
                avg *= lr
            x -= avg
            bump_version(p)
