"""In-place ops — ``x.add_(y)``, ``x += y``, ``x[i] = v``, ``x.relu_()``, ``x.zero_()`` — recorded in the
graph as PyTorch records them.

An in-place op writes its result into the target's array and bumps the target's version (a counter
shared with its views), so a node that saved the old value refuses to run instead of returning a
wrong gradient. When autograd is involved — grad mode is on and the target or an operand requires
grad, or one carries a forward-mode tangent — :func:`apply_inplace` records it:

* the op runs out of place on a copy of the target's current value, standing at the target's place
  in the graph, and the target takes the result's place (its ``grad_fn`` is rebased on the op);
* a target that is a view (``h[:, 0]``, ``h.view(-1)``, ``h.t()``) writes through to its base in
  memory and in the graph: the base's new node, :class:`CopySlices`, sends the gradient of the view's
  region to the op and the rest to the base's earlier history (PyTorch's CopySlices);
* a leaf that requires grad (a parameter), or a view of one, is refused, as in PyTorch: update
  parameters inside ``fukaku.no_grad()``, as optimizers do.

Otherwise — optimizer steps, initialisation, data preparation — the array is updated directly.
Every elementwise op PyTorch gives an in-place twin (``exp_``, ``clamp_``, ``masked_fill_`` …) gets
one here from its out-of-place function (:func:`bind_twins`).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import dtypes
from .._generator import resolve_generator
from ..autograd.function import Function, ViewOf
from ..autograd.grad_mode import no_grad, state
from ..backends import array_module, is_writeable
from ..tensor import Tensor, bump_version, wrap
from ._util import lift, named, shape_error, tensor_method, zeros_where_none
from .index import SetItem, _normalize_key
from .shape import broadcast_to


# ----------------------------------------------------------------------------- the mechanism
def apply_inplace(target: Tensor, op: str, compute: Callable[[Tensor], Tensor], *operands,
                  direct: Callable[[], None] | None = None) -> Tensor:
    """Internal API: make ``target`` hold ``compute(target)``, in place; returns ``target``.

    Args:
        target: the tensor written to.
        op: the public name (``"mul_"``) for errors.
        compute: the out-of-place op as a function of the target's current value.
        operands: the op's other arguments; any tensor among them that requires grad makes the
            op recorded.
        direct: when given, updates ``target._data`` itself on the unrecorded path (a ufunc with
            ``out=``: no temporary array); it must leave the version bump to this function.
    """
    if not _recorded(target, operands):
        if direct is not None:
            _check_writable(target, op)
            direct()
            bump_version(target)
        else:
            with no_grad():
                _write(target, compute(target), op)
        return target
    _refuse_leaf(target, op)
    old = _current_value(target)
    new = compute(old)
    if target.requires_grad and not new.requires_grad:  # overwritten by constants: the gradient is zero
        new = Overwrite.apply(old, value=new._data)
    _write(target, new, op)
    if target._view is None:
        _rebase(target, new)
    else:
        view = target._view
        base = view.base
        _rebase(base, CopySlices.apply(_graph_position(base), new, view=view))
        _rebase(target, view(base))  # the view again, now of the base's new history
    return target


def _recorded(target: Tensor, operands) -> bool:
    """Whether autograd takes part: a tensor involved requires grad (grad mode on) or carries a forward-mode
    tangent of the current level."""
    tensors = [target, *(o for o in operands if isinstance(o, Tensor))]
    if state.grad_enabled and any(t.requires_grad for t in tensors):
        return True
    level = state.forward_level
    return bool(level) and any(t._tangent is not None and t._tangent[0] == level for t in tensors)


def _refuse_leaf(target: Tensor, op: str) -> None:
    base = target if target._view is None else target._view.base
    if base.requires_grad and base.grad_fn is None:
        what = "a leaf tensor" if base is target else "a view of a leaf tensor"
        raise RuntimeError(
            f"{op}: {what} that requires grad is being used in an in-place operation (PyTorch refuses it too): "
            f"its .grad would be the gradient of a value it no longer holds. Update parameters inside "
            f"`with fukaku.no_grad():` (as optimizers do), or use the out-of-place form, x = x.{op.rstrip('_')}(...)")


def _current_value(target: Tensor) -> Tensor:
    """A copy of ``target``'s values at ``target``'s place in the graph: the op's input, unaffected by the write."""
    old = wrap(target._data.copy())
    old.requires_grad, old.grad_fn, old._tangent = target.requires_grad, target.grad_fn, target._tangent
    return old


def _graph_position(t: Tensor) -> Tensor:
    """``t``'s place in the graph, sharing its array: the input a node takes without copying it."""
    alias = wrap(t._data)
    alias.requires_grad, alias.grad_fn, alias._tangent = t.requires_grad, t.grad_fn, t._tangent
    return alias


def _rebase(target: Tensor, result: Tensor) -> None:
    target.requires_grad, target.grad_fn, target._tangent = result.requires_grad, result.grad_fn, result._tangent


def _check_writable(target: Tensor, op: str) -> None:
    if not is_writeable(target._data):
        raise RuntimeError(f"{op}: the tensor is a broadcast (expanded) view in which several elements share one "
                           "memory location, so it cannot be written in place; write to a clone() instead")


def _write(target: Tensor, new: Tensor, op: str) -> None:
    """Copy ``new``'s values into ``target``'s array (shape kept, dtype cast within its kind) and bump its version."""
    if new.shape != target.shape:
        raise shape_error(op, target.shape, new.shape,
                          hint=f"an in-place op cannot change the shape of its target (the result has shape "
                               f"{tuple(new.shape)}); use the out-of-place form")
    if not np.can_cast(new._data.dtype, target._data.dtype, "same_kind"):
        raise TypeError(f"{op}: result type {new._data.dtype} can't be cast to the desired output type "
                        f"{target._data.dtype}; convert the target first, e.g. x = x.float()")
    _check_writable(target, op)
    target._data[...] = new._data
    bump_version(target)


class Overwrite(Function):
    """The target's new values, ``value``, which do not depend on the old ones (``zero_``, ``fill_``, ``copy_``
    of a constant): a node whose gradient is zero, so the target keeps requiring grad, as in PyTorch."""

    def __init__(self, value: np.ndarray) -> None:
        self.value = value

    def forward(self, old):
        return self.value  # the new values, computed (and shaped) by the op: the node only gives them a place

    def vjp(self, grad):
        return grad * 0

    def jvp(self, d_old):
        return d_old * 0


class CopySlices(Function):
    """``base`` with the region that ``view`` selects replaced by ``src`` (PyTorch's CopySlices).

    The node an in-place op on a view leaves on the view's base: the gradient of the region goes to
    ``src`` (the in-place op's result), the rest to the base's earlier history; both rules are this
    node and the view again, so they differentiate again.
    """

    def __init__(self, view: ViewOf) -> None:
        self.view = view

    def forward(self, base, src):
        self.shapes = base._data.shape, src._data.shape
        out = base._data.copy()
        with no_grad():
            self.view(wrap(out))._data[...] = src._data
        return out

    def vjp(self, grad):
        need_base, need_src = self.needs_input_grad
        g_base = CopySlices.apply(grad, grad.new_zeros(self.shapes[1]), view=self.view) if need_base else None
        return g_base, self.view(grad) if need_src else None

    def jvp(self, d_base, d_src):
        return CopySlices.apply(*zeros_where_none((d_base, d_src), self.shapes), view=self.view)


# ----------------------------------------------------------------------------- arithmetic: x += y
def _ufunc_inplace(target: Tensor, op: str, ufunc: str, value: np.ndarray) -> None:
    """``target._data ∘= value`` with the array module's ``ufunc``, casting only within a kind (as PyTorch)."""
    try:
        getattr(array_module(target._data), ufunc)(target._data, value, out=target._data, casting="same_kind")
    except ValueError:
        raise shape_error(op, target._data.shape, value.shape,
                          hint="an in-place op cannot change the shape of its target") from None
    except TypeError:
        raise TypeError(f"{op}: result type {np.result_type(target._data, value)} can't be cast to the desired "
                        f"output type {target._data.dtype}") from None


def _arithmetic(op: str, ufunc: str, method: str) -> Callable[..., Tensor]:
    """The in-place twin of the binary op ``method`` (``add``, ``mul`` …), run by ``ufunc`` when not recorded."""
    def inplace(self: Tensor, other, **kwargs) -> Tensor:
        def direct() -> None:
            value = lift(other, self)._data
            alpha = kwargs.get("alpha", 1)
            _ufunc_inplace(self, op, ufunc, value if alpha == 1 else value * alpha)

        by_ufunc = direct if kwargs.keys() <= {"alpha"} else None  # div_(rounding_mode=...) computes out of place
        return apply_inplace(self, op, lambda old: getattr(old, method)(other, **kwargs), other, direct=by_ufunc)

    return named(inplace, op, f"``{method}`` in place: ``self`` becomes ``self.{method}(other)``; returns ``self``.")


add_ = tensor_method("add_", "__iadd__")(_arithmetic("add_", "add", "add"))
sub_ = tensor_method("sub_", "__isub__")(_arithmetic("sub_", "subtract", "sub"))
mul_ = tensor_method("mul_", "__imul__")(_arithmetic("mul_", "multiply", "mul"))
div_ = tensor_method("div_", "__itruediv__")(_arithmetic("div_", "true_divide", "div"))
pow_ = tensor_method("pow_", "__ipow__")(_arithmetic("pow_", "power", "pow"))


# ----------------------------------------------------------------------------- writes: fill, copy, x[key] = v
def _overwrite(self: Tensor, op: str, values, *operands) -> Tensor:
    """``self`` filled with ``values`` (an array or number broadcast to its shape), which do not depend on it."""
    def compute(old: Tensor) -> Tensor:
        xp = array_module(old._data)
        return wrap(xp.array(xp.broadcast_to(xp.asarray(values, old._data.dtype), old._data.shape)))

    return apply_inplace(self, op, compute, *operands)


@tensor_method()
def zero_(self: Tensor) -> Tensor:
    """Set every element to 0; returns ``self``."""
    return _overwrite(self, "zero_", 0)


@tensor_method()
def fill_(self: Tensor, value) -> Tensor:
    """Set every element to ``value`` (a number, or a one-element tensor whose gradient is the sum of
    the target's); returns ``self``."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(f"fill_: only a one-element tensor can fill, got one of shape {tuple(value.shape)}")
        return apply_inplace(self, "fill_", lambda old: broadcast_to(value.reshape(()), old.shape).to(old.dtype),
                             value)
    return _overwrite(self, "fill_", value)


@tensor_method()
def copy_(self: Tensor, src, non_blocking: bool = False) -> Tensor:
    """Copy ``src`` (broadcast to ``self``'s shape, cast to its dtype) into ``self``; returns ``self``.
    ``non_blocking`` is accepted for PyTorch programs and has no effect on the CPU."""
    src = src if isinstance(src, Tensor) else wrap(array_module(self._data).asarray(src))
    try:
        array_module(self._data).broadcast_shapes(src.shape, self.shape)
    except ValueError:
        raise shape_error("copy_", self.shape, src.shape, hint="src must broadcast to the destination") from None
    return apply_inplace(self, "copy_", lambda old: broadcast_to(src, old.shape).to(old.dtype), src)


@tensor_method("__setitem__")
def setitem(self: Tensor, key, value) -> None:
    """``x[key] = value``, with the keys indexing takes (ints, slices, masks, index tensors)."""
    key, basic = _normalize_key(key, array_module(self._data))

    def direct() -> None:
        self._data[key] = value._data if isinstance(value, Tensor) else value

    def compute(old: Tensor) -> Tensor:
        v = lift(value, old)
        return SetItem.apply(old, v if v._data.dtype == old._data.dtype else v.to(old.dtype), key=key, basic=basic)

    apply_inplace(self, "__setitem__", compute, value, direct=direct)


@tensor_method()
def apply_(self: Tensor, callable: Callable) -> Tensor:  # noqa: A002  (PyTorch's argument name)
    """Replace every element x by ``callable(x)`` in place; returns ``self``. A Python call per element,
    as in PyTorch: slow, for small tensors and quick experiments; the result records no gradient."""
    xp = array_module(self._data)
    return _overwrite(self, "apply_", xp.vectorize(callable, otypes=[self._data.dtype])(self._data))


# ----------------------------------------------------------------------------- random fills
# Each draws from ``generator`` (a fukaku.Generator), else from fukaku's default generator (fukaku.manual_seed).
@tensor_method()
def uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator=None) -> Tensor:
    """Fill with draws from U(a, b); returns ``self``."""
    return _overwrite(self, "uniform_", resolve_generator(generator, "uniform_").uniform(a, b, self._data.shape))


@tensor_method()
def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    """Fill with draws from N(mean, std²); returns ``self``."""
    return _overwrite(self, "normal_", resolve_generator(generator, "normal_").normal(mean, std, self._data.shape))


@tensor_method()
def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    """Fill with 1 with probability ``p`` (a number, or a tensor broadcast to ``self``), else 0; returns ``self``."""
    probability = p._data if isinstance(p, Tensor) else p
    draws = resolve_generator(generator, "bernoulli_").random(self._data.shape) < probability
    return _overwrite(self, "bernoulli_", draws)


@tensor_method()
def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    """Fill with draws from the exponential distribution of rate ``lambd``; returns ``self``."""
    draws = resolve_generator(generator, "exponential_").exponential(1.0 / lambd, self._data.shape)
    return _overwrite(self, "exponential_", draws)


@tensor_method()
def random_(self: Tensor, *bounds, generator=None, **named) -> Tensor:
    """Fill with integers drawn uniformly, as PyTorch: ``random_(to)`` from [0, to), ``random_(from, to)``
    from [from, to), ``random_()`` from [0, 2^mantissa] for floats (every integer exactly representable),
    [0, max] for integers and {0, 1} for bool; returns ``self``."""
    bounds = bounds + tuple(named[k] for k in ("from", "to") if k in named)
    if len(bounds) > 2:
        raise TypeError(f"random_: takes at most two bounds (from, to), got {len(bounds)}")
    dtype = self._data.dtype
    if len(bounds) == 2:
        low, high = bounds
    elif len(bounds) == 1:
        low, high = 0, bounds[0]
    elif dtypes.is_floating_point(dtype):
        low, high = 0, int(2 / dtypes.finfo(dtype).eps) + 1  # 2^(mantissa bits + 1), inclusive
    elif dtype.kind == "b":
        low, high = 0, 2
    else:
        low, high = 0, np.iinfo(dtype).max
    if high is None or high <= low:
        raise ValueError(f"random_: expects 'from' to be less than 'to', got from={low} >= to={high}")
    return _overwrite(self, "random_", resolve_generator(generator, "random_").integers(low, high, self._data.shape))


# ----------------------------------------------------------------------------- twins of out-of-place ops
# PyTorch's in-place methods whose values are those of the out-of-place method of the same name
# without the underscore; each gets its twin here once that method exists.
TWINS = ("abs", "neg", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "square",
         "reciprocal", "sign", "sgn", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "asinh",
         "acosh", "atanh", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "tanh", "sigmoid",
         "relu", "erf", "erfc", "erfinv", "floor", "ceil", "round", "trunc", "fix", "frac", "clamp", "clip",
         "clamp_min", "clamp_max", "nan_to_num", "atan2", "arctan2", "fmod", "remainder", "hypot", "lerp",
         "addcmul", "addcdiv", "heaviside", "copysign", "xlogy", "float_power", "floor_divide", "true_divide",
         "logical_not", "logical_and", "logical_or", "logical_xor", "deg2rad", "rad2deg", "sinc", "logit",
         "masked_fill", "masked_scatter", "index_add", "index_copy", "index_fill", "index_put", "scatter",
         "scatter_add", "scatter_reduce", "put", "tril", "triu", "eq", "ne", "lt", "le", "gt", "ge",
         "multiply", "subtract", "negative", "absolute", "divide", "not_equal", "less", "less_equal", "greater",
         "greater_equal", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
         "bitwise_right_shift", "gcd", "lcm", "cumsum", "cumprod", "renorm", "mvlgamma", "lgamma",
         "digamma", "polygamma", "i0", "baddbmm", "addmm", "addmv", "addbmm", "addr")


def _twin(name: str) -> Callable[..., Tensor]:
    def inplace(self: Tensor, *args, **kwargs) -> Tensor:
        method = getattr(Tensor, name)
        operands = [*args, *kwargs.values()]
        return apply_inplace(self, f"{name}_", lambda old: method(old, *args, **kwargs), *operands)

    return named(inplace, f"{name}_", f"``{name}`` in place: ``self`` becomes ``self.{name}(...)``; returns ``self``.")


def bind_twins() -> list[str]:
    """Give every name of :data:`TWINS` whose out-of-place Tensor method exists its in-place twin ``name_``
    (unless one is defined already); returns the names bound. Called once every op family is imported."""
    bound = []
    for name in TWINS:
        if hasattr(Tensor, name) and not hasattr(Tensor, f"{name}_"):
            tensor_method(f"{name}_")(_twin(name))
            bound.append(f"{name}_")
    return bound


# ----------------------------------------------------------------------------- in-place shape changes
def _reshaped_inplace(name: str) -> Callable[..., Tensor]:
    """The in-place twin of the view op ``name`` (``t_``, ``unsqueeze_`` …): ``self`` takes the view's shape."""
    def inplace(self: Tensor, *args, **kwargs) -> Tensor:
        recorded = _recorded(self, ())
        if recorded:
            _refuse_leaf(self, f"{name}_")
        view = getattr(Tensor, name)(_graph_position(self) if recorded else self, *args, **kwargs)
        self._data, self._view = view._data, None  # (a view that changes shape in place no longer writes through)
        if recorded:
            _rebase(self, view)
        return self

    return named(inplace, f"{name}_",
                 f"``{name}`` in place: ``self`` takes the shape of ``self.{name}(...)``; returns ``self``.")


t_ = tensor_method("t_")(_reshaped_inplace("t"))
transpose_ = tensor_method("transpose_")(_reshaped_inplace("transpose"))
unsqueeze_ = tensor_method("unsqueeze_")(_reshaped_inplace("unsqueeze"))
squeeze_ = tensor_method("squeeze_")(_reshaped_inplace("squeeze"))
swapaxes_ = tensor_method("swapaxes_")(_reshaped_inplace("swapaxes"))
swapdims_ = tensor_method("swapdims_")(_reshaped_inplace("swapdims"))
