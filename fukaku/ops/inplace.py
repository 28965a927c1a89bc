"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[i] = v`` …) for tensors outside the graph.

fukaku records no in-place op in the graph: they are for tensors that do not require grad, and
for parameters inside ``no_grad()`` (optimizer steps, initialisation). Each bumps the tensor's
version, so a backward that needs the old value raises instead of returning a wrong gradient.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import state
from ..tensor import Tensor, bump_version
from ._util import lift, shape_error


def _check(self: Tensor, op: str, *others) -> None:
    if not state.grad_enabled:
        return
    if self.requires_grad:
        kind = "a leaf tensor" if self.grad_fn is None else "a tensor"
        raise RuntimeError(
            f"{op}: in-place operation on {kind} that requires grad is not supported by fukaku's autograd. "
            f"Use the out-of-place form (x = x.{op.rstrip('_')}(...)), or wrap the update in fukaku.no_grad()"
        )
    for o in others:
        if isinstance(o, Tensor) and o.requires_grad:
            raise RuntimeError(f"{op}: the in-place result would depend on a tensor that requires grad; "
                               "use the out-of-place form so the gradient can be recorded")


def _operand(self: Tensor, other) -> np.ndarray:
    return lift(other, self).data


def _apply(self: Tensor, op: str, ufunc, other) -> Tensor:
    _check(self, op, other)
    value = _operand(self, other)
    try:
        ufunc(self.data, value, out=self.data, casting="same_kind")
    except ValueError:
        raise shape_error(op, self.data.shape, np.shape(value),
                          hint="an in-place op cannot change the shape of its target") from None
    except TypeError:
        raise TypeError(f"{op}: result type {np.result_type(self.data, value)} can't be cast to {self.dtype}") from None
    bump_version(self)
    return self


def add_(self: Tensor, other, alpha=1) -> Tensor:
    return _apply(self, "add_", np.add, other if alpha == 1 else _operand(self, other) * alpha)


def sub_(self: Tensor, other, alpha=1) -> Tensor:
    return _apply(self, "sub_", np.subtract, other if alpha == 1 else _operand(self, other) * alpha)


def mul_(self: Tensor, other) -> Tensor:
    return _apply(self, "mul_", np.multiply, other)


def div_(self: Tensor, other) -> Tensor:
    return _apply(self, "div_", np.true_divide, other)


def pow_(self: Tensor, exponent) -> Tensor:
    return _apply(self, "pow_", np.power, exponent)


def _fill(self: Tensor, op: str, value, others=()) -> Tensor:
    _check(self, op, *others)
    self.data[...] = value
    bump_version(self)
    return self


def zero_(self: Tensor) -> Tensor:
    return _fill(self, "zero_", 0)


def fill_(self: Tensor, value) -> Tensor:
    return _fill(self, "fill_", value.item() if isinstance(value, Tensor) else value)


def copy_(self: Tensor, src) -> Tensor:
    arr = src.data if isinstance(src, Tensor) else np.asarray(src)
    try:
        np.broadcast_to(arr, self.data.shape)
    except ValueError:
        raise shape_error("copy_", self.data.shape, arr.shape, hint="src must broadcast to the destination") from None
    return _fill(self, "copy_", arr, (src,))


def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    _check(self, "clamp_")
    np.clip(self.data, min, max, out=self.data)
    bump_version(self)
    return self


def setitem(self: Tensor, key, value) -> None:
    from .index import _normalize_key

    _check(self, "__setitem__", value)
    key, _ = _normalize_key(key)
    self.data[key] = value.data if isinstance(value, Tensor) else value
    bump_version(self)


def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    from ..tensor import default_generator

    return _fill(self, "uniform_", default_generator().uniform(a, b, self.data.shape))


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    from ..tensor import default_generator

    return _fill(self, "normal_", default_generator().normal(mean, std, self.data.shape))
