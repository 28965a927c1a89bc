"""In-place ops (``add_``, ``mul_``, ``zero_``, ``x[i] = v`` …) for tensors outside the graph.

fukaku records no in-place op in the graph: they are for tensors that do not require grad, and
for parameters inside ``no_grad()`` (optimizer steps, initialisation). Each bumps the tensor's
version, so a backward that needs the old value raises instead of returning a wrong gradient.
Each op declares its Tensor methods here (``@tensor_method``): ``x.add_(y)``, ``x += y``, ``x[i] = v``.
"""
from __future__ import annotations

import numpy as np

from ..autograd.grad_mode import state
from ..backends import array_module
from ..tensor import Tensor, bump_version, default_generator
from ._util import lift, shape_error, tensor_method
from .index import _normalize_key


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
    return lift(other, self)._data


def _apply(self: Tensor, op: str, ufunc: str, other) -> Tensor:
    """``self._data ∘= other`` with the array module's ``ufunc``, casting only within a kind (as torch)."""
    _check(self, op, other)
    value = _operand(self, other)
    try:
        getattr(array_module(self._data), ufunc)(self._data, value, out=self._data, casting="same_kind")
    except ValueError:
        raise shape_error(op, self._data.shape, value.shape,
                          hint="an in-place op cannot change the shape of its target") from None
    except TypeError:
        raise TypeError(f"{op}: result type {np.result_type(self._data, value)} can't be cast to {self.dtype}") from None
    bump_version(self)
    return self


@tensor_method("add_", "__iadd__")
def add_(self: Tensor, other, alpha=1) -> Tensor:
    """``self += alpha * other`` in place; returns ``self``."""
    return _apply(self, "add_", "add", other if alpha == 1 else _operand(self, other) * alpha)


@tensor_method("sub_", "__isub__")
def sub_(self: Tensor, other, alpha=1) -> Tensor:
    """``self -= alpha * other`` in place; returns ``self``."""
    return _apply(self, "sub_", "subtract", other if alpha == 1 else _operand(self, other) * alpha)


@tensor_method("mul_", "__imul__")
def mul_(self: Tensor, other) -> Tensor:
    """``self *= other`` in place; returns ``self``."""
    return _apply(self, "mul_", "multiply", other)


@tensor_method("div_", "__itruediv__")
def div_(self: Tensor, other) -> Tensor:
    """``self /= other`` in place (a float tensor: integers cannot hold the quotient); returns ``self``."""
    return _apply(self, "div_", "true_divide", other)


@tensor_method()
def pow_(self: Tensor, exponent) -> Tensor:
    """``self **= exponent`` in place; returns ``self``."""
    return _apply(self, "pow_", "power", exponent)


def _fill(self: Tensor, op: str, value, others=()) -> Tensor:
    _check(self, op, *others)
    self._data[...] = value
    bump_version(self)
    return self


@tensor_method()
def zero_(self: Tensor) -> Tensor:
    """Set every element to 0; returns ``self``."""
    return _fill(self, "zero_", 0)


@tensor_method()
def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number or a one-element tensor); returns ``self``."""
    return _fill(self, "fill_", value.item() if isinstance(value, Tensor) else value)


@tensor_method()
def copy_(self: Tensor, src) -> Tensor:
    """Copy ``src`` (broadcast to ``self``'s shape, cast to its dtype) into ``self``; returns ``self``."""
    xp = array_module(self._data)
    arr = src._data if isinstance(src, Tensor) else xp.asarray(src)
    try:
        xp.broadcast_to(arr, self._data.shape)
    except ValueError:
        raise shape_error("copy_", self._data.shape, arr.shape, hint="src must broadcast to the destination") from None
    return _fill(self, "copy_", arr, (src,))


@tensor_method()
def clamp_(self: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Clamp every element to [min, max] in place; returns ``self``."""
    _check(self, "clamp_")
    array_module(self._data).clip(self._data, min, max, out=self._data)
    bump_version(self)
    return self


@tensor_method("__setitem__")
def setitem(self: Tensor, key, value) -> None:
    """``x[key] = value``, with the same keys as indexing (ints, slices, masks, index tensors)."""
    _check(self, "__setitem__", value)
    key, _ = _normalize_key(key, array_module(self._data))
    self._data[key] = value._data if isinstance(value, Tensor) else value
    bump_version(self)


@tensor_method()
def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    """Fill with draws from U(a, b) by fukaku's generator (``fukaku.manual_seed``); returns ``self``."""
    draws = default_generator().uniform(a, b, self._data.shape)
    return _fill(self, "uniform_", array_module(self._data).asarray(draws))


@tensor_method()
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    """Fill with draws from N(mean, std²) by fukaku's generator; returns ``self``."""
    draws = default_generator().normal(mean, std, self._data.shape)
    return _fill(self, "normal_", array_module(self._data).asarray(draws))
