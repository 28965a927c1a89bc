"""RAdam (Liu et al., 2019), as ``torch.optim.RAdam``: Adam with its early variance rectified.

In the first steps v̂ averages a handful of squared gradients, so Adam's adaptive step 1/√v̂ has a
large variance. RAdam measures how many gradients the average is worth — the length ρₜ of the
approximated simple moving average — and takes plain momentum steps until ρₜ > 5, then Adam's step
scaled by the rectification rₜ:

    m ← β₁·m + (1 − β₁)·g       v ← β₂·v + (1 − β₂)·g²       m̂ = m / (1 − β₁ᵗ)
    ρ∞ = 2/(1 − β₂) − 1          ρₜ = ρ∞ − 2t·β₂ᵗ/(1 − β₂ᵗ)
    ρₜ > 5:  rₜ = √((ρₜ − 4)(ρₜ − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρₜ)),   θ ← θ − η·m̂·√(1 − β₂ᵗ)/(√v + ε)·rₜ
    else:    θ ← θ − η·m̂

``weight_decay`` is the coupled L2 penalty (λθ added to g) or, with ``decoupled_weight_decay=True``,
θ ← (1 − ηλ)·θ before the update (AdamW's decay; see :mod:`fukaku.optim.adamw`).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from .adamax import AdamVariant, kernel_options, update_moments
from .optimizer import ParamsT


class RAdam(AdamVariant):
    """``RAdam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False, *,
    foreach=None, maximize=False, capturable=False, differentiable=False)``.

    State per parameter: ``'step'`` (float32 count), ``'exp_avg'`` (m) and ``'exp_avg_sq'`` (v).

    Example::

        >>> opt = fk.optim.RAdam(model.parameters(), lr=1e-3)
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay,
                        **kernel_options(foreach, capturable, differentiable))
        super().__init__(params, defaults)

    def _update_param(self, group: dict[str, Any], state: dict[str, Any], x: np.ndarray, d: np.ndarray,
                      step: float, beta1: float, beta2: float, tmp: np.ndarray) -> None:
        xp = array_module(x)
        update_moments(state, d, beta1, beta2, tmp)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        rho_inf = 2 / (1 - beta2) - 1  # the longest the approximated moving average can be
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
        update = xp.divide(state["exp_avg"]._data, bias_correction1, out=xp.empty_like(x))  # m̂
        update *= float(group["lr"])
        if rho_t > 5.0:  # variance tractable: Adam's adaptive step, rectified
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            xp.sqrt(state["exp_avg_sq"]._data, out=tmp)
            tmp += float(group["eps"])
            xp.divide(bias_correction2 ** 0.5, tmp, out=tmp)
            update *= tmp
            update *= rect
        x -= update
