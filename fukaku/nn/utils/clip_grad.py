"""Gradient clipping (``torch.nn.utils.clip_grad_norm_`` / ``clip_grad_value_``).

Against exploding gradients (seed 000 §6.1.3: products of large weight matrices blow the gradient
up layer by layer): rescale all gradients together when their joint norm exceeds ``max_norm``,
keeping the update's direction, or clamp each component to [−clip_value, clip_value].
Call between ``loss.backward()`` and ``optimizer.step()``. The gradients change in place.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ...backends import array_module, default_module
from ...tensor import Tensor, bump_version, wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]

TensorOrTensors = Tensor | Iterable[Tensor]


def _as_list(tensors: TensorOrTensors, op: str) -> list[Tensor]:
    out = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    for i, t in enumerate(out):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}: expected Tensors, but item {i} is a {type(t).__name__}")
    return out


def _vector_norm(x: np.ndarray, ord: float) -> np.ndarray:  # noqa: A002
    """‖x‖_ord of the flattened array, as a 0-d array of x's (real) dtype; ord ∈ {inf, −inf, 0, p > 0}."""
    xp = array_module(x)
    a = xp.abs(x.reshape(-1))
    if a.size == 0 and ord in (math.inf, -math.inf):  # the empty max is 0 and min ∞ (CuPy's max has no initial=)
        out = xp.asarray(0 if ord == math.inf else math.inf, dtype=a.dtype)
    elif ord == math.inf:
        out = a.max()
    elif ord == -math.inf:
        out = a.min()
    elif ord == 0:  # the number of non-zero entries
        out = xp.count_nonzero(a)
    elif ord == 1:
        out = a.sum()
    elif ord == 2:
        out = xp.sqrt(xp.dot(a, a))
    else:
        out = xp.sum(a ** ord) ** (1.0 / ord)
    return xp.asarray(out, dtype=a.dtype)


def get_total_norm(tensors: TensorOrTensors, norm_type: float = 2.0, error_if_nonfinite: bool = False) -> Tensor:
    """The ``norm_type``-norm of all ``tensors`` taken together: the norm of their individual norms."""
    norm_type = float(norm_type)
    if not (norm_type > 0 or norm_type in (0.0, -math.inf)):
        raise ValueError(f"get_total_norm: norm_type must be > 0, 0, inf or -inf, got {norm_type}")
    arrays = [t._data for t in _as_list(tensors, "get_total_norm")]
    if not arrays:
        return wrap(default_module().zeros((), np.float32))
    xp = array_module(*arrays)
    norms = xp.stack([_vector_norm(a, norm_type) for a in arrays])
    total = _vector_norm(norms, norm_type)
    if error_if_nonfinite and not xp.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it "
                           "cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                           "anyway, set `error_if_nonfinite=False`")
    return wrap(total)


def clip_grads_with_norm_(parameters: TensorOrTensors, max_norm: float, total_norm: Tensor | float) -> None:
    """Scale every ``.grad`` by ``min(1, max_norm / (total_norm + 1e-6))``, in place."""
    parameters = _as_list(parameters, "clip_grads_with_norm_")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    xp = array_module(*[g._data for g in grads])
    total = total_norm._data if isinstance(total_norm, Tensor) else xp.asarray(total_norm, np.float32)
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)  # ε keeps a zero norm finite, as in PyTorch
    for g in grads:
        g._data *= coef
        bump_version(g)


def clip_grad_norm_(parameters: TensorOrTensors, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Rescale the gradients of ``parameters`` so their joint ``norm_type``-norm is at most ``max_norm``.

    Returns the total norm *before* clipping (a 0-d tensor), handy for logging exploding gradients.
    ``error_if_nonfinite=True`` raises when that norm is NaN or infinite instead of scaling by it.
    """
    parameters = _as_list(parameters, "clip_grad_norm_")
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters: TensorOrTensors, clip_value: float) -> None:
    """Clamp every gradient component of ``parameters`` to [−clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _as_list(parameters, "clip_grad_value_"):
        if g.grad is not None:
            g.grad._data.clip(-clip_value, clip_value, out=g.grad._data)
            bump_version(g.grad)
