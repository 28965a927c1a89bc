"""Reductions over dimensions: sum, mean, var, std, prod, max/min (values and indices), argmax,
logsumexp, cumsum, norm. ``dim`` may be an int, a tuple or None (all); ``keepdim`` as in PyTorch.
"""
from __future__ import annotations

import builtins
import math
from typing import NamedTuple

import numpy as np

from ..autograd.function import Function, constant, constant_like
from ..autograd.grad_mode import state
from ..backends import array_module
from ..tensor import Tensor, wrap
from ._util import _norm_dim, _norm_dims, tensor_method
from .elementwise import Where, _floating, exp
from .shape import broadcast_to, reshape


def _dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """Reduction dims as sorted non-negative axes. None and an empty tuple or list mean all
    dims (torch reduces over everything for ``dim=()``); a repeated dim is an error, as in torch."""
    if isinstance(dim, (tuple, list)):
        if len(dim) == 0:
            dim = None
        else:
            wrapped = [_norm_dim(d, ndim, op) for d in dim]
            if len(set(wrapped)) != len(wrapped):
                raise RuntimeError(f"{op}: dim {dim} has a dimension that appears multiple times in the list of dims")
    return _norm_dims(dim, ndim, op)


def _check_nonempty(x: Tensor, axes: tuple[int, ...], op: str) -> None:
    """max-like reductions have no value over an empty dim (the other dims may be empty)."""
    if x._data.size == 0 and (x.ndim == 0 or builtins.any(x.shape[a] == 0 for a in axes)):
        raise RuntimeError(f"{op}(): cannot reduce over a dimension of size 0 (input of shape {tuple(x.shape)}); "
                           "specify a dim whose size is non-zero")


def _restore_dims(grad: Tensor, axes: tuple[int, ...], keepdim: bool, in_ndim: int) -> Tensor:
    """Reinsert reduced axes as size 1 so the gradient broadcasts against the input."""
    if keepdim or not axes:
        return grad
    shape = list(grad.shape)
    for a in axes:
        shape.insert(a, 1)
    return reshape(grad, tuple(shape)) if in_ndim else grad


class _LocalGradientReduction(Function):
    """A reduction y = f(x over ``axes``) whose rules share one local gradient G = ∂y/∂x, the same
    shape as x: vjp g·G (g broadcast back over the reduced dims), jvp Σ G·ẋ. Subclasses save x and
    define :meth:`_local`."""

    saves_output = True

    def _local(self) -> Tensor:
        raise NotImplementedError

    def vjp(self, grad):
        (x,) = self.saved
        return _restore_dims(grad, self.axes, self.keepdim, x.ndim) * self._local()

    def jvp(self, dx):
        return sum(self._local() * dx, self.axes, self.keepdim)


class Sum(Function):
    """Σ over ``axes``, accumulated in ``dtype`` (None: the input's); the vjp broadcasts the
    gradient back over the summed axes."""

    def __init__(self, axes: tuple[int, ...], keepdim: bool, dtype: np.dtype | type | None) -> None:
        self.axes, self.keepdim, self.dtype = axes, keepdim, dtype

    def forward(self, x):
        self.in_shape = x._data.shape
        return array_module(x._data).sum(x._data, axis=self.axes, keepdims=self.keepdim, dtype=self.dtype)

    def vjp(self, grad):
        return broadcast_to(_restore_dims(grad, self.axes, self.keepdim, len(self.in_shape)), self.in_shape)

    def jvp(self, dx):
        return Sum.apply(dx, axes=self.axes, keepdim=self.keepdim, dtype=None)


class Mean(Sum):
    """Σ over ``axes`` divided by the count n, one node. The vjp broadcasts the gradient back and
    then divides by n (torch's order), so for an empty input the gradient is empty and its own
    derivatives are sums over nothing, 0; the value and the jvp of an empty mean are NaN."""

    def __init__(self, axes: tuple[int, ...], keepdim: bool, count: int) -> None:
        super().__init__(axes, keepdim, None)
        self.scale = 1.0 / count if count else float("nan")

    def forward(self, x):
        return super().forward(x) * self.scale

    def vjp(self, grad):
        return super().vjp(grad) * self.scale

    def jvp(self, dx):
        return super().jvp(dx) * self.scale


@tensor_method()
def sum(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:  # noqa: A001
    """Σ over ``dim`` (all when None or ()). Integer and bool tensors sum to int64, as in torch.
    With ``dtype`` the input is cast first, so the gradient comes back in the input's dtype."""
    axes = _dims(dim, input.ndim, "sum")
    if dtype is not None:
        input = input.to(dtype)
    out_dtype = np.int64 if input._data.dtype.kind in "biu" else None
    return Sum.apply(input, axes=axes, keepdim=keepdim, dtype=out_dtype)


@tensor_method()
def mean(input: Tensor, dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Average over ``dim`` (all when None or ()) of a floating tensor; an empty one gives nan."""
    x = input if dtype is None else input.to(dtype)
    if x._data.dtype.kind != "f":
        raise TypeError(f"mean(): could not infer output dtype: input dtype must be floating point, got {x.dtype}; "
                        "pass dtype=fukaku.float32 or convert with .float()")
    axes = _dims(dim, x.ndim, "mean")
    count = math.prod(x.shape[a] for a in axes) if x.ndim else 1
    return Mean.apply(x, axes=axes, keepdim=keepdim, count=count)


def _var_args(dim, unbiased, correction, op):
    if isinstance(dim, bool):  # torch.var(x, False): the legacy (input, unbiased) overload
        if unbiased is not None:
            raise TypeError(f"{op}(): got unbiased twice")
        dim, unbiased = None, dim
    if unbiased is not None and correction is not None:
        raise ValueError(f"{op}: pass either unbiased or correction, not both")
    corr = correction if correction is not None else (0 if unbiased is False else 1)
    return dim, corr


@tensor_method()
def var(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Variance over ``dim``: Σ(x − mean)² / max(N − correction, 0). Unbiased (correction 1) by
    default; ``unbiased=False`` or ``correction=0`` divide by N. As in torch, N − correction <= 0
    gives inf (or nan where the sum is 0)."""
    dim, corr = _var_args(dim, unbiased, correction, "var")
    x = _floating(input)
    axes = _dims(dim, x.ndim, "var")
    n = math.prod(x.shape[a] for a in axes) if x.ndim else 1
    centred = x - mean(x, axes, keepdim=True) if n else x
    denom = builtins.max(n - corr, 0)
    total = sum(centred * centred, axes, keepdim)
    if denom:
        return total * (1.0 / denom)
    with np.errstate(divide="ignore", invalid="ignore"):
        return total / 0.0


class StdFromVar(Function):
    """sqrt of a variance with torch's std gradient: g / (2·std), taken as 0 where std == 0."""

    saves_output = True

    def forward(self, v):
        return array_module(v._data).sqrt(v._data)

    def _dsqrt(self) -> Tensor:
        y = self.output
        zero = constant(y._data == 0)
        safe = Where.apply(zero, constant_like(1, y._data), y)
        return Where.apply(zero, constant_like(0, y._data), 0.5 / safe)

    def vjp(self, grad):
        return grad * self._dsqrt()

    def jvp(self, dv):
        return dv * self._dsqrt()


@tensor_method()
def std(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *, correction=None) -> Tensor:
    """Standard deviation, sqrt(var); a constant input (std 0) gets gradient 0, as in torch."""
    dim, corr = _var_args(dim, unbiased, correction, "std")
    return StdFromVar.apply(var(input, dim, keepdim=keepdim, correction=corr))


def _tie_weights(x: np.ndarray, out: np.ndarray, axes, nan_hits: bool) -> np.ndarray:
    """1/(number of elements equal to the extremum) at each of them, 0 elsewhere. A slice whose
    extremum is NaN gets NaN weights, unless ``nan_hits`` counts its NaNs as the extrema."""
    hits = x == out
    if nan_hits:
        xp = array_module(x)
        hits |= xp.isnan(x) & xp.isnan(out)
    hits = hits.astype(x.dtype)
    count = hits.sum(axis=axes, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return hits / count if x.size else hits


class Amax(Function):
    """Max (or min) over dims; on ties the gradient is shared evenly, as torch.amax.

    Where the extremum is NaN, torch's amax/amin give NaN gradients and tangents; its full
    ``max(x)``/``min(x)`` (``full=True`` here) share the gradient between the NaNs instead, while
    its tangent is still NaN. Both are reproduced."""

    def __init__(self, axes: tuple[int, ...], keepdim: bool, largest: bool, full: bool = False) -> None:
        self.axes, self.keepdim, self.largest, self.full = axes, keepdim, largest, full

    def forward(self, x):
        _check_nonempty(x, self.axes, "amax" if self.largest else "amin")
        xp = array_module(x._data)
        pick = xp.max if self.largest else xp.min
        out = pick(x._data, axis=self.axes, keepdims=True)
        if x._data.dtype.kind == "f":
            self.w_jvp = _tie_weights(x._data, out, self.axes, nan_hits=False)
            self.w_vjp = _tie_weights(x._data, out, self.axes, nan_hits=True) if self.full else self.w_jvp
        self.in_shape = x._data.shape
        return out if self.keepdim else out.reshape(tuple(s for i, s in enumerate(out.shape) if i not in self.axes))

    def vjp(self, grad):
        restored = _restore_dims(grad, self.axes, self.keepdim, len(self.in_shape))
        return broadcast_to(restored, self.in_shape) * constant(self.w_vjp)

    def jvp(self, dx):
        return sum(dx * constant(self.w_jvp), self.axes, self.keepdim)


@tensor_method()
def amax(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Largest value over ``dim`` (all when None); ties share the gradient evenly."""
    return Amax.apply(input, axes=_dims(dim, input.ndim, "amax"), keepdim=keepdim, largest=True)


@tensor_method()
def amin(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """Smallest value over ``dim`` (all when None); ties share the gradient evenly."""
    return Amax.apply(input, axes=_dims(dim, input.ndim, "amin"), keepdim=keepdim, largest=False)


class MaxResult(NamedTuple):
    values: Tensor
    indices: Tensor


def _arg(input: Tensor, dim, keepdim: bool, largest: bool, op: str) -> Tensor:
    xp = array_module(input._data)
    pick = xp.argmax if largest else xp.argmin
    if dim is None:
        _check_nonempty(input, tuple(range(input.ndim)), op)
        idx = pick(input._data)
        return wrap(xp.asarray(idx, dtype=np.int64).reshape((1,) * input.ndim if keepdim else ()))
    d = _norm_dim(dim, input.ndim, op)
    _check_nonempty(input, (d,), op)
    idx = pick(input._data, axis=d, keepdims=keepdim) if input.ndim else xp.asarray(0)
    return wrap(idx.astype(np.int64))


@tensor_method()
def argmax(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """int64 index of the first largest value along ``dim`` (of the flattened tensor when None)."""
    return _arg(input, dim, keepdim, True, "argmax")


@tensor_method()
def argmin(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """int64 index of the first smallest value along ``dim`` (of the flattened tensor when None)."""
    return _arg(input, dim, keepdim, False, "argmin")


def _max_min(input: Tensor, dim, keepdim: bool, largest: bool, op: str):
    from .elementwise import maximum, minimum
    from .index import gather

    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return (maximum if largest else minimum)(input, dim)
    if dim is None:
        return Amax.apply(input, axes=tuple(range(input.ndim)), keepdim=False, largest=largest, full=True)
    d = _norm_dim(dim, input.ndim, op)
    if input.ndim == 0:
        return MaxResult(input * 1 if input._data.dtype.kind != "b" else wrap(input._data.copy()),
                         wrap(array_module(input._data).asarray(0, dtype=np.int64)))
    idx = _arg(input, d, True, largest, op)
    values = gather(input, d, idx)
    if not keepdim:
        values = reshape(values, values.shape[:d] + values.shape[d + 1:])
        idx = wrap(idx._data.squeeze(d))
    return MaxResult(values, idx)


@tensor_method()
def max(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``max(x)`` → value; ``max(x, dim)`` → (values, indices); ``max(a, b)`` → elementwise maximum."""
    return _max_min(input, dim, keepdim, True, "max")


@tensor_method()
def min(input: Tensor, dim=None, keepdim: bool = False):  # noqa: A001
    """``min(x)`` → value; ``min(x, dim)`` → (values, indices); ``min(a, b)`` → elementwise minimum."""
    return _max_min(input, dim, keepdim, False, "min")


class LogSumExp(_LocalGradientReduction):
    """log Σ exp(x), computed stably; its local gradient is softmax(x): vjp g·softmax(x), jvp Σ softmax(x)·ẋ."""

    def __init__(self, axes: tuple[int, ...], keepdim: bool) -> None:
        self.axes, self.keepdim = axes, keepdim

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        m = xp.max(x._data, axis=self.axes, keepdims=True) if x._data.size else xp.zeros((1,) * x.ndim, x.dtype)
        m = xp.where(xp.isfinite(m), m, 0)
        out = xp.log(xp.sum(xp.exp(x._data - m), axis=self.axes, keepdims=True)) + m
        return out if self.keepdim else out.reshape(tuple(s for i, s in enumerate(out.shape) if i not in self.axes))

    def _local(self) -> Tensor:
        (x,) = self.saved
        return exp(x - _restore_dims(self.output, self.axes, self.keepdim, x.ndim))


@tensor_method()
def logsumexp(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """log Σ exp(x) over ``dim`` (all when None), without overflow for large x."""
    x = _floating(input)
    return LogSumExp.apply(x, axes=_dims(dim, x.ndim, "logsumexp"), keepdim=keepdim)


class Prod(Function):
    """Π over one dim (or all). The gradient is the product of the *other* factors (torch's
    prod_backward): result / x when no factor is 0; otherwise exclusive products, computed as
    NumPy constants for a first derivative and with differentiable ops when a graph of the backward
    pass is being recorded (create_graph=True), so second derivatives are exact with zeros too."""

    saves_output = True

    def __init__(self, axis: int | None, keepdim: bool) -> None:
        self.axis, self.keepdim = axis, keepdim

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return xp.asarray(xp.prod(x._data, axis=self.axis, keepdims=self.keepdim))

    def _others(self) -> Tensor:
        (x,) = self.saved
        data = x._data
        if data.size == 0:
            return constant(array_module(data).zeros_like(data))
        zero = data == 0
        if not zero.any():
            out = self.output
            if self.axis is None:
                out = reshape(out, (1,) * x.ndim)
            else:
                out = _restore_dims(out, (self.axis,), self.keepdim, x.ndim)
            return out / x
        level = state.forward_level
        differentiable = (state.grad_enabled and x.requires_grad) or (
            level and x._tangent is not None and x._tangent[0] == level)  # forward-over-reverse
        if not differentiable:
            if self.axis is None:
                return constant(_exclusive_product(data.reshape(-1), 0).reshape(data.shape))
            return constant(_exclusive_product(data, self.axis))
        if self.axis is None:
            return reshape(_exclusive_product_graph(reshape(x, (-1,)), 0), data.shape)
        return _exclusive_product_graph(x, self.axis)

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
    xp = array_module(a)
    ones = xp.ones_like(xp.take(a, [0], axis=axis))
    left = xp.cumprod(xp.concatenate([ones, xp.take(a, range(a.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)
    rev = xp.flip(a, axis)
    right = xp.cumprod(xp.concatenate([ones, xp.take(rev, range(a.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)
    return left * xp.flip(right, axis)


def _exclusive_product_graph(x: Tensor, axis: int) -> Tensor:
    """The exclusive products as a differentiable expression: x repeated along a new axis i with
    x_i replaced by 1 at position i, then a product over the original axis. O(n²) along ``axis``;
    only used for higher-order derivatives of products that contain zeros."""
    from .shape import unsqueeze

    xp = array_module(x._data)
    n = x.shape[axis]
    expanded = broadcast_to(unsqueeze(x, axis), x.shape[:axis] + (n,) + x.shape[axis:])
    eye = xp.eye(n, dtype=bool).reshape((1,) * axis + (n, n) + (1,) * (x.ndim - axis - 1))
    masked = Where.apply(constant(eye), constant_like(1, x._data), expanded)
    return Prod.apply(masked, axis=axis + 1, keepdim=False)


@tensor_method()
def prod(input: Tensor, dim: int | None = None, keepdim: bool = False, dtype=None) -> Tensor:
    """Product over one dimension (or of all elements). Integer and bool tensors give int64."""
    x = input if dtype is None else input.to(dtype)
    if x._data.dtype.kind in "biu" and x._data.dtype != np.int64:
        x = wrap(x._data.astype(np.int64))
    axis = None if dim is None else _norm_dim(dim, x.ndim, "prod")
    if x.ndim == 0:
        axis = None
    return Prod.apply(x, axis=axis, keepdim=keepdim and axis is not None)


class Cumsum(Function):
    """Running sums along ``dim``; the vjp is the running sum of the gradient taken from the end."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x):
        return array_module(x._data).cumsum(x._data, axis=self.dim, dtype=np.int64 if x._data.dtype.kind in "biu" else None)

    def vjp(self, grad):
        from .shape import flip

        return flip(Cumsum.apply(flip(grad, self.dim), dim=self.dim), self.dim)

    def jvp(self, dx):
        return Cumsum.apply(dx, dim=self.dim)


@tensor_method()
def cumsum(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Running sums along ``dim``; integer and bool tensors give int64 unless ``dtype`` is given."""
    if dtype is not None:
        input = input.to(dtype)
    d = _norm_dim(dim, input.ndim, "cumsum")
    if input.ndim == 0:
        out = input.to(np.int64) if input._data.dtype.kind in "biu" else input
        return out * 1 if out is input and out._data.dtype.kind != "b" else out
    return Cumsum.apply(input, dim=d)


class Norm(_LocalGradientReduction):
    """Vector p-norm over ``axes``: (Σ|x|^p)^(1/p), max|x| for p = inf, min|x| for -inf, the
    count of non-zeros for p = 0.

    Reverse and forward rules share one local gradient G = ∂‖x‖/∂x (vjp g·G, jvp Σ G·ẋ), written
    as torch's norm_backward writes it, including its conventions where the norm or x is 0:
    p = 1: sgn(x); p = 2: x/‖x‖; 1 < p < 2: sgn(x)|x|^(p-1)/‖x‖^(p-1); p > 2: x|x|^(p-2)/‖x‖^(p-1),
    each 0 where ‖x‖ = 0; p < 1: sgn(x)|x|^(p-1)·‖x‖^(1-p), 0 where x = 0; ±inf: sgn(x) shared
    evenly between the elements that reach the max; p = 0: 0. G uses the norm as a tensor of the
    graph, so second derivatives follow.
    """

    def __init__(self, p: float, axes: tuple[int, ...], keepdim: bool) -> None:
        self.p, self.axes, self.keepdim = p, axes, keepdim

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        p, axes, kd = self.p, self.axes, self.keepdim
        a = xp.abs(x._data)
        if p == 0:
            out = xp.sum(a != 0, axis=axes, keepdims=kd)
        elif p == 1:
            out = xp.sum(a, axis=axes, keepdims=kd)
        elif p == 2:
            out = xp.sqrt(xp.sum(a * a, axis=axes, keepdims=kd))
        elif math.isinf(p):
            _check_nonempty(x, axes, "norm")
            out = (xp.max if p > 0 else xp.min)(a, axis=axes, keepdims=kd)
        else:
            with np.errstate(divide="ignore"):
                out = xp.sum(a ** p, axis=axes, keepdims=kd) ** (1.0 / p)
        return xp.asarray(out, dtype=x._data.dtype)

    def _local(self) -> Tensor:
        from .elementwise import abs as _abs, sign

        (x,) = self.saved
        xp = array_module(x._data)
        p, dt = self.p, x._data.dtype
        zero, one = constant_like(0, x._data), constant_like(1, x._data)
        if p == 0:
            return constant(xp.zeros_like(x._data))
        if p == 1:
            return sign(x)
        n = _restore_dims(self.output, self.axes, self.keepdim, x.ndim)
        if math.isinf(p):
            a = xp.abs(x._data)
            hits = ((a == n._data) | xp.isnan(a)).astype(dt)
            return sign(x) * constant(hits / xp.maximum(hits.sum(axis=self.axes, keepdims=True), 1))
        n_zero = constant(xp.broadcast_to(n._data == 0, n.shape))
        safe_n = Where.apply(n_zero, one, n)
        if p == 2:
            return Where.apply(n_zero, zero, x / safe_n)
        if p < 1:
            x_zero = constant(x._data == 0)
            safe_abs = Where.apply(x_zero, one, _abs(x))
            scaled = Where.apply(x_zero, zero, sign(x) * safe_abs ** (p - 1))
            return scaled * n ** (1 - p)
        scaled = sign(x) * _abs(x) ** (p - 1) if p < 2 else x * _abs(x) ** (p - 2)
        return Where.apply(n_zero, zero, scaled / safe_n ** (p - 1))


@tensor_method()
def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
    """Vector p-norm over ``dim`` (all dims when None): p any real number, inf or -inf, or 'fro'
    (the 2-norm of the flattened dims). Gradients follow torch's conventions at zero."""
    x = _floating(input) if dtype is None else input.to(dtype)
    axes = _dims(dim, x.ndim, "norm")
    if p == "fro" or p is None:
        p = 2
    if isinstance(p, str) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise ValueError(f"norm: unsupported p={p!r}; use a number, inf, -inf or 'fro'")
    return Norm.apply(x, p=float(p), axes=axes, keepdim=keepdim)


@tensor_method()
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` (all when None) is non-zero; not differentiable."""
    return wrap(array_module(input._data).all(input._data, axis=None if dim is None else _norm_dims(dim, input.ndim, "all"), keepdims=keepdim))


@tensor_method()
def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` (all when None) is non-zero; not differentiable."""
    return wrap(array_module(input._data).any(input._data, axis=None if dim is None else _norm_dims(dim, input.ndim, "any"), keepdims=keepdim))


# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["all", "amax", "amin", "any", "argmax", "argmin", "cumsum", "logsumexp", "max", "mean", "min", "norm",
           "prod", "std", "sum", "var"]
