"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay (``torch.optim.SGD``).

Gradient descent θ ← θ − η∇L (seed 003; seed 004 §3.6.1), on mini-batch gradients (seed 003, "SGD").
With momentum μ and dampening τ, PyTorch's form (which this follows, so trajectories match):

    g ← ∇L (+ λθ with weight decay λ)      v ← μ·v + (1 − τ)·g   (v₁ = g)
    θ ← θ − η·v,  or with Nesterov  θ ← θ − η·(g + μ·v)

Sutskever et al. write v ← μ·v + η·g, θ ← θ − v instead: the same path for a constant η, but a
changed learning rate rescales PyTorch's stored velocity differently.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from ..tensor import Tensor, bump_version, wrap
from .optimizer import Optimizer, ParamsT, check_nonnegative, effective_grad


class SGD(Optimizer):
    """``SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False)``.

    ``weight_decay`` is the coupled L2 penalty: λθ is added to the gradient before momentum.
    State per parameter (only when ``momentum != 0``): ``'momentum_buffer'``, shaped like it.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        check_nonnegative("SGD", options, "lr", "momentum", "weight_decay")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum > 0 and zero dampening "
                             f"(got momentum={options['momentum']}, dampening={options['dampening']})")

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        lr, momentum = float(group["lr"]), float(group["momentum"])
        dampening, weight_decay = float(group["dampening"]), float(group["weight_decay"])
        nesterov, maximize = bool(group["nesterov"]), bool(group["maximize"])
        for p, g in zip(params, grads):
            x = p._data
            d = effective_grad(x, g, weight_decay, maximize)
            if momentum != 0:
                xp = array_module(x)
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:  # the first step starts the velocity at the gradient itself
                    buf = state["momentum_buffer"] = wrap(xp.array(d, copy=True))
                else:
                    buf._data *= momentum
                    buf._data += d if dampening == 0 else d * (1 - dampening)
                if nesterov:  # look ahead along the velocity: g + μ·v
                    direction = xp.multiply(buf._data, momentum)
                    direction += d
                else:
                    direction = buf._data
            else:
                direction = d
            x -= direction * lr
            bump_version(p)
