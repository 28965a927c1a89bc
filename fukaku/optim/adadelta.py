"""Adadelta (Zeiler, 2012; named in seed 004 §3.6.1), as ``torch.optim.Adadelta``.

Adagrad's ever-growing sum becomes a decaying average, and the step carries its own units: the
ratio of the RMS of past updates to the RMS of past gradients, so no global rate is needed
(``lr`` = 1.0 just scales the result):

    g ← ∇L (+ λθ)        E[g²] ← ρ·E[g²] + (1 − ρ)·g²
    Δ = √(E[Δ²] + ε) / √(E[g²] + ε) · g      E[Δ²] ← ρ·E[Δ²] + (1 − ρ)·Δ²      θ ← θ − lr·Δ
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from ..tensor import Tensor, bump_version
from .optimizer import Optimizer, ParamsT, check_nonnegative, effective_grad, init_state


class Adadelta(Optimizer):
    """``Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)``.

    State per parameter: ``'step'``, ``'square_avg'`` (E[g²]) and ``'acc_delta'`` (E[Δ²]).
    """

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        check_nonnegative("Adadelta", options, "lr", "eps", "weight_decay")
        if not 0.0 <= options["rho"] <= 1.0:
            raise ValueError(f"Adadelta: invalid rho {options['rho']!r}: expected a value in [0, 1]")

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
        for p, g in zip(params, grads):
            state = self.state[p]
            if not state:
                init_state(state, p, "square_avg", "acc_delta")
            state["step"]._data += 1
            x = p._data
            xp = array_module(x)
            d = effective_grad(x, g, weight_decay, maximize)
            square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
            tmp = xp.multiply(d, d, out=xp.empty_like(x))  # out=: a 0-d input would give a scalar
            tmp *= 1 - rho
            square_avg *= rho
            square_avg += tmp
            std = xp.add(square_avg, eps, out=xp.empty_like(x))
            xp.sqrt(std, out=std)
            delta = xp.add(acc_delta, eps, out=xp.empty_like(x))
            xp.sqrt(delta, out=delta)
            delta /= std
            delta *= d
            xp.multiply(delta, delta, out=tmp)
            tmp *= 1 - rho
            acc_delta *= rho
            acc_delta += tmp
            delta *= lr
            x -= delta
            bump_version(p)
