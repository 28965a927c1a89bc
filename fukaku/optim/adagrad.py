"""Adagrad (Duchi et al., 2011; named in seed 004 §3.6.1), as ``torch.optim.Adagrad``.

Each coordinate gets its own step size, shrinking with the sum of its squared gradients:

    g ← ∇L (+ λθ)     s ← s + g²     η_t = η / (1 + (t − 1)·lr_decay)     θ ← θ − η_t·g / (√s + ε)

Frequently-updated coordinates slow down, rare ones keep large steps; s only grows, so the
effective learning rate decays for good (the weakness Adadelta and RMSprop address).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from ..tensor import Tensor, bump_version, wrap
from .optimizer import Optimizer, ParamsT, check_nonnegative, effective_grad, init_state


class Adagrad(Optimizer):
    """``Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, *,
    maximize=False)``.

    State per parameter: ``'step'`` (float32 count) and ``'sum'`` (Σg², starting at
    ``initial_accumulator_value``); created with the optimizer, as in PyTorch.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _validate(self, options: dict[str, Any]) -> None:
        check_nonnegative("Adagrad", options, "lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def _init_state(self, p: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        state = self.state[p]
        init_state(state, p)
        state["sum"] = wrap(array_module(p._data).full_like(p._data, group["initial_accumulator_value"]))
        return state

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        lr, lr_decay, eps = float(group["lr"]), float(group["lr_decay"]), float(group["eps"])
        weight_decay, maximize = float(group["weight_decay"]), bool(group["maximize"])
        for p, g in zip(params, grads):
            state = self.state.get(p) or self._init_state(p, group)  # a group added later starts here
            state["step"]._data += 1
            step = float(state["step"]._data)
            x = p._data
            xp = array_module(x)
            d = effective_grad(x, g, weight_decay, maximize)
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]._data
            tmp = xp.multiply(d, d, out=xp.empty_like(x))  # out=: a 0-d input would give a scalar
            s += tmp
            xp.sqrt(s, out=tmp)
            tmp += eps
            xp.divide(d, tmp, out=tmp)
            tmp *= clr
            x -= tmp
            bump_version(p)
