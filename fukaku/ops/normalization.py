"""Normalisation as one graph node: x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β (seed 000 §6.1.4).

Batch and layer normalisation (:mod:`fukaku.nn.functional.normalization`) differ only in the
axes μ and σ² are taken over; both call :func:`normalize`.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .. import dtypes
from ..autograd.function import Function, constant
from ..autograd.grad_mode import state
from ..backends import array_module, caching_allocator
from ..tensor import Tensor, bump_version
from . import _parallel
from .elementwise import rsqrt
from .shape import broadcast_to, sum_to


# ----------------------------------------------------------------------------- normalisation (seed 000 §6.1.4)
class Normalize(Function):
    """y = γ·x̂ + β with x̂ = (x − μ)·r, r = 1/√(σ² + ε), μ and the biased σ² over ``axes``, as one
    node. Its forward pass computes μ and σ² (:func:`statistics`) and, when given running statistics
    (batch and instance norm in training), updates them in place, so that everything a call changes happens
    inside the op (what a forward program of ``fukaku.jit`` replays). Inputs: x, and γ and β (optional)
    already shaped to broadcast against x.

    The Jacobian of x ↦ x̂ is r·(I − 11ᵀ/n − x̂x̂ᵀ/n) within each group of n normalised values; it is
    symmetric, so the vjp and the jvp apply the same map, :func:`_project`. Rules:
    vjp ∂L/∂x = project(g·γ), ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g (sums over the broadcast dims);
    jvp ẏ = project(ẋ)·γ + x̂·γ̇ + β̇.

    With grad mode on (double backward) or a forward-mode level active, the rules run on tensor
    ops (x̂ and r rebuilt from x when x is differentiated), so that they are differentiable
    themselves; in a plain backward they run on the forward pass's arrays, without graph nodes.

    Args:
        axes: the dims μ and σ² are taken over.
        eps: ε, added to σ².
        has_weight: whether γ follows x among the inputs (β, if given, comes last).
        running_mean, running_var: buffers ``(C,)`` updated in place as running ← (1 − m)·running + m·statistic
            (the unbiased σ² for ``running_var``), or None.
        momentum: m; None for the cumulative average, m = 1/(n + 1) with n read from ``counter``.
        counter: the count of batches seen (a 0-d buffer, ``num_batches_tracked``), advanced by one, or None.
        batch_mean: the statistics are per sample (instance norm): the running ones take their batch mean.
    """

    def __init__(self, axes: tuple[int, ...], eps: float, has_weight: bool, running_mean: Tensor | None = None,
                 running_var: Tensor | None = None, momentum: float | None = 0.1, counter: Tensor | None = None,
                 batch_mean: bool = False) -> None:
        self.axes = axes
        self.eps = eps
        self.has_weight = has_weight
        self.running_mean, self.running_var, self.momentum = running_mean, running_var, momentum
        self.counter, self.batch_mean = counter, batch_mean

    def forward(self, x, *params):
        self.save(x, *params)
        mean, centred, var = statistics(x._data, self.axes)
        if self.running_mean is not None or self.running_var is not None or self.counter is not None:
            self._track(mean, var, math.prod(x.shape[axis] for axis in self.axes))
        xp = array_module(var)
        rstd = self.rstd = 1.0 / xp.sqrt(var + self.eps)
        xhat = self.xhat = centred  # scaled in place: x − μ is this node's own temporary
        weight, bias = (None if p is None else p._data for p in self._split(params))
        affine = [p for p in (weight, bias) if p is not None]
        out = caching_allocator.empty(xhat.shape, xp.result_type(xhat, *affine), xp) if affine else xhat

        def scale(lo: int, hi: int) -> None:
            xh, o = _rows(xhat, lo, hi, xhat.ndim), _rows(out, lo, hi, xhat.ndim)
            xh *= _rows(rstd, lo, hi, xhat.ndim)
            if weight is not None:
                xp.multiply(xh, _rows(weight, lo, hi, xhat.ndim), out=o)
                if bias is not None:
                    o += _rows(bias, lo, hi, xhat.ndim)
            elif bias is not None:
                xp.add(xh, _rows(bias, lo, hi, xhat.ndim), out=o)

        _split_rows(xhat, scale)
        return out

    def _track(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        """Update the running statistics with this batch's (``count`` values per statistic), then the counter."""
        momentum = self.momentum
        if momentum is None:  # cumulative average: the n-th batch weighs 1/n
            momentum = 1.0 / (int(self.counter._data) + 1)
        if self.batch_mean:
            mean, var = mean.mean(axis=0), var.mean(axis=0)
        if self.running_mean is not None:
            moving_average_(self.running_mean, mean, momentum)
        if self.running_var is not None:
            moving_average_(self.running_var, var * (count / (count - 1)), momentum)
        if self.counter is not None:
            self.counter._data += 1
            bump_version(self.counter)

    def _split(self, params):
        """(γ, β) from the inputs after x, either of them None."""
        weight = params[0] if self.has_weight else None
        bias = params[-1] if len(params) > self.has_weight else None
        return weight, bias

    def _factors(self):
        """(x̂, r, γ): arrays in a plain backward, tensors when the rule must be differentiable."""
        x, *params = self.saved
        weight, _ = self._split(params)
        level = state.forward_level
        if not state.grad_enabled and not level:
            return self.xhat, self.rstd, None if weight is None else weight._data
        if (state.grad_enabled and x.requires_grad) or (level and x._tangent is not None and x._tangent[0] == level):
            centred = x - x.mean(self.axes, keepdim=True)
            rstd = rsqrt((centred * centred).mean(self.axes, keepdim=True) + self.eps)
            return centred * rstd, rstd, weight
        return constant(self.xhat), constant(self.rstd), weight

    def vjp(self, grad):
        xhat, rstd, weight = self._factors()
        if not isinstance(xhat, Tensor) and (weight is None or all(weight.shape[a - xhat.ndim + weight.ndim] == 1
                                                                  for a in self.axes if a >= xhat.ndim - weight.ndim)):
            return self._per_channel_vjp(grad._data, xhat, rstd, weight)
        g = grad if isinstance(xhat, Tensor) else grad._data
        needs = self.needs_input_grad
        grads = [_project(g if weight is None else g * weight, xhat, rstd, self.axes) if needs[0] else None]
        if weight is not None:
            grads.append(_reduce_to(g * xhat, weight.shape) if needs[1] else None)
        if len(needs) > 1 + self.has_weight:
            grads.append(_reduce_to(g, self.saved[-1].shape) if needs[-1] else None)
        return tuple(t if isinstance(t, Tensor) or t is None else constant(t) for t in grads)

    def _per_channel_vjp(self, g, xhat, rstd, weight):
        """The plain backward on arrays when γ is constant over the normalised axes (batch and instance norm):
        with the sums Σg and Σg·x̂ over the axes, ∂L/∂β = Σg, ∂L/∂γ = Σg·x̂ and
        ∂L/∂x = a·g − (a·Σg·x̂/n)·x̂ − a·Σg/n, a = γ·r, in two passes over the data."""
        needs, axes, ndim = self.needs_input_grad, self.axes, g.ndim
        n = math.prod(g.shape[a] for a in axes)
        sums = _split_rows(g, lambda lo, hi: (_sum_over(_rows(g, lo, hi, ndim), axes),
                                              _sum_over(_rows(g, lo, hi, ndim), axes, _rows(xhat, lo, hi, ndim))))
        sum_g, sum_gx = (_joined([part[k] for part in sums], axes) for k in (0, 1))
        grads = [None]
        if needs[0]:
            a = rstd if weight is None else rstd * weight
            along_xhat, shift = a * sum_gx * (1.0 / n), a * sum_g * (1.0 / n)
            xp = array_module(g)
            dx = caching_allocator.empty(g.shape, xp.result_type(g, a, xhat), xp)

            def dx_rows(lo: int, hi: int) -> None:
                d = _rows(dx, lo, hi, ndim)
                xp.multiply(_rows(g, lo, hi, ndim), _rows(a, lo, hi, ndim), out=d)
                d -= _rows(xhat, lo, hi, ndim) * _rows(along_xhat, lo, hi, ndim)
                d -= _rows(shift, lo, hi, ndim)

            _split_rows(g, dx_rows)
            grads[0] = dx
        if weight is not None:
            grads.append(_reduce_to(sum_gx, weight.shape) if needs[1] else None)
        if len(needs) > 1 + self.has_weight:
            grads.append(_reduce_to(sum_g, self.saved[-1].shape) if needs[-1] else None)
        return tuple(None if t is None else constant(t) for t in grads)

    def jvp(self, dx, *dparams):
        xhat, rstd, weight = self._factors()
        dweight, dbias = self._split(dparams)
        terms = []
        if dx is not None:
            dxhat = _project(dx, xhat, rstd, self.axes)
            terms.append(dxhat if weight is None else dxhat * weight)
        if dweight is not None:
            terms.append(xhat * dweight)
        if dbias is not None:
            terms.append(dbias)
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return broadcast_to(out, xhat.shape)


def _project(v, xhat, rstd, axes):
    """r·(v − mean(v) − x̂·mean(v·x̂)) over ``axes``, for arrays or for tensors (one formula for both)."""
    if isinstance(v, Tensor):
        def mean(a):
            return a.mean(axes, keepdim=True)
    else:
        scale = 1.0 / math.prod(v.shape[a] for a in axes)
        xp = array_module(v)

        def mean(a):
            return xp.add.reduce(a, axis=axes, keepdims=True) * scale
    return rstd * (v - mean(v) - xhat * mean(v * xhat))


def _reduce_to(a, shape: tuple[int, ...]):
    """Sum ``a`` down to ``shape`` (the adjoint of broadcasting), for an array or a tensor."""
    if isinstance(a, Tensor):
        return sum_to(a, shape)
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
    return array_module(a).add.reduce(a, axis=axes, keepdims=True).reshape(shape) if axes else a


def _sum_over(a: np.ndarray, axes: tuple[int, ...], b: np.ndarray | None = None) -> np.ndarray:
    """Σ a (or Σ a·b, without the product's temporary) over ``axes``, size-1 dims kept. When the axes are the
    trailing dims of a contiguous array, or those and dim 0 (batch, instance and layer norm), as row sums (dot
    products) of the contiguous trailing block by ``einsum``: several times faster than a reduction over several
    axes, and without BLAS, whose idle threads would spin on the cores for a while after the call. Only for NumPy:
    CuPy's einsum costs more host time (160 µs a call on an H200's host) than its reduction, one kernel."""
    xp = array_module(a)
    rest = axes[1:] if axes[:1] == (0,) and 1 not in axes else axes
    start = a.ndim - len(rest)
    if (xp is np and rest and rest == tuple(range(start, a.ndim)) and a.flags.c_contiguous
            and (b is None or (b.flags.c_contiguous and b.dtype == a.dtype and b.shape == a.shape))):
        rows = a.reshape(-1, math.prod(a.shape[start:]))
        sums = (xp.einsum("ij->i", rows) if b is None else xp.einsum("ij,ij->i", rows, b.reshape(rows.shape)))
        sums = sums.reshape(a.shape[:start])
        if rest is not axes:
            sums = xp.add.reduce(sums, axis=0, keepdims=True)
        return sums.reshape(sums.shape + (1,) * len(rest))
    return xp.add.reduce(a if b is None else a * b, axis=axes, keepdims=True)


def _split_rows(a: np.ndarray, kernel: Callable[[int, int], object]) -> list:
    """``kernel(lo, hi)`` over the rows ``lo:hi`` of ``a``'s dim 0, one part per thread when ``a`` is a large NumPy
    array (:func:`~fukaku.ops._parallel.split`), else one call over all of them; the kernels' results in a list.
    Normalisation's passes, several per call, gain from a second core (see :mod:`fukaku.ops._parallel`)."""
    return _parallel.split(a.shape[0] if a.ndim else 1, a.size if array_module(a) is np else 0, kernel)


def _rows(a: np.ndarray, lo: int, hi: int, ndim: int) -> np.ndarray:
    """An operand's share of the rows ``lo:hi`` of a pass over ``ndim``-dim arrays: ``a[lo:hi]``, or all of ``a``
    when it broadcasts along dim 0 (fewer dims, or size 1 there)."""
    return a[lo:hi] if a.ndim == ndim and ndim and a.shape[0] != 1 else a


def _joined(parts: list[np.ndarray], axes: tuple[int, ...]) -> np.ndarray:
    """Per-part sums over ``axes`` (size-1 dims kept) as the whole's: added when the sum runs over dim 0 too,
    else put one after the other along dim 0."""
    if len(parts) == 1:
        return parts[0]
    if 0 in axes:
        total = parts[0] + parts[1]
        for part in parts[2:]:
            total += part
        return total
    return array_module(parts[0]).concatenate(parts)


def is_mixed_precision(x: Tensor, param: Tensor | None) -> bool:
    """Whether ``x`` is float16/bfloat16 and ``param`` (γ or β) float32: PyTorch's mixed-dtype normalisation,
    what an autocast region produces (half activations, float32 parameters)."""
    return param is not None and param.dtype is dtypes.float32 and x.dtype in (dtypes.float16, dtypes.bfloat16)


def normalize_over(x: Tensor, axes: tuple[int, ...], eps: float, weight: Tensor | None = None,
                   bias: Tensor | None = None, **running) -> Tensor:
    """γ·(x − μ)/√(σ² + ε) + β over ``axes`` (γ and β broadcast against x, or None), one :class:`Normalize`
    node; ``running`` are its running-statistics arguments (``running_mean``, ``running_var``, ``momentum``,
    ``counter``, ``batch_mean``), updated in its forward pass. A float16/bfloat16 x with float32 γ/β, and any
    bfloat16 x, is normalised in float32 and the result returned in x's dtype, as PyTorch's mixed-dtype kernels
    do (μ and σ² stay float32, like the running statistics)."""
    if dtypes.is_bfloat16(x._data.dtype) or is_mixed_precision(x, weight if weight is not None else bias):
        # bfloat16 as torch's CPU kernels compute it, in float32 (NumPy has no einsum for it, which _sum_over uses)
        weight, bias = (None if p is None else p.float() for p in (weight, bias))
        return normalize_over(x.float(), axes, eps, weight, bias, **running).to(x.dtype)
    params = [t for t in (weight, bias) if t is not None]
    return Normalize.apply(x, *params, axes=axes, eps=eps, has_weight=weight is not None, **running)


def moving_average_(running: Tensor, value: np.ndarray, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·value, in place (a buffer: no graph)."""
    data = running._data
    data *= 1.0 - momentum
    data += momentum * value.reshape(data.shape)
    bump_version(running)


def statistics(a: np.ndarray, axes: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(μ, x − μ, σ²) of ``a`` over ``axes`` (the biased σ²; μ and σ² with size-1 dims kept), each pass split
    over the threads. x − μ comes from the caching allocator: it becomes the normalised output's x̂."""
    # a sum times 1/n (_sum_over): np.mean's generic machinery costs more than the sum on layer-sized arrays
    scale = 1.0 / math.prod(a.shape[axis] for axis in axes)
    ndim = a.ndim
    mean = _joined(_split_rows(a, lambda lo, hi: _sum_over(_rows(a, lo, hi, ndim), axes)), axes) * scale
    xp = array_module(a)
    centred = caching_allocator.empty(a.shape, xp.result_type(a, mean), xp)

    def centre(lo: int, hi: int) -> np.ndarray:
        part = _rows(centred, lo, hi, ndim)
        xp.subtract(_rows(a, lo, hi, ndim), _rows(mean, lo, hi, ndim), out=part)
        return _sum_over(part, axes, part)

    var = _joined(_split_rows(a, centre), axes) * scale
    return mean, centred, var
