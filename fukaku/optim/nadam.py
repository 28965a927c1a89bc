"""NAdam (Dozat, 2016), as ``torch.optim.NAdam``: Adam with Nesterov momentum.

Nesterov's look-ahead applied to Adam's first moment: the step mixes the current gradient and the
momentum of the *next* step, with a momentum coefficient μₜ that warms up over the first steps
(``momentum_decay`` ψ sets how fast):

    μₜ = β₁·(1 − ½·0.96^(t·ψ))        Πₜ = μ₁·μ₂·…·μₜ          (kept as ``'mu_product'``)
    m ← β₁·m + (1 − β₁)·g             v ← β₂·v + (1 − β₂)·g²       d = √(v / (1 − β₂ᵗ)) + ε
    θ ← θ − η·(1 − μₜ)/(1 − Πₜ) · g/d − η·μₜ₊₁/(1 − Πₜ·μₜ₊₁) · m/d

``weight_decay`` is the coupled L2 penalty (λθ added to g) or, with ``decoupled_weight_decay=True``,
NAdamW's θ ← (1 − ηλ)·θ before the update (see :mod:`fukaku.optim.adamw` for the difference).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..backends import array_module, default_module
from ..errors import ShapeError
from ..tensor import Tensor, wrap
from .adamax import AdamVariant, kernel_options, update_moments
from .optimizer import ParamsT, _as_index, check_nonnegative


class NAdam(AdamVariant):
    """``NAdam(params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
    decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False, differentiable=False)``.

    State per parameter: ``'step'`` and ``'mu_product'`` (Πₜ), float32 numbers as torch keeps them
    (a loaded ``'mu_product'`` takes the parameter's dtype, as in torch), ``'exp_avg'`` (m) and
    ``'exp_avg_sq'`` (v).

    Example::

        >>> opt = fk.optim.NAdam(model.parameters(), lr=2e-3, weight_decay=1e-2, decoupled_weight_decay=True)
    """

    def __init__(self, params: ParamsT, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        **kernel_options(foreach, capturable, differentiable))
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        super()._validate(options)
        check_nonnegative("NAdam", options, "momentum_decay")

    def _init_param_state(self, state: dict[str, Any], p: Tensor) -> None:
        super()._init_param_state(state, p)
        state["mu_product"] = wrap(default_module().ones((), np.float32))

    def _update_param(self, group: dict[str, Any], state: dict[str, Any], x: np.ndarray, d: np.ndarray,
                      step: float, beta1: float, beta2: float, tmp: np.ndarray) -> None:
        lr, momentum_decay = float(group["lr"]), float(group["momentum_decay"])
        xp = array_module(x)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        state["mu_product"]._data *= mu  # in the product's own dtype, as torch
        mu_product = float(state["mu_product"]._data)
        update_moments(state, d, beta1, beta2, tmp)
        denom = xp.divide(state["exp_avg_sq"]._data, 1 - beta2 ** step, out=xp.empty_like(x))
        xp.sqrt(denom, out=denom)
        denom += float(group["eps"])
        # two addcdiv_: θ += c·g/d, θ += c′·m/d, each computed as (c·g)/d like torch's kernel
        xp.multiply(d, -lr * (1.0 - mu) / (1.0 - mu_product), out=tmp)
        tmp /= denom
        x += tmp
        xp.multiply(state["exp_avg"]._data, -lr * mu_next / (1.0 - mu_product * mu_next), out=tmp)
        tmp /= denom
        x += tmp

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As :meth:`Optimizer.load_state_dict`; each ``'mu_product'`` (a number, not a tensor shaped like
        its parameter) becomes a host-side 0-d array of the parameter's dtype, as torch casts it."""
        if "state" not in state_dict or "param_groups" not in state_dict:
            return super().load_state_dict(state_dict)  # raises, naming the missing key
        params = [p for group in self.param_groups for p in group["params"]]
        order = [_as_index(i, "'params' entries") for saved in state_dict["param_groups"] for i in saved["params"]]
        index_to_param = dict(zip(order, params))
        products, rest = {}, {}
        for key, values in state_dict["state"].items():
            values = dict(values)
            if "mu_product" in values:
                param = index_to_param.get(_as_index(key, "'state' keys"))
                products[key] = _mu_product(values.pop("mu_product"), key, param)
            rest[key] = values
        super().load_state_dict({**state_dict, "state": rest})  # checks everything else before changing anything
        for key, product in products.items():
            self.state[index_to_param[_as_index(key, "'state' keys")]]["mu_product"] = product


def _mu_product(value, key, param: Tensor | None) -> Tensor:
    """A loaded Πₜ as a host 0-d array, in its parameter's floating dtype (float32 if unknown)."""
    host = default_module()
    arr = value._data if isinstance(value, Tensor) else host.asarray(value)
    if arr.size != 1:
        raise ShapeError(f"NAdam.load_state_dict: state[{key}]['mu_product'] must be a single number, got shape "
                         f"{tuple(arr.shape)}")
    dtype = param._data.dtype if param is not None else np.float32
    return wrap(host.array(arr.reshape(()), dtype=dtype))
