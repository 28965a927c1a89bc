"""Helpers shared by the op families: turning operands into tensors, dims, error messages."""
from __future__ import annotations

import builtins
import functools
import inspect
from collections.abc import Callable

import numpy as np

from .. import dtypes
from ..backends import array_module
from ..errors import ShapeError
from ..tensor import Tensor, _norm_dim, _norm_dims, wrap

__all__ = ["lift", "operands", "shape_error", "_norm_dim", "_norm_dims", "fmt", "tensor_method"]


def tensor_method(*names: str, reflected: tuple[str, ...] = ()):
    """Declare, right above an op's function, the Tensor methods and operators that call it.

    ``@tensor_method()`` makes ``x.exp()`` call ``exp(x)`` (the function's own name);
    ``@tensor_method("mul", "__mul__", reflected=("__rmul__",))`` also binds ``x * y`` and, for
    ``reflected`` names, the swapped call ``y * x → mul(x, y)`` with ``self`` second. A function with a
    ``dim`` or ``keepdim`` parameter also takes NumPy's ``axis=``/``keepdims=`` (:func:`dim_aliases`);
    the function returned is also the plain ``fukaku.exp``.
    """
    def declare(fn):
        fn = dim_aliases(fn)
        for name in names or (fn.__name__,):
            setattr(Tensor, name, fn)
        for name in reflected:
            setattr(Tensor, name, _swapped(fn))
        return fn

    return declare


def dim_aliases(fn):
    """Let ``fn`` take NumPy's ``axis=`` for its ``dim=`` and ``keepdims=`` for its ``keepdim=``, as
    PyTorch's reductions do: ``x.sum(axis=1, keepdims=True)``, ``x.max(axis=0).values``. Only the
    parameters ``fn`` has get an alias; a name given together with its alias is a TypeError.

    Example::

        @dim_aliases
        def cat(tensors, dim=0): ...
    """
    params = inspect.signature(fn).parameters
    pairs = tuple((alias, name) for alias, name in (("axis", "dim"), ("keepdims", "keepdim")) if name in params)
    if not pairs:
        return fn

    @functools.wraps(fn)
    def accepting_aliases(*args, **kwargs):
        if kwargs:
            for alias, name in pairs:
                if alias in kwargs:
                    if name in kwargs:
                        raise TypeError(f"{fn.__name__}(): got both {name}= and its alias {alias}=; pass one")
                    kwargs[name] = kwargs.pop(alias)
        return fn(*args, **kwargs)

    return accepting_aliases


def _swapped(fn):
    def method(self, other):
        return fn(other, self)

    return named(method, f"r{fn.__name__}", f"``other {fn.__name__} self``: :func:`{fn.__name__}` with the operands "
                 "swapped.")


def named(fn: Callable, name: str, doc: str) -> Callable:
    """``fn``, made by a factory, renamed ``name`` and documented by ``doc``, so ``help()`` and tracebacks
    show the op a user called rather than the factory's inner function."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


def autocast_will_cast(t: Tensor) -> bool:
    """Whether an autocast region of ``t``'s device is open in this thread: the graph node will cast ``t`` and
    its partners to one dtype, so a function's own same-dtype check must let a mismatch through (PyTorch checks
    after autocast has cast). Called only when a check is about to fail: the import costs nothing otherwise."""
    from ..amp.autocast_mode import autocasts  # deferred: fukaku.amp builds on the ops

    return autocasts(t)


def fmt(shape) -> str:
    return str(tuple(shape))


def shape_error(op: str, *shapes, hint: str = "") -> ShapeError:
    listed = " and ".join(fmt(s) for s in shapes)
    return ShapeError(f"{op}: incompatible shapes {listed}" + (f". {hint}" if hint else ""))


def lift(value, like: Tensor) -> Tensor:
    """A non-tensor operand as a tensor, typed the way PyTorch types Python scalars."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (builtins.bool, builtins.int, builtins.float)):
        dt = dtypes.scalar_dtype(value)
        if dtypes.category(dt) <= dtypes.category(like._data.dtype):
            dt = like._data.dtype
        return wrap(array_module(like._data).asarray(value, dtype=dt))
    if isinstance(value, (np.generic, np.ndarray)):
        return wrap(array_module(like._data).asarray(value))
    return Tensor(value)


def operands(a, b) -> tuple[Tensor, Tensor]:
    """Both operands of a binary op as tensors of one dtype (PyTorch's promotion)."""
    if not isinstance(b, Tensor):
        b = lift(b, a)
    elif not isinstance(a, Tensor):
        a = lift(a, b)
    da, db = a._data.dtype, b._data.dtype
    if da != db:
        target = dtypes.promote(da, a._data.ndim, db, b._data.ndim)
        if da != target:
            a = a.to(target)
        if db != target:
            b = b.to(target)
    return a, b


def accumulate(ufunc: str, a: np.ndarray, axis: int) -> np.ndarray:
    """``ufunc.accumulate(a, axis)`` (running max, min, logaddexp…) on any backend.

    NumPy accumulates every binary ufunc; CuPy only ``add`` and ``multiply`` (cumsum, cumprod). Elsewhere the
    scan is Hillis and Steele's: ⌈log₂ n⌉ vectorised steps, step k combining each element with the one 2ᵏ before
    it — O(n log n) work in a few kernels instead of n dependent ones. The ufunc must be associative.

    Example::

        running_max = accumulate("maximum", a, axis=1)
    """
    xp = array_module(a)
    if xp is np or ufunc in ("add", "multiply"):
        return getattr(xp, ufunc).accumulate(a, axis=axis)
    combine = getattr(xp, ufunc)
    out = xp.moveaxis(a, axis, -1).copy()
    shift = 1
    while shift < out.shape[-1]:
        out[..., shift:] = combine(out[..., shift:], out[..., :-shift])  # the right side is a new array
        shift *= 2
    return xp.moveaxis(out, -1, axis)


def in_float32_if_bfloat16(compute: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """``compute(*arrays)``; when one of them is bfloat16, computed on float32 copies of the bfloat16 ones and the
    result rounded to bfloat16, as PyTorch's CPU kernels accumulate bfloat16 in float32 (their opmath type).
    NumPy has no BLAS and no einsum for ml_dtypes' bfloat16 (its matmul returns float32), and its reductions
    would accumulate in bfloat16, whose 8 significant bits stop a running sum from growing past 256 steps.

    Example::

        out = in_float32_if_bfloat16(xp.matmul, a, b)
    """
    for a in arrays:  # a plain loop on the dtype's kind: this runs for every float32 op, so keep it cheap
        if a.dtype.kind == "V" and dtypes.is_bfloat16(a.dtype):
            low = a.dtype
            break
    else:
        return compute(*arrays)
    out = compute(*(a.astype(np.float32) if dtypes.is_bfloat16(a.dtype) else a for a in arrays))
    return out.astype(low, copy=False)


def zeros_where_none(tangents, shapes) -> list[Tensor]:
    """A jvp rule's input tangents with zeros (of the given shapes, in the dtype of a present one) for the
    inputs that carry none, for a rule whose formula needs all of them."""
    template = next(t for t in tangents if t is not None)
    return [template.new_zeros(shape) if t is None else t for t, shape in zip(tangents, shapes, strict=True)]
