"""Adamax (Kingma and Ba, 2014, §7.1), as ``torch.optim.Adamax``: Adam with the infinity norm.

Adam scales each coordinate by an estimate of √E[g²]; Adamax replaces that L² estimate by an
exponentially weighted L^∞ one, a running maximum that needs no bias correction:

    g ← ∇L (+ λθ: L2 penalty)         m ← β₁·m + (1 − β₁)·g         u ← max(β₂·u, |g| + ε)
    θ ← θ − η / (1 − β₁ᵗ) · m / u

Also home of what the Adam variants here (:class:`Adamax`, :class:`~fukaku.optim.NAdam`,
:class:`~fukaku.optim.RAdam`) share: torch's kernel-choice options, their checks, and the moment
updates written as torch computes them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from ..tensor import Tensor, bump_version
from .adam import Adam
from .optimizer import Optimizer, ParamsT, effective_grad, init_state


def kernel_options(foreach: bool | None, capturable: bool, differentiable: bool) -> dict[str, Any]:
    """torch's implementation choices, kept in the param groups as torch keeps them (so state dicts
    have torch's layout). fukaku has one implementation: ``foreach`` and ``capturable`` change
    nothing; ``differentiable=True`` is refused by :func:`check_adam_options`."""
    return dict(foreach=foreach, capturable=capturable, differentiable=differentiable)


def check_adam_options(optimizer: Optimizer, options: dict[str, Any]) -> None:
    """Adam's checks (``lr``, ``eps``, ``weight_decay`` ≥ 0; each beta in [0, 1)) and no ``differentiable``."""
    Adam._validate(optimizer, options)  # type: ignore[arg-type]  # the same checks, named after this optimizer
    if options.get("differentiable"):
        raise ValueError(f"{type(optimizer).__name__}: differentiable=True (autograd through the update itself) is "
                         "not supported: fukaku's optimizers update the arrays in place, outside the graph; leave it "
                         "False")


def lerp_(start: np.ndarray, end: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """``start ← start + weight·(end − start)`` in place, by torch's formula (from the nearer end)."""
    xp = array_module(start)
    xp.subtract(end, start, out=tmp)
    if abs(weight) < 0.5:
        tmp *= weight
        start += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(end, tmp, out=start)


def update_moments(state: dict[str, Any], d: np.ndarray, beta1: float, beta2: float, tmp: np.ndarray) -> None:
    """Adam's moments in place: ``m ← lerp(m, g, 1 − β₁)`` and ``v ← β₂·v + (1 − β₂)·g²``."""
    lerp_(state["exp_avg"]._data, d, 1 - beta1, tmp)
    v = state["exp_avg_sq"]._data
    array_module(v).multiply(d, 1 - beta2, out=tmp)
    tmp *= d
    v *= beta2
    v += tmp


class AdamVariant(Optimizer):
    """What :class:`Adamax`, :class:`~fukaku.optim.NAdam` and :class:`~fukaku.optim.RAdam` share:
    Adam's option checks, and the start of each parameter's update — state on the first step, the
    step count, decoupled weight decay θ ← (1 − ηλ)·θ (with ``decoupled_weight_decay``) or the L2
    term and ``maximize`` folded into the gradient. A subclass names its ``_buffers`` and writes
    the rest of the update in ``_update_param``."""

    _buffers: tuple[str, ...] = ("exp_avg", "exp_avg_sq")

    def _validate(self, options: dict[str, Any]) -> None:
        check_adam_options(self, options)

    def _init_param_state(self, state: dict[str, Any], p: Tensor) -> None:
        init_state(state, p, *self._buffers)

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        decoupled, maximize = bool(group.get("decoupled_weight_decay", False)), bool(group["maximize"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for p, g in zip(params, grads):
            state = self.state[p]
            if not state:
                self._init_param_state(state, p)
            state["step"]._data += 1
            x = p._data
            if decoupled and weight_decay != 0:
                x *= 1 - lr * weight_decay  # AdamW's decay: shrink θ directly, outside the moments
            d = effective_grad(x, g, 0.0 if decoupled else weight_decay, maximize)
            tmp = array_module(x).empty_like(x)
            self._update_param(group, state, x, d, float(state["step"]._data), beta1, beta2, tmp)
            bump_version(p)

    def _update_param(self, group: dict[str, Any], state: dict[str, Any], x: np.ndarray, d: np.ndarray,
                      step: float, beta1: float, beta2: float, tmp: np.ndarray) -> None:
        """Move the parameter ``x`` in place along the gradient ``d`` (maximize and L2 term applied) at
        step ``step``; ``tmp`` is scratch space shaped like ``x``."""
        raise NotImplementedError(f"{type(self).__name__} must implement _update_param")


class Adamax(AdamVariant):
    """``Adamax(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
    maximize=False, differentiable=False, capturable=False)``.

    ``weight_decay`` is the coupled L2 penalty (λθ added to the gradient). State per parameter:
    ``'step'`` (float32 count), ``'exp_avg'`` (m) and ``'exp_inf'`` (u).

    Example::

        >>> opt = fk.optim.Adamax(model.parameters(), lr=2e-3)
    """

    _buffers = ("exp_avg", "exp_inf")

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        **kernel_options(foreach, capturable, differentiable))
        super().__init__(params, defaults)

    def _update_param(self, group: dict[str, Any], state: dict[str, Any], x: np.ndarray, d: np.ndarray,
                      step: float, beta1: float, beta2: float, tmp: np.ndarray) -> None:
        xp = array_module(x)
        m, u = state["exp_avg"]._data, state["exp_inf"]._data
        lerp_(m, d, 1 - beta1, tmp)
        xp.abs(d, out=tmp)
        tmp += float(group["eps"])
        u *= beta2
        xp.maximum(u, tmp, out=u)
        clr = float(group["lr"]) / (1 - beta1 ** step)
        xp.multiply(m, -clr, out=tmp)  # addcdiv_(m, u, value=−clr), computed (−clr·m)/u as torch's kernel
        tmp /= u
        x += tmp
