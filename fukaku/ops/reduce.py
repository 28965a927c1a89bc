"""Reductions over dimensions: sum, mean, var, std, prod, max/min (values and indices), argmax,
logsumexp, cumsum, norm. ``dim`` may be an int, a tuple or None (all); ``keepdim`` as in PyTorch.
"""
from __future__ import annotations

import builtins
from typing import NamedTuple

import numpy as np

from ..autograd.function import Function, constant
from ..tensor import Tensor
from ._util import _norm_dim, _norm_dims
from .elementwise import Where, _floating, exp, sqrt
from .shape import broadcast_to, reshape


def _restore_dims(grad: Tensor, axes: tuple[int, ...], keepdim: bool, in_ndim: int) -> Tensor:
    """Reinsert reduced axes as size 1 so the gradient broadcasts against the input."""
    if keepdim or not axes:
        return grad
    shape = list(grad.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(grad, tuple(shape)) if in_ndim else grad


class Sum(Function):
    def forward(self, x):
        self.in_shape = x.data.shape
        return np.sum(x.data, axis=self.axes, keepdims=self.keepdim, dtype=self.dtype)

    def vjp(self, grad):
        return broadcast_to(_restore_dims(grad, self.axes, self.keepdim, len(self.in_shape)), self.in_shape)

    def jvp(self, dx):
        return Sum.apply(dx, axes=self.axes, keepdim=self.keepdim, dtype=None)


def sum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Σ over ``dim`` (all when None). Integer and bool tensors sum to int64, as in torch."""
    axes = _norm_dims(dim, input.ndim, "sum")
    if dtype is None and input.data.dtype.kind in "biu":
        dtype = np.int64
    return Sum.apply(input, axes=axes, keepdim=keepdim, dtype=dtype)


def mean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    x = input if dtype is None else input.to(dtype)
    if x.data.dtype.kind != "f":
        raise TypeError(f"mean(): could not infer output dtype: input dtype must be floating point, got {x.dtype}; "
                        "pass dtype=fukaku.float32 or convert with .float()")
    axes = _norm_dims(dim, x.ndim, "mean")
    count = int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1
    return sum(x, axes, keepdim) * (1.0 / count if count else float("nan"))


def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``; unbiased (N − 1) by default, ``unbiased=False`` or ``correction=0`` for N."""
    if unbiased is not None and correction is not None:
        raise ValueError("var: pass either unbiased or correction, not both")
    corr = correction if correction is not None else (0 if unbiased is False else 1)
    x = _floating(input)
    axes = _norm_dims(dim, x.ndim, "var")
    n = int(np.prod([x.shape[a] for a in axes])) if x.ndim else 1
    centred = x - mean(x, axes, keepdim=True)
    denom = builtins.max(n - corr, 0)
    return sum(centred * centred, axes, keepdim) * (1.0 / denom if denom else float("nan"))


def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


class Amax(Function):
    """Max (or min) over dims; on ties the gradient is shared evenly, as torch.amax."""

    def forward(self, x):
        self.save(x)
        pick = np.max if self.largest else np.min
        if x.data.size == 0:
            raise RuntimeError(f"{'amax' if self.largest else 'amin'}(): cannot reduce an empty tensor of shape {tuple(x.shape)}")
        out = pick(x.data, axis=self.axes, keepdims=True)
        self.weights = (x.data == out).astype(x.data.dtype)
        self.weights /= self.weights.sum(axis=self.axes, keepdims=True)
        return out if self.keepdim else out.reshape(tuple(s for i, s in enumerate(out.shape) if i not in self.axes))

    def vjp(self, grad):
        (x,) = self.saved
        return broadcast_to(_restore_dims(grad, self.axes, self.keepdim, x.ndim), x.shape) * constant(self.weights)

    def jvp(self, dx):
        return sum(dx * constant(self.weights), self.axes, self.keepdim)


def amax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Amax.apply(input, axes=_norm_dims(dim, input.ndim, "amax"), keepdim=keepdim, largest=True)


def amin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    return Amax.apply(input, axes=_norm_dims(dim, input.ndim, "amin"), keepdim=keepdim, largest=False)


class MaxResult(NamedTuple):
    values: Tensor
    indices: Tensor


def _arg(input: Tensor, dim, keepdim: bool, largest: bool, op: str) -> Tensor:
    pick = np.argmax if largest else np.argmin
    if input.data.size == 0:
        raise RuntimeError(f"{op}(): cannot reduce an empty tensor of shape {tuple(input.shape)}")
    if dim is None:
        idx = pick(input.data)
        return Tensor._wrap(np.asarray(idx, dtype=np.int64).reshape((1,) * input.ndim if keepdim else ()))
    d = _norm_dim(dim, input.ndim, op)
    idx = pick(input.data, axis=d, keepdims=keepdim) if input.ndim else np.asarray(0)
    return Tensor._wrap(idx.astype(np.int64))


def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(input, dim, keepdim, True, "argmax")


def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    return _arg(input, dim, keepdim, False, "argmin")


def _max_min(input: Tensor, dim, keepdim: bool, largest: bool, op: str):
    from .elementwise import maximum, minimum
    from .index import gather

    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(input, dim)
    if dim is None:
        return Amax.apply(input, axes=tuple(range(input.ndim)), keepdim=False, largest=largest)
    d = _norm_dim(dim, input.ndim, op)
    if input.ndim == 0:
        return MaxResult(input, Tensor._wrap(np.asarray(0, dtype=np.int64)))
    idx = _arg(input, d, True, largest, op)
    values = gather(input, d, idx)
    if not keepdim:
        values = reshape(values, values.shape[:d] + values.shape[d + 1:])
        idx = Tensor._wrap(idx.data.squeeze(d))
    return MaxResult(values, idx)


def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``max(x)`` → value; ``max(x, dim)`` → (values, indices); ``max(a, b)`` → elementwise maximum."""
    return _max_min(input, dim, keepdim, True, "max")


def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    return _max_min(input, dim, keepdim, False, "min")


class LogSumExp(Function):
    """log Σ exp(x), computed stably; vjp g·softmax(x), jvp Σ softmax(x)·ẋ."""

    saves_output = True

    def forward(self, x):
        self.save(x)
        m = np.max(x.data, axis=self.axes, keepdims=True) if x.data.size else np.zeros((1,) * x.ndim, x.dtype)
        m = np.where(np.isfinite(m), m, 0)
        out = np.log(np.sum(np.exp(x.data - m), axis=self.axes, keepdims=True)) + m
        return out if self.keepdim else out.reshape(tuple(s for i, s in enumerate(out.shape) if i not in self.axes))

    def _softmax(self) -> Tensor:
        (x,) = self.saved
        return exp(x - _restore_dims(self.output, self.axes, self.keepdim, x.ndim))

    def vjp(self, grad):
        (x,) = self.saved
        return _restore_dims(grad, self.axes, self.keepdim, x.ndim) * self._softmax()

    def jvp(self, dx):
        return sum(self._softmax() * dx, self.axes, self.keepdim)


def logsumexp(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    x = _floating(input)
    return LogSumExp.apply(x, axes=_norm_dims(dim, x.ndim, "logsumexp"), keepdim=keepdim)


class Prod(Function):
    """Π over one dim (or all). The gradient is the product of the *other* factors, computed with
    exclusive cumulative products, so it is exact when some factors are 0."""

    def forward(self, x):
        self.save(x)
        return np.prod(x.data, axis=self.axis, keepdims=self.keepdim)

    def _others(self) -> Tensor:
        (x,) = self.saved
        data = x.data
        if self.axis is None:
            flat = data.reshape(-1)
            return constant(_exclusive_product(flat, 0).reshape(data.shape))
        if not np.any(data == 0):
            out = np.prod(data, axis=self.axis, keepdims=True)
            return constant(out / data)
        return constant(_exclusive_product(data, self.axis))

    def vjp(self, grad):
        (x,) = self.saved
        if self.axis is None:
            g = reshape(grad, (1,) * x.ndim)
        else:
            g = _restore_dims(grad, (self.axis,), self.keepdim, x.ndim)
        return broadcast_to(g, x.shape) * self._others()

    def jvp(self, dx):
        return sum(dx * self._others(), self.axis, self.keepdim)


def _exclusive_product(a: np.ndarray, axis: int) -> np.ndarray:
    """Product of every element along ``axis`` except the one at each position."""
    ones = np.ones_like(np.take(a, [0], axis=axis))
    left = np.cumprod(np.concatenate([ones, np.take(a, range(a.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)
    rev = np.flip(a, axis)
    right = np.cumprod(np.concatenate([ones, np.take(rev, range(a.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)
    return left * np.flip(right, axis)


def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product over one dimension (or of all elements). The gradient of the other factors is
    treated as constant, so second derivatives of prod are not available."""
    x = input if dtype is None else input.to(dtype)
    axis = None if dim is None else _norm_dim(dim, x.ndim, "prod")
    return Prod.apply(x, axis=axis, keepdim=keepdim and axis is not None)


class Cumsum(Function):
    def forward(self, x):
        return np.cumsum(x.data, axis=self.dim, dtype=np.int64 if x.data.dtype.kind in "biu" else None)

    def vjp(self, grad):
        from .shape import flip

        return flip(Cumsum.apply(flip(grad, self.dim), dim=self.dim), self.dim)

    def jvp(self, dx):
        return Cumsum.apply(dx, dim=self.dim)


def cumsum(input: Tensor, dim: int) -> Tensor:
    if input.ndim == 0:
        return input
    return Cumsum.apply(input, dim=_norm_dim(dim, input.ndim, "cumsum"))


class Norm2(Function):
    """Euclidean / Frobenius norm; its gradient x/‖x‖ is taken as 0 where ‖x‖ = 0 (as torch)."""

    saves_output = True

    def forward(self, x):
        self.save(x)
        return np.sqrt(np.sum(x.data * x.data, axis=self.axes, keepdims=self.keepdim))

    def _scaled(self, t: Tensor) -> Tensor:
        (x,) = self.saved
        n = _restore_dims(self.output, self.axes, self.keepdim, x.ndim)
        zero = constant(n.data == 0)
        safe = Where.apply(zero, constant(np.ones((), n.data.dtype)), n)
        return Where.apply(zero, constant(np.zeros((), n.data.dtype)), t / safe)

    def vjp(self, grad):
        (x,) = self.saved
        return self._scaled(_restore_dims(grad, self.axes, self.keepdim, x.ndim) * x)

    def jvp(self, dx):
        (x,) = self.saved
        return sum(self._scaled(x * dx), self.axes, self.keepdim)


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False) -> Tensor:
    """Vector p-norm over ``dim`` (p = 1, 2, inf, -inf, any real) or the Frobenius norm ('fro')."""
    from .elementwise import abs as _abs

    x = _floating(input)
    axes = _norm_dims(dim, x.ndim, "norm")
    if p in ("fro", 2, 2.0):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p in (float("inf"), "inf"):
        return amax(_abs(x), axes, keepdim)
    if p in (float("-inf"), "-inf"):
        return amin(_abs(x), axes, keepdim)
    if p == 1:
        return sum(_abs(x), axes, keepdim)
    if isinstance(p, (int, float)) and p > 0:
        return sum(_abs(x) ** p, axes, keepdim) ** (1.0 / p)
    raise ValueError(f"norm: unsupported p={p!r}; use 1, 2, 'fro', inf, -inf or a positive number")


def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return Tensor._wrap(np.all(input.data, axis=None if dim is None else _norm_dims(dim, input.ndim, "all"), keepdims=keepdim))


def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    return Tensor._wrap(np.any(input.data, axis=None if dim is None else _norm_dims(dim, input.ndim, "any"), keepdims=keepdim))
