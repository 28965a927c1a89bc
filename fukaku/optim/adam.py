"""Adam (Kingma and Ba, 2014; seed 000 §6.1.2 and seed 004 §3.6.1 name it), as ``torch.optim.Adam``.

Momentum on the gradient and RMSprop's per-coordinate scale, both bias-corrected for their zero
start:

    g ← ∇L (+ λθ: L2 penalty)          m ← β₁·m + (1 − β₁)·g          v ← β₂·v + (1 − β₂)·g²
    m̂ = m / (1 − β₁ᵗ)    v̂ = v / (1 − β₂ᵗ)   (amsgrad: v̂ uses max over time of v)
    θ ← θ − η·m̂ / (√v̂ + ε)

``weight_decay`` here is the coupled L2 penalty of seed 000 §6.1.4 (L + λ/2‖θ‖², gradient λθ):
the decay term passes through m and v, so it is divided by √v̂ like the gradient, and coordinates
with large gradients are decayed less. Erratum C19 of seed 000: this is *not* AdamW's decoupled
weight decay θ ← θ − ηλθ, which shrinks every coordinate at the same rate; use :class:`AdamW` (or
``decoupled_weight_decay=True``) for that. The two coincide only for plain SGD.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module
from ..backends.cupy_kernels import adam_kernel
from ..tensor import Tensor, bump_version
from .optimizer import Optimizer, ParamsT, check_nonnegative, effective_grad, init_state


class Adam(Optimizer):
    """``Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False, decoupled_weight_decay=False)``.

    State per parameter: ``'step'`` (float32 count), ``'exp_avg'`` (m), ``'exp_avg_sq'`` (v) and,
    with amsgrad, ``'max_exp_avg_sq'``.
    """

    def __init__(self, params: ParamsT, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        name = type(self).__name__
        check_nonnegative(name, options, "lr", "eps", "weight_decay")
        betas = options["betas"]
        if len(betas) != 2:
            raise ValueError(f"{name}: betas must be a pair (β₁, β₂), got {betas!r}")
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {beta!r}: expected a value in [0, 1)")

    def _update_group(self, group: dict[str, Any], params: list[Tensor], grads: list[np.ndarray]) -> None:
        lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad, maximize = bool(group["amsgrad"]), bool(group["maximize"])
        decoupled = bool(group["decoupled_weight_decay"])
        for p, g in zip(params, grads):
            state = self.state[p]
            if not state:
                init_state(state, p, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ()))
            state["step"]._data += 1
            step = float(state["step"]._data)
            x = p._data
            xp = array_module(x)
            if decoupled and weight_decay != 0:
                x *= 1 - lr * weight_decay  # AdamW: shrink θ directly, outside the moment estimates
                d = -g if maximize else g
            else:
                d = effective_grad(x, g, weight_decay, maximize)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            bc2_sqrt = (1 - beta2 ** step) ** 0.5
            step_size = lr * bc2_sqrt / (1 - beta1 ** step)
            fused = None if amsgrad else adam_kernel(xp, x.dtype)
            if fused is not None:  # a GPU: the passes below in one kernel (fukaku.backends.cupy_kernels)
                fused(d, x, m, v, 1 - beta1, beta2, 1 - beta2, eps * bc2_sqrt, step_size)
                bump_version(p)
                continue
            tmp = xp.subtract(d, m, out=xp.empty_like(x))  # m.lerp_(g, 1 − β₁); out=: 0-d gives arrays too
            tmp *= 1 - beta1
            m += tmp
            xp.multiply(d, d, out=tmp)
            tmp *= 1 - beta2
            v *= beta2
            v += tmp
            if amsgrad:
                v = xp.maximum(state["max_exp_avg_sq"]._data, v, out=state["max_exp_avg_sq"]._data)
            # η·m̂/(√v̂ + ε) = η·√(1−β₂ᵗ)/(1−β₁ᵗ) · m/(√v + ε·√(1−β₂ᵗ)): one pass fewer over the arrays
            xp.sqrt(v, out=tmp)
            tmp += eps * bc2_sqrt
            xp.divide(m, tmp, out=tmp)
            tmp *= step_size
            x -= tmp
            bump_version(p)
