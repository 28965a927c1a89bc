"""Reductions over dimensions and running scans: sum, mean, var, std, prod, max/min (values and
indices), argmax, logsumexp, norm, the NaN-ignoring nansum/nanmean, count_nonzero, aminmax,
std_mean/var_mean, trapezoid; cumsum, cumprod, cummax/cummin, logcumsumexp, diff. ``dim`` may be an
int, a tuple or None (all); ``keepdim`` as in PyTorch, and NumPy's ``axis=``/``keepdims=`` are
accepted for them wherever torch accepts them (:func:`fukaku.ops._util.dim_aliases`, applied by ``tensor_method``).
"""
from __future__ import annotations

import builtins
import math
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..autograd.function import Function, constant, constant_like
from ..autograd.grad_mode import state
from ..backends import array_module
from ..tensor import Tensor, wrap
from ._util import _norm_dim, _norm_dims, accumulate, dim_aliases, in_float32_if_bfloat16, shape_error, tensor_method
from .elementwise import Where, _floating, _Unary, clone, exp
from .shape import broadcast_to, cat, flip, narrow, reshape, select, unsqueeze


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

    scale = None  # Mean's 1/n, applied before a bfloat16 sum is rounded

    def __init__(self, axes: tuple[int, ...], keepdim: bool, dtype: np.dtype | type | None) -> None:
        self.axes, self.keepdim, self.dtype = axes, keepdim, dtype

    def forward(self, x):
        self.in_shape = x._data.shape
        return in_float32_if_bfloat16(self._total, x._data)

    def _total(self, a: np.ndarray) -> np.ndarray:
        out = array_module(a).sum(a, axis=self.axes, keepdims=self.keepdim, dtype=self.dtype)
        return out if self.scale is None else out * self.scale

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
    if not dtypes.is_floating_point(x._data.dtype):
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
        if dtypes.is_floating_point(x._data.dtype):
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
        out = in_float32_if_bfloat16(lambda a, shift: xp.log(xp.sum(xp.exp(a - shift), axis=self.axes, keepdims=True))
                                     + shift, x._data, m)
        return out if self.keepdim else out.reshape(tuple(s for i, s in enumerate(out.shape) if i not in self.axes))

    def _local(self) -> Tensor:
        (x,) = self.saved
        return exp(x - _restore_dims(self.output, self.axes, self.keepdim, x.ndim))


@tensor_method()
def logsumexp(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:
    """log Σ exp(x) over ``dim`` (all when None), without overflow for large x."""
    x = _floating(input)
    return LogSumExp.apply(x, axes=_dims(dim, x.ndim, "logsumexp"), keepdim=keepdim)


def _differentiating(x: Tensor) -> bool:
    """Whether the rule now running is itself being differentiated with respect to ``x``: a graph of
    the backward pass is recorded (create_graph=True), or tangents are carried through it
    (forward-over-reverse). A rule must then build what depends on x from differentiable ops, not
    from NumPy constants."""
    level = state.forward_level
    return (state.grad_enabled and x.requires_grad) or builtins.bool(
        level and not state.forward_suspended and x._tangent is not None and x._tangent[0] == level)


def _ones_on_diagonal(x: Tensor, axis: int) -> Tensor:
    """x repeated along a new axis k inserted at ``axis`` (size n = x.shape[axis]), with x_k replaced
    by 1 in copy k: differentiable, O(n²) along ``axis``. Products over the old axis (now axis + 1)
    of the result omit one factor each."""
    xp = array_module(x._data)
    n = x.shape[axis]
    expanded = broadcast_to(unsqueeze(x, axis), x.shape[:axis] + (n,) + x.shape[axis:])
    eye = xp.eye(n, dtype=bool).reshape((1,) * axis + (n, n) + (1,) * (x.ndim - axis - 1))
    return Where.apply(constant(eye), constant_like(1, x._data), expanded)


class Prod(Function):
    """Π over one dim (or all). The gradient is the product of the *other* factors (torch's
    prod_backward): result / x when no factor is 0; otherwise exclusive products, computed as
    NumPy constants for a first derivative and with differentiable ops when the rule is itself
    differentiated (:func:`_differentiating`), so second derivatives are exact with zeros too."""

    saves_output = True

    def __init__(self, axis: int | None, keepdim: bool) -> None:
        self.axis, self.keepdim = axis, keepdim

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return xp.asarray(in_float32_if_bfloat16(lambda a: xp.prod(a, axis=self.axis, keepdims=self.keepdim), x._data))

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
        if not _differentiating(x):
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


def _running_product_before(a: np.ndarray, axis: int) -> np.ndarray:
    """Π_{i<k} a_i at each position k along ``axis`` (1 at the first)."""
    xp = array_module(a)
    ones = xp.ones_like(xp.take(a, [0], axis=axis))
    return xp.cumprod(xp.concatenate([ones, xp.take(a, range(a.shape[axis] - 1), axis=axis)], axis=axis), axis=axis)


def _exclusive_product(a: np.ndarray, axis: int) -> np.ndarray:
    """Product of every element along ``axis`` except the one at each position."""
    xp = array_module(a)
    return _running_product_before(a, axis) * xp.flip(_running_product_before(xp.flip(a, axis), axis), axis)


def _exclusive_product_graph(x: Tensor, axis: int) -> Tensor:
    """The exclusive products as a differentiable expression: a product over the original axis of
    :func:`_ones_on_diagonal`. O(n²) along ``axis``; only used for higher-order derivatives of
    products that contain zeros."""
    return Prod.apply(_ones_on_diagonal(x, axis), axis=axis + 1, keepdim=False)


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


# ---------------------------------------------------------------------------------- running scans
def _scan_dtype(a: np.ndarray):
    """The accumulator of a running sum or product: int64 for integer and bool arrays, else their own."""
    return np.int64 if a.dtype.kind in "biu" else None


def _scan(node: type[Function], input: Tensor, dim: int, dtype, op: str) -> Tensor:
    """A running sum or product (``node``) along ``dim`` of ``input`` cast to ``dtype``. Of a 0-d
    tensor it is the value itself (int64 for integers and bools), as a new node of the graph."""
    if dtype is not None:
        input = input.to(dtype)
    d = _norm_dim(dim, input.ndim, op)
    if input.ndim:
        return node.apply(input, dim=d)
    out = input.to(np.int64) if input._data.dtype.kind in "biu" else input
    return out * 1 if out is input and out._data.dtype.kind != "b" else out


def _reversed_cumsum(x: Tensor, dim: int) -> Tensor:
    """Σ_{j≥k} x_j at each k along ``dim``: the running sum taken from the end."""
    return flip(Cumsum.apply(flip(x, dim), dim=dim), dim)


class Cumsum(Function):
    """Running sums along ``dim``; the vjp is the running sum of the gradient taken from the end."""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x):
        xp = array_module(x._data)
        return in_float32_if_bfloat16(lambda a: xp.cumsum(a, axis=self.dim, dtype=_scan_dtype(a)), x._data)

    def vjp(self, grad):
        return _reversed_cumsum(grad, self.dim)

    def jvp(self, dx):
        return Cumsum.apply(dx, dim=self.dim)


@tensor_method()
def cumsum(input: Tensor, dim: int, dtype=None) -> Tensor:
    """Running sums along ``dim``; integer and bool tensors give int64 unless ``dtype`` is given."""
    return _scan(Cumsum, input, dim, dtype, "cumsum")


class Cumprod(Function):
    """Running products y_j = Π_{i≤j} x_i along ``dim``, with torch's gradient where x holds zeros.

    ∂y_j/∂x_k = Π_{i≤j, i≠k} x_i for k ≤ j. Without zeros that is y_j / x_k, so vjp =
    (reversed running sum of g·y) / x and jvp = y · running sum of ẋ/x. With zeros, let z be the
    first zero along ``dim``: positions k < z keep those formulas, position z gets
    Π_{i<z} x_i · Σ_{j≥z} g_j Π_{z<i≤j} x_i, later positions 0 — O(n) NumPy factors for a first
    derivative. When the rule is itself differentiated (:func:`_differentiating`), the omitted
    products Π_{i≤j, i≠k} x_i are built as an (n, n) differentiable expression instead (torch's
    O(n²) double-backward path), so second derivatives are exact with zeros too."""

    saves_output = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return in_float32_if_bfloat16(lambda a: xp.cumprod(a, axis=self.dim, dtype=_scan_dtype(a)), x._data)

    def _omitted(self, x: Tensor) -> Tensor:
        """M[k, j] = Π_{i≤j, i≠k} x_i for j ≥ k, else 0: k on axis dim, j on axis dim + 1."""
        d, n = self.dim, x.shape[self.dim]
        running = Cumprod.apply(_ones_on_diagonal(x, d), dim=d + 1)
        upper = array_module(x._data).triu(array_module(x._data).ones((n, n), dtype=bool))
        upper = upper.reshape((1,) * d + (n, n) + (1,) * (x.ndim - d - 1))
        return Where.apply(constant(upper), running, constant_like(0, x._data))

    def vjp(self, grad):
        (x,) = self.saved
        d = self.dim
        if not (x._data == 0).any():
            return _reversed_cumsum(grad * self.output, d) / x
        if _differentiating(x):
            return sum(self._omitted(x) * unsqueeze(grad, d), d + 1)
        inv_before, at_first, after = (constant(a) for a in _cumprod_zero_factors(x._data, d))
        return (_reversed_cumsum(grad * constant(self.output._data), d) * inv_before
                + sum(grad * after, d, keepdim=True) * at_first)

    def jvp(self, dx):
        (x,) = self.saved
        d = self.dim
        if not (x._data == 0).any():
            return Cumsum.apply(dx / x, dim=d) * self.output
        if _differentiating(x):
            return sum(self._omitted(x) * unsqueeze(dx, d + 1), d)
        inv_before, at_first, after = (constant(a) for a in _cumprod_zero_factors(x._data, d))
        return (Cumsum.apply(dx * inv_before, dim=d) * constant(self.output._data)
                + sum(dx * at_first, d, keepdim=True) * after)


def _cumprod_zero_factors(a: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For an ``a`` with zeros, per slice along ``axis`` with first zero at z: 1/a_k for k < z (else 0);
    Π_{i<z} a_i at k = z (else 0); Π_{z<i≤j} a_i for j ≥ z (else 0). The first-order rules of
    :class:`Cumprod` combine them linearly with the gradient or the tangent."""
    xp = array_module(a)
    zero = a == 0
    seen = xp.cumsum(zero, axis=axis)
    before, first = seen == 0, zero & (seen == 1)
    one = xp.ones_like(a)
    inv_before = xp.where(before, one / xp.where(before, a, one), 0).astype(a.dtype, copy=False)
    at_first = xp.where(first, _running_product_before(a, axis), 0).astype(a.dtype, copy=False)
    after = xp.where(before, 0, xp.cumprod(xp.where(before | first, one, a), axis=axis)).astype(a.dtype, copy=False)
    return inv_before, at_first, after


@tensor_method()
def cumprod(input: Tensor, dim: int, *, dtype=None) -> Tensor:
    """Running products along ``dim``; integer and bool tensors give int64 unless ``dtype`` is given.

    The gradient is exact where the input holds zeros, second derivatives included (torch's rules).

    Example::

        >>> fk.cumprod(fk.tensor([1.0, 2.0, 0.0, 4.0]), 0)
        tensor([1., 2., 0., 0.])
    """
    return _scan(Cumprod, input, dim, dtype, "cumprod")


def _running_extremum(input: Tensor, dim: int, largest: bool, op: str) -> MaxResult:
    """(values, indices) of the running max (or min) along ``dim``. As torch: on ties the later index,
    a NaN is the extremum from where it appears on (a later NaN takes over the index). The values
    are gathered at the indices, so the gradient goes to those positions (torch's scatter-add)."""
    from .index import gather

    d = _norm_dim(dim, input.ndim, op)
    xp = array_module(input._data)
    if input.ndim == 0:
        return MaxResult(clone(input), wrap(xp.asarray(0, dtype=np.int64)))
    a = input._data
    running = accumulate("maximum" if largest else "minimum", a, d)
    hits = a == running
    if dtypes.is_floating_point(a.dtype):
        hits |= xp.isnan(a)
    positions = xp.arange(a.shape[d], dtype=np.int64).reshape((-1,) + (1,) * (a.ndim - d - 1))
    indices = accumulate("maximum", xp.where(hits, positions, 0), d)
    return MaxResult(gather(input, d, wrap(indices)), wrap(indices))


@tensor_method()
def cummax(input: Tensor, dim: int) -> MaxResult:
    """Running maximum along ``dim`` → (values, indices); ties take the later index, as in torch."""
    return _running_extremum(input, dim, True, "cummax")


@tensor_method()
def cummin(input: Tensor, dim: int) -> MaxResult:
    """Running minimum along ``dim`` → (values, indices); ties take the later index, as in torch."""
    return _running_extremum(input, dim, False, "cummin")


class LogCumSumExp(Function):
    """y_j = log Σ_{i≤j} exp(x_i) along ``dim``, accumulated with logaddexp (no overflow).

    Both rules weigh by exp(x_i − y_j) ≤ 1: vjp_k = Σ_{j≥k} g_j exp(x_k − y_j), jvp_j =
    Σ_{i≤j} ẋ_i exp(x_i − y_j). They are computed in the log domain as torch computes the vjp —
    the positive and negative parts of g (or ẋ) each through logcumsumexp — so they neither
    overflow nor underflow, and being built from this op they differentiate again."""

    saves_output = True

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def forward(self, x):
        self.save(x)
        return accumulate("logaddexp", x._data, self.dim)

    def vjp(self, grad):
        (x,) = self.saved
        return _signed_log_scan(grad, -self.output, self.dim, reverse=True, shift=x)

    def jvp(self, dx):
        (x,) = self.saved
        return _signed_log_scan(dx, x, self.dim, reverse=False, shift=-self.output)


def _signed_log_scan(v: Tensor, log_weight: Tensor, dim: int, reverse: bool, shift: Tensor) -> Tensor:
    """exp(shift) · Σ v_i exp(log_weight_i), the sum running along ``dim`` (from the end when
    ``reverse``), as exp(logcumsumexp(log v⁺ + log_weight) + shift) minus the same for v⁻."""
    from .elementwise import abs as _abs
    from .elementwise import log

    lowest = constant_like(dtypes.finfo(v._data.dtype).min, v._data)  # log 0, kept finite
    # log|v| of v with its zeros read as 1: finite, so its derivative is too; those places are masked below
    log_abs = log(_abs(Where.apply(constant(v._data == 0), constant_like(1, v._data), v)))

    def scan(t: Tensor) -> Tensor:
        if reverse:
            return flip(LogCumSumExp.apply(flip(t, dim), dim=dim), dim)
        return LogCumSumExp.apply(t, dim=dim)

    pos, neg = (exp(scan(Where.apply(constant(part), log_abs, lowest) + log_weight) + shift)
                for part in (v._data > 0, v._data < 0))
    return pos - neg


@tensor_method()
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log Σ_{i≤j} exp(x_i) running along ``dim``, without overflow; floating input only (as torch)."""
    if not dtypes.is_floating_point(input._data.dtype):
        raise TypeError(f"logcumsumexp(): expected a floating point input, got {input.dtype}; convert it "
                        "with .float()")
    d = _norm_dim(dim, input.ndim, "logcumsumexp")
    if input.ndim == 0:
        return clone(input)
    return LogCumSumExp.apply(input, dim=d)


@tensor_method()
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """The n-th forward difference along ``dim``: ``x[1:] - x[:-1]``, n times (``!=`` for bool).

    ``prepend``/``append`` are joined to ``input`` along ``dim`` first; they have its number of
    dimensions and its sizes except along ``dim``. Each difference shortens ``dim`` by one, down to
    size 0; ``n=0`` returns a copy of ``input`` alone, as torch does.

    Example::

        >>> fk.diff(fk.tensor([1, 4, 9, 16]))
        tensor([3, 5, 7])
    """
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"diff: order must be non-negative but got {n}")
    d = _norm_dim(dim, input.ndim, "diff")
    if n == 0:
        return clone(input)
    parts = [input]
    for where_, extra in (("prepend", prepend), ("append", append)):
        if extra is None:
            continue
        if not isinstance(extra, Tensor) or extra.ndim != input.ndim:
            shape = extra.shape if isinstance(extra, Tensor) else ()
            raise RuntimeError(f"diff expects prepend or append to be the same dimension as input: input has shape "
                               f"{tuple(input.shape)}, {where_} {tuple(shape)}; give it the input's dimensions, e.g. "
                               "t.reshape(1, ...)")
        parts.insert(0 if where_ == "prepend" else len(parts), extra)
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(builtins.min(n, x.shape[d])):
        later, earlier = narrow(x, d, 1, x.shape[d] - 1), narrow(x, d, 0, x.shape[d] - 1)
        x = later != earlier if x._data.dtype.kind == "b" else later - earlier
    return x


class Norm(_LocalGradientReduction):
    """Vector p-norm over ``axes``: (Σ|x|^p)^(1/p), max|x| for p = inf, min|x| for -inf, the
    count of non-zeros for p = 0.

    Reverse and forward rules share one local gradient G = ∂‖x‖/∂x (vjp g·G, jvp Σ G·ẋ), written
    as torch's norm_backward writes it, including its conventions where the norm or x is 0:
    p = 1: sgn(x); p = 2: x/‖x‖; 1 < p < 2: sgn(x)|x|^(p-1)/‖x‖^(p-1); p > 2: x|x|^(p-2)/‖x‖^(p-1),
    each 0 where ‖x‖ = 0; p < 1: sgn(x)|x|^(p-1)·‖x‖^(1-p), 0 where x = 0; ±inf: sgn(x) shared
    evenly between the elements that reach the max (``even_ties=False``: sgn(x) at each of them, as
    torch's cdist); p = 0: 0. G uses the norm as a tensor of the graph, so second derivatives follow.
    """

    def __init__(self, p: float, axes: tuple[int, ...], keepdim: bool, even_ties: bool = True) -> None:
        self.p, self.axes, self.keepdim, self.even_ties = p, axes, keepdim, even_ties

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        p, axes, kd = self.p, self.axes, self.keepdim
        a = xp.abs(x._data)
        if dtypes.is_bfloat16(a.dtype):  # summed in float32 and rounded once below, as torch
            a = a.astype(np.float32)
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
        from .elementwise import abs as _abs
        from .elementwise import sign

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
            if self.even_ties:
                hits = hits / xp.maximum(hits.sum(axis=self.axes, keepdims=True), 1)
            return sign(x) * constant(hits)
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


def _truth(input: Tensor, dim, keepdim: bool, op: str) -> Tensor:
    """all/any over ``dim``: None reduces every dim, an int or a tuple those dims, and an empty
    tuple none (torch's convention for all/any, unlike sum's)."""
    xp = array_module(input._data)
    axes = () if isinstance(dim, (tuple, list)) and not dim else _dims(dim, input.ndim, op)
    return wrap(xp.asarray(getattr(xp, op)(input._data, axis=axes, keepdims=keepdim)))


@tensor_method()
def all(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over ``dim`` (all when None; an int or a tuple) is non-zero; not
    differentiable."""
    return _truth(input, dim, keepdim, "all")


@tensor_method()
def any(input: Tensor, dim=None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over ``dim`` (all when None; an int or a tuple) is non-zero; not
    differentiable."""
    return _truth(input, dim, keepdim, "any")


@tensor_method()
def count_nonzero(input: Tensor, dim=None) -> Tensor:
    """The number of non-zero elements over ``dim`` (all when None or ()), as int64; not differentiable."""
    xp = array_module(input._data)
    axes = _dims(dim, input.ndim, "count_nonzero")
    return wrap(xp.asarray(xp.count_nonzero(input._data, axis=axes if input.ndim else None), dtype=np.int64))


class NanToZero(_Unary):
    """x with NaN read as 0: the summand of nansum and nanmean. Its derivative (1 at numbers, 0 at
    NaN) multiplies the gradient, as torch's nansum does, so an infinite gradient at a NaN — that of
    a nanmean over a slice of NaNs only — gives NaN there, as in torch."""

    def forward(self, x):
        xp = array_module(x._data)
        self.is_number = ~xp.isnan(x._data)
        self.derivative_array = self.is_number.astype(x._data.dtype)
        return xp.where(self.is_number, x._data, 0).astype(x._data.dtype, copy=False)

    def derivative(self):
        return constant(self.derivative_array)


@tensor_method()
def nansum(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Σ over ``dim`` (all when None or ()) reading NaN as 0; integers and bools sum to int64."""
    x = input if dtype is None else input.to(dtype)
    if dtypes.is_floating_point(x._data.dtype):
        x = NanToZero.apply(x)
    return sum(x, dim, keepdim)


@tensor_method()
def nanmean(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """Mean over ``dim`` (all when None or ()) of the elements that are not NaN; NaN where there are
    none. Floating input only (``dtype`` casts it afterwards), as torch."""
    if not dtypes.is_floating_point(input._data.dtype):  # also with dtype=, as torch
        raise TypeError(f"nanmean(): expected a floating point input, got {input.dtype}; convert it with .float()")
    x = input if dtype is None else input.to(dtype)
    xp = array_module(x._data)
    axes = _dims(dim, x.ndim, "nanmean")
    count = xp.sum(~xp.isnan(x._data), axis=axes, keepdims=keepdim).astype(x._data.dtype)
    return nansum(x, dim, keepdim) / constant(count)


def _moments(input: Tensor, dim, unbiased, keepdim: bool, correction, op: str, spread) -> tuple[Tensor, Tensor]:
    dim, corr = _var_args(dim, unbiased, correction, op)
    return spread(input, dim, keepdim=keepdim, correction=corr), mean(_floating(input), dim, keepdim)


@dim_aliases
def var_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple[Tensor, Tensor]:
    """(var, mean) over ``dim``, arguments as :func:`var` (``correction=``, legacy ``unbiased=``)."""
    return _moments(input, dim, unbiased, keepdim, correction, "var_mean", var)


@dim_aliases
def std_mean(input: Tensor, dim=None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction=None) -> tuple[Tensor, Tensor]:
    """(std, mean) over ``dim``, arguments as :func:`std` (``correction=``, legacy ``unbiased=``)."""
    return _moments(input, dim, unbiased, keepdim, correction, "std_mean", std)


class MinMaxResult(NamedTuple):
    min: Tensor
    max: Tensor


@tensor_method()
def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> MinMaxResult:
    """(min, max) over one ``dim`` (all when None) as :func:`amin` and :func:`amax`: ties share
    the gradient evenly."""
    if isinstance(dim, (tuple, list)):
        raise TypeError(f"aminmax(): dim must be an int or None, got {dim!r}")
    return MinMaxResult(amin(input, dim, keepdim), amax(input, dim, keepdim))


@dim_aliases
def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along ``dim``: Σ (x_{i+1} − x_i)(y_i + y_{i+1}) / 2.

    Args:
        y: the values; at least 1-d, not bool.
        x: the sample points, 1-d (one per element along ``dim``) or broadcastable with ``y``.
        dx: a constant spacing instead of ``x`` (1 when neither is given).
        dim: the dimension to integrate along.

    Shape:
        ``y``'s shape without ``dim``; an empty ``dim`` gives zeros.

    Example::

        >>> fk.trapezoid(fk.tensor([1.0, 2.0, 4.0]), dx=0.5)
        tensor(2.2500)
    """
    if x is not None and dx is not None:
        raise TypeError("trapezoid(): pass either the sample points x or the spacing dx, not both")
    if y.ndim == 0:
        raise IndexError(f"trapezoid: dimension specified as {dim} but tensor has no dimensions")
    d = _norm_dim(dim, y.ndim, "trapezoid")
    if y._data.dtype.kind == "b" or (x is not None and x._data.dtype.kind == "b"):
        raise TypeError("trapezoid(): y and x must not be bool tensors; convert them with .float()")
    if y.shape[d] == 0:
        xp = array_module(y._data)
        return wrap(xp.zeros(y.shape[:d] + y.shape[d + 1:], y._data.dtype))
    if x is None:  # torch's order of operations, so that values agree to the last bit
        ends = select(y, d, 0) + select(y, d, -1)
        return (sum(y, d) - ends * 0.5) * (1.0 if dx is None else dx)
    if x.ndim == 1:
        if x.shape[0] != y.shape[d]:
            raise shape_error("trapezoid", y.shape, x.shape,
                              hint=f"a 1-d x needs one sample point for each of the {y.shape[d]} values along dim {d}")
        x = reshape(x, tuple(y.shape[d] if i == d else 1 for i in range(y.ndim)))
    elif x.ndim < y.ndim:
        x = reshape(x, (1,) * (y.ndim - x.ndim) + tuple(x.shape))
    n = y.shape[d]
    spacing = narrow(x, d, 1, x.shape[d] - 1) - narrow(x, d, 0, x.shape[d] - 1)
    return sum(spacing * (narrow(y, d, 1, n - 1) + narrow(y, d, 0, n - 1)), d) / 2.0


trapz = trapezoid  # torch's older name

# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "count_nonzero", "cummax", "cummin",
           "cumprod", "cumsum", "diff", "logcumsumexp", "logsumexp", "max", "mean", "min", "nanmean", "nansum",
           "norm", "prod", "std", "std_mean", "sum", "trapezoid", "trapz", "var", "var_mean"]
