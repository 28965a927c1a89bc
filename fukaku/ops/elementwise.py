"""Elementwise ops with broadcasting: arithmetic, powers, exp/log, trig, clamp, max/min, where,
and the dtype conversions (``to``, ``x.float()`` …).

For a unary elementwise op y = f(x) the Jacobian is diagonal, so both rules multiply by the same
local derivative f'(x): vjp = g·f'(x), jvp = ẋ·f'(x). Such ops define ``derivative`` once. Binary
ops sum their gradients back to each input's shape (the adjoint of broadcasting).

Each function declares the Tensor methods and operators that call it (``@tensor_method``), so
``x + y``, ``x.exp()`` and ``x.float()`` are bound here, next to the op.
"""
from __future__ import annotations

import builtins
import math
from collections.abc import Callable

import numpy as np

from .. import dtypes
from ..autograd.function import Function, constant, constant_like
from ..backends import array_module
from ..tensor import Tensor, wrap
from ._special import erf as _erf_array
from ._util import named, operands, shape_error, tensor_method
from .shape import broadcast_to, sum_to


class Cast(Function):
    """Change dtype; the gradient is cast back to the input's dtype."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = dtype

    def forward(self, x: Tensor) -> np.ndarray:
        self.in_dtype = x._data.dtype
        return x._data.astype(self.dtype)

    def vjp(self, grad: Tensor) -> Tensor:
        return Cast.apply(grad, dtype=self.in_dtype)

    def jvp(self, dx: Tensor) -> Tensor:
        return Cast.apply(dx, dtype=self.dtype)


@tensor_method()
def to(input: Tensor, dtype=None, *args, **kwargs) -> Tensor:
    """``x.to(fukaku.float64)``; devices other than 'cpu' are not available in this backend."""
    if isinstance(dtype, Tensor):
        dtype = dtype.dtype
    if isinstance(dtype, str) and dtype in ("cpu",):
        dtype = kwargs.get("dtype", args[0] if args else None)
    if dtype is None:
        dtype = kwargs.get("dtype")
    if dtype is None:
        return input
    dtype = np.dtype(dtype)
    if dtype == input._data.dtype:
        return input
    if input.requires_grad and dtype.kind != "f":
        return wrap(input._data.astype(dtype))  # integer results carry no gradient
    return Cast.apply(input, dtype=dtype)


def _conversion(name: str, dtype: type) -> Callable[[Tensor], Tensor]:
    """The method ``x.<name>()``, PyTorch's shorthand for ``x.to(dtype)``."""
    def convert(self: Tensor) -> Tensor:
        return to(self, dtype)

    return named(convert, name, f"``x.{name}()`` is ``x.to({np.dtype(dtype).name})``.")


tensor_method()(_conversion("half", np.float16))
tensor_method()(_conversion("float", np.float32))
tensor_method()(_conversion("double", np.float64))
tensor_method()(_conversion("int", np.int32))
tensor_method()(_conversion("long", np.int64))
tensor_method()(_conversion("bool", np.bool_))


@tensor_method("type")
def _type(self: Tensor, dtype=None) -> str | Tensor:
    """``x.type()`` names the dtype (``'float32'``); ``x.type(dtype)`` is ``x.to(dtype)``."""
    return self.dtype.name if dtype is None else to(self, dtype)


@tensor_method()
def clone(input: Tensor) -> Tensor:
    """A copy of ``input`` that stays in the graph (``input * 1``), so gradients flow back through it."""
    if input._data.dtype.kind == "b":  # bool * 1 would promote to int64
        return wrap(input._data.copy())
    return input * 1


# ------------------------------------------------------------------------------- binary arithmetic
class _Binary(Function):
    def forward(self, a: Tensor, b: Tensor) -> np.ndarray:
        self.a_shape, self.b_shape = a._data.shape, b._data.shape
        try:
            return self.compute(a, b)
        except ValueError:
            raise shape_error(self.op, a._data.shape, b._data.shape,
                              hint="shapes broadcast when, from the right, each pair of sizes is equal or one of them is 1") from None

    def _out_shape(self) -> tuple[int, ...]:
        return np.broadcast_shapes(self.a_shape, self.b_shape)


class Add(_Binary):
    op = "add"

    def compute(self, a, b):
        return a._data + b._data

    def vjp(self, grad):
        na, nb = self.needs_input_grad
        return (sum_to(grad, self.a_shape) if na else None, sum_to(grad, self.b_shape) if nb else None)

    def jvp(self, da, db):
        if da is None:
            return broadcast_to(db, self._out_shape())
        if db is None:
            return broadcast_to(da, self._out_shape())
        return da + db


class Sub(_Binary):
    op = "sub"

    def compute(self, a, b):
        return a._data - b._data

    def vjp(self, grad):
        na, nb = self.needs_input_grad
        return (sum_to(grad, self.a_shape) if na else None, sum_to(-grad, self.b_shape) if nb else None)

    def jvp(self, da, db):
        if da is None:
            return broadcast_to(-db, self._out_shape())
        if db is None:
            return broadcast_to(da, self._out_shape())
        return da - db


class Mul(_Binary):
    op = "mul"

    def compute(self, a, b):
        self.save(a, b)
        return a._data * b._data

    def vjp(self, grad):
        a, b = self.saved
        na, nb = self.needs_input_grad
        return (sum_to(grad * b, self.a_shape) if na else None, sum_to(grad * a, self.b_shape) if nb else None)

    def jvp(self, da, db):
        a, b = self.saved
        terms = [t for t in (da * b if da is not None else None, a * db if db is not None else None) if t is not None]
        return broadcast_to(terms[0] + terms[1] if len(terms) == 2 else terms[0], self._out_shape())


class Div(_Binary):
    op = "div"

    def compute(self, a, b):
        self.save(a, b)
        return a._data / b._data

    def vjp(self, grad):
        a, b = self.saved
        na, nb = self.needs_input_grad
        ga = sum_to(grad / b, self.a_shape) if na else None
        gb = sum_to(-grad * a / (b * b), self.b_shape) if nb else None
        return ga, gb

    def jvp(self, da, db):
        a, b = self.saved
        out = da / b if da is not None else None
        if db is not None:
            term = -db * a / (b * b)
            out = term if out is None else out + term
        return broadcast_to(out, self._out_shape())


def _float_operands(a, b):
    a, b = operands(a, b)
    if a._data.dtype.kind != "f":  # true division of integers gives floats, as in torch
        a, b = a.to(dtypes.get_default_dtype()), b.to(dtypes.get_default_dtype())
    return a, b


def _scaled(node: type[Function], input, other, alpha) -> Tensor:
    """``node(input, alpha * other)``: add and sub with PyTorch's ``alpha``."""
    a, b = operands(input, other)
    return node.apply(a, b if alpha == 1 else b * alpha)


@tensor_method("add", "__add__", reflected=("__radd__",))
def add(input, other, alpha=1) -> Tensor:
    """``input + alpha * other``, broadcasting; either operand may be a Python number."""
    return _scaled(Add, input, other, alpha)


@tensor_method("sub", "__sub__", reflected=("__rsub__",))
def sub(input, other, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting; either operand may be a Python number."""
    return _scaled(Sub, input, other, alpha)


@tensor_method("mul", "__mul__", reflected=("__rmul__",))
def mul(input, other) -> Tensor:
    """``input * other`` elementwise, broadcasting."""
    return Mul.apply(*operands(input, other))


@tensor_method("div", "__truediv__", reflected=("__rtruediv__",))
def div(input, other, rounding_mode: str | None = None) -> Tensor:
    """``input / other`` (true division: integers give floats); ``rounding_mode`` 'floor' or
    'trunc' rounds the quotient and is not differentiable."""
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        a, b = operands(input, other)
        out = getattr(array_module(a._data, b._data), rounding_mode)(a._data / b._data)
        return wrap(out.astype(a._data.dtype) if a._data.dtype.kind != "f" else out)
    return Div.apply(*_float_operands(input, other))


class Neg(Function):
    def forward(self, x):
        return -x._data

    def vjp(self, grad):
        return -grad

    def jvp(self, dx):
        return -dx


@tensor_method("neg", "__neg__")
def neg(input: Tensor) -> Tensor:
    """``-input``."""
    return Neg.apply(input)


@tensor_method("__pos__")
def positive(input: Tensor) -> Tensor:
    """``+x`` is ``x`` itself, as in PyTorch."""
    return input


class Pow(_Binary):
    """x ** y with a tensor exponent; d/dy = x^y log x (0 where x = 0 and y >= 0, as torch)."""

    op = "pow"

    def compute(self, a, b):
        self.save(a, b)
        return array_module(a._data, b._data).power(a._data, b._data)

    saves_output = True

    def _dbase(self, a, b):
        """y·x^(y-1), and 0 where y == 0 (x^0 is constant even at x = 0)."""
        zero_exp = constant(b._data == 0)
        return Where.apply(zero_exp, constant_like(0, a._data), b * a ** (b - 1.0))

    def _dexp(self, a, b):
        """x^y·log x, and 0 where x == 0 and y >= 0 (torch's convention)."""
        zero_base = constant((a._data == 0) & (b._data >= 0))
        safe = Where.apply(zero_base, constant_like(1, a._data), a)
        return Where.apply(zero_base, constant_like(0, a._data), self.output * Log.apply(safe))

    def vjp(self, grad):
        a, b = self.saved
        na, nb = self.needs_input_grad
        return (sum_to(grad * self._dbase(a, b), self.a_shape) if na else None,
                sum_to(grad * self._dexp(a, b), self.b_shape) if nb else None)

    def jvp(self, da, db):
        a, b = self.saved
        out = da * self._dbase(a, b) if da is not None else None
        if db is not None:
            term = db * self._dexp(a, b)
            out = term if out is None else out + term
        return broadcast_to(out, self._out_shape())


class PowScalar(Function):
    """x ** p for a Python number p: the common case, with no gradient for the exponent."""

    def __init__(self, exponent: float) -> None:
        self.exponent = exponent

    def forward(self, x):
        self.save(x)
        return array_module(x._data).power(x._data, self.exponent)

    def derivative(self):
        (x,) = self.saved
        p = self.exponent
        if p == 0:
            return constant(array_module(x._data).zeros_like(x._data))
        if p == 1:
            return constant(array_module(x._data).ones_like(x._data))
        return p * PowScalar.apply(x, exponent=p - 1)

    def vjp(self, grad):
        return grad * self.derivative()

    def jvp(self, dx):
        return dx * self.derivative()


@tensor_method("pow", "__pow__", reflected=("__rpow__",))
def pow(input, exponent) -> Tensor:
    """Elementwise power; ``exponent`` a number or a tensor (``base`` may be a number too)."""
    if isinstance(input, Tensor) and isinstance(exponent, (builtins.int, builtins.float)) and not isinstance(exponent, builtins.bool):
        if input._data.dtype.kind in "iub" and (isinstance(exponent, builtins.float) or exponent < 0):
            input = input.to(dtypes.get_default_dtype())
        return PowScalar.apply(input, exponent=exponent)
    a, b = operands(input, exponent)
    return Pow.apply(a, b)


# ------------------------------------------------------------------------------- unary math
class _Unary(Function):
    """y = f(x) elementwise; subclasses give ``compute`` and ``derivative`` (f'(x) as a tensor)."""

    def vjp(self, grad):
        return grad * self.derivative()

    def jvp(self, dx):
        return dx * self.derivative()


class Exp(_Unary):
    saves_output = True

    def forward(self, x):
        return array_module(x._data).exp(x._data)

    def derivative(self):
        return self.output


class Log(_Unary):
    def forward(self, x):
        self.save(x)
        return array_module(x._data).log(x._data)

    def derivative(self):
        return 1.0 / self.saved[0]


class Log1p(_Unary):
    def forward(self, x):
        self.save(x)
        return array_module(x._data).log1p(x._data)

    def derivative(self):
        return 1.0 / (self.saved[0] + 1.0)


class Sqrt(_Unary):
    saves_output = True

    def forward(self, x):
        return array_module(x._data).sqrt(x._data)

    def derivative(self):
        return 0.5 / self.output


class Rsqrt(_Unary):
    saves_output = True

    def forward(self, x):
        return 1.0 / array_module(x._data).sqrt(x._data)

    def derivative(self):
        y = self.output
        return -0.5 * y * y * y


def _sign(x: np.ndarray) -> np.ndarray:
    """torch.sign: -1, 0 or 1, and 0 for NaN (NumPy's sign gives NaN there)."""
    xp = array_module(x)
    out = xp.asarray(xp.sign(x))
    if out.dtype.kind == "f":
        out = xp.where(xp.isnan(out), 0, out).astype(out.dtype, copy=False)
    return out


class Abs(_Unary):
    """|x|; the derivative is sgn(x): 0 at x = 0 and at NaN, as torch."""

    def forward(self, x):
        self.sign = _sign(x._data)
        return array_module(x._data).abs(x._data)

    def derivative(self):
        return constant(self.sign)


class Sign(Function):
    def forward(self, x):
        return _sign(x._data)

    def vjp(self, grad):
        return grad * 0.0

    def jvp(self, dx):
        return dx * 0.0


class Sin(_Unary):
    def forward(self, x):
        self.save(x)
        return array_module(x._data).sin(x._data)

    def derivative(self):
        return cos(self.saved[0])


class Cos(_Unary):
    def forward(self, x):
        self.save(x)
        return array_module(x._data).cos(x._data)

    def derivative(self):
        return -sin(self.saved[0])


class HyperbolicTangent(_Unary):
    """The node of :func:`tanh` (named apart from the layer ``nn.Tanh``): tanh′ = 1 − tanh²."""

    saves_output = True

    def forward(self, x):
        return array_module(x._data).tanh(x._data)

    def derivative(self):
        y = self.output
        return 1.0 - y * y


class Logistic(_Unary):
    """The node of :func:`sigmoid`, the logistic function (named apart from the layer ``nn.Sigmoid``):
    σ(x) = 1/(1+e^{-x}); σ' = σ(1-σ), at most 0.25 (seed 000 §6.1.3)."""

    saves_output = True

    def forward(self, x):
        return _sigmoid(x._data)

    def derivative(self):
        y = self.output
        return y * (1.0 - y)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """Stable in both tails: e^{-|x|} never overflows."""
    xp = array_module(x)
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


class Erf(_Unary):
    def forward(self, x):
        self.save(x)
        return _erf_array(x._data)

    def derivative(self):
        x = self.saved[0]
        return (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


def _unary(node: type[Function], name: str, doc: str, *, floating: bool = True) -> Callable[[Tensor], Tensor]:
    """The function ``name(input)`` that applies the graph node ``node``; with ``floating``, integer input is
    promoted to the default float dtype first, as PyTorch does for exp, log, sin and the others."""
    def unary(input: Tensor) -> Tensor:
        return node.apply(_floating(input) if floating else input)

    return named(unary, name, doc)


exp = tensor_method()(_unary(Exp, "exp", "e^x elementwise; integer input is promoted to the default float dtype."))
log = tensor_method()(_unary(Log, "log", "Natural logarithm elementwise."))
log1p = tensor_method()(_unary(Log1p, "log1p", "log(1 + x), accurate for small x."))
sqrt = tensor_method()(_unary(Sqrt, "sqrt", "Square root elementwise."))
rsqrt = tensor_method()(_unary(Rsqrt, "rsqrt", "1 / sqrt(x) elementwise."))
abs = tensor_method("abs", "__abs__")(  # noqa: A001
    _unary(Abs, "abs", "|x| elementwise (``abs(x)`` on a tensor).", floating=False))
sign = tensor_method()(_unary(Sign, "sign", "-1, 0 or 1 elementwise (0 at NaN); its gradient is zero.", floating=False))
sin = tensor_method()(_unary(Sin, "sin", "Sine elementwise."))
cos = tensor_method()(_unary(Cos, "cos", "Cosine elementwise."))
tanh = tensor_method()(_unary(HyperbolicTangent, "tanh", "Hyperbolic tangent elementwise."))
sigmoid = tensor_method()(_unary(Logistic, "sigmoid", "The logistic function 1 / (1 + e^{-x}) elementwise."))
erf = tensor_method()(_unary(Erf, "erf", "The error function elementwise."))


def _floating(x) -> Tensor:
    if not isinstance(x, Tensor):
        x = Tensor(x)
    return x if x._data.dtype.kind == "f" else x.to(dtypes.get_default_dtype())


@tensor_method()
def square(input: Tensor) -> Tensor:
    """x² elementwise."""
    return PowScalar.apply(input, exponent=2)


@tensor_method()
def reciprocal(input: Tensor) -> Tensor:
    """1 / x elementwise (integers give floats)."""
    return 1.0 / _floating(input)


# ------------------------------------------------------------------------------- clamp, max/min, where
class Clamp(_Unary):
    """Gradient 1 where min <= x <= max (inclusive, as torch), else 0."""

    def __init__(self, min: float | None, max: float | None) -> None:  # noqa: A002
        self.min = min
        self.max = max

    def forward(self, x):
        lo = -np.inf if self.min is None else self.min
        hi = np.inf if self.max is None else self.max
        self.inside = ((x._data >= lo) & (x._data <= hi)).astype(x._data.dtype)
        return array_module(x._data).clip(x._data, lo, hi).astype(x._data.dtype, copy=False)

    def derivative(self):
        return constant(self.inside)


class ClampTensor(Function):
    """clamp with tensor bounds (torch's ``clamp.Tensor``), broadcasting x, min and max.

    The masks are torch's: the vjp sends the gradient to x where min <= x <= max, to min where
    x < min < max, to max where x > max or max < min. The jvp follows torch's ``clamp_jvp``, which
    on a one-sided clamp gives a tie x == bound to the bound's tangent (the vjp gives it to x).
    """

    def __init__(self, has_min: bool, has_max: bool) -> None:
        self.has_min = has_min
        self.has_max = has_max

    def forward(self, x, *bounds):
        lo = bounds[0] if self.has_min else None
        hi = bounds[-1] if self.has_max else None
        self.shapes = [x._data.shape] + [b._data.shape for b in bounds]
        xd = x._data
        xp = array_module(xd)
        try:
            out_shape = np.broadcast_shapes(*self.shapes)
        except ValueError:
            raise shape_error("clamp", *self.shapes) from None
        out = xd
        if lo is not None:
            out = xp.maximum(out, lo._data)
        if hi is not None:
            out = xp.minimum(out, hi._data)
        if lo is not None and hi is not None:
            l, h = lo._data, hi._data
            masks = [(xd >= l) & (xd <= h), (xd < l) & (l < h), (xd > h) | (h < l)]
            j_hi = (l > h) | ((xd > h) & ~(xd < l))
            j_lo = ~(l > h) & (xd < l)
            jmasks = [~(j_hi | j_lo), j_lo, j_hi]
        elif lo is not None:
            masks = [xd >= lo._data, xd < lo._data]
            jx = xd > lo._data
            jmasks = [jx, ~jx]
        else:
            masks = [xd <= hi._data, xd > hi._data]
            jx = xd < hi._data
            jmasks = [jx, ~jx]
        self.masks = [xp.broadcast_to(m, out_shape) for m in masks]
        self.jmasks = [xp.broadcast_to(m, out_shape) for m in jmasks]
        return out.astype(xd.dtype, copy=False)  # xp.maximum/xp.minimum already broadcast all three

    def vjp(self, grad):
        zero = constant_like(0, grad._data)
        return tuple(sum_to(Where.apply(constant(m), grad, zero), s) if need else None
                     for m, s, need in zip(self.masks, self.shapes, self.needs_input_grad))

    def jvp(self, *tangents):
        out = None
        for m, d in zip(self.jmasks, tangents):
            if d is None:
                continue
            term = Where.apply(constant(m), d, constant_like(0, d._data))
            out = term if out is None else out + term
        return broadcast_to(out, self.masks[0].shape)


@tensor_method("clamp", "clip")
def clamp(input: Tensor, min=None, max=None) -> Tensor:  # noqa: A002
    """Clamp to [min, max]; bounds are numbers or tensors. An integer tensor with a float bound
    gives a float result, as in torch."""
    if min is None and max is None:
        raise ValueError("clamp: at least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        x = input
        bounds = []
        for b in (min, max):
            if b is None:
                continue
            x, b = operands(x, b)
            bounds.append(b)
        bounds = [b if b._data.dtype == x._data.dtype else b.to(x._data.dtype) for b in bounds]
        return ClampTensor.apply(x, *bounds, has_min=min is not None, has_max=max is not None)
    if input._data.dtype.kind in "iub" and any(isinstance(b, builtins.float) for b in (min, max)):
        input = input.to(dtypes.get_default_dtype())
    return Clamp.apply(input, min=min, max=max)


class _Extremum(_Binary):
    """maximum / minimum: the gradient goes to the larger (smaller) input, half to each on a tie.

    The weights are torch's: in reverse mode an input gets the gradient unless it lost the
    comparison, so where either input is NaN (the result is NaN) both get all of it; in forward
    mode the tangent is ḃ + w·(ȧ − ḃ) with w = 1/2 on ties and [a wins] otherwise (ḃ at a NaN).
    """

    def compute(self, a, b):
        x, y = a._data, b._data
        xp = array_module(x, y)
        pick = xp.maximum if self.op == "maximum" else xp.minimum
        a_loses, b_loses = (x < y, x > y) if self.op == "maximum" else (x > y, x < y)
        dtype = np.result_type(x, y)
        if dtype.kind == "f":
            tie = x == y
            self.wa = xp.where(tie, 0.5, ~a_loses).astype(dtype)
            self.wb = xp.where(tie, 0.5, ~b_loses).astype(dtype)
            self.wj = xp.where(tie, 0.5, b_loses).astype(dtype)
        return pick(x, y)

    def vjp(self, grad):
        na, nb = self.needs_input_grad
        return (sum_to(grad * constant(self.wa), self.a_shape) if na else None,
                sum_to(grad * constant(self.wb), self.b_shape) if nb else None)

    def jvp(self, da, db):
        w = constant(self.wj)
        out = da * w if da is not None else None
        if db is not None:
            term = db * (1.0 - w)
            out = term if out is None else out + term
        return broadcast_to(out, self._out_shape())


class Maximum(_Extremum):
    op = "maximum"


class Minimum(_Extremum):
    op = "minimum"


@tensor_method()
def maximum(input, other) -> Tensor:
    """The larger of the two operands elementwise (NaN if either is NaN)."""
    return Maximum.apply(*operands(input, other))


@tensor_method()
def minimum(input, other) -> Tensor:
    """The smaller of the two operands elementwise (NaN if either is NaN)."""
    return Minimum.apply(*operands(input, other))


class Where(Function):
    def forward(self, cond, a, b):
        self.cond = cond._data
        self.a_shape, self.b_shape = a._data.shape, b._data.shape
        try:
            return array_module(cond._data, a._data, b._data).where(cond._data, a._data, b._data)
        except ValueError:
            raise shape_error("where", cond._data.shape, a._data.shape, b._data.shape) from None

    def vjp(self, grad):
        _, na, nb = self.needs_input_grad
        zero = constant_like(0, grad._data)
        c = constant(self.cond)
        return (None,
                sum_to(Where.apply(c, grad, zero), self.a_shape) if na else None,
                sum_to(Where.apply(c, zero, grad), self.b_shape) if nb else None)

    def jvp(self, dc, da, db):
        shape = np.broadcast_shapes(self.cond.shape, self.a_shape, self.b_shape)
        zero = constant_like(0, (da if da is not None else db)._data)
        out = Where.apply(constant(self.cond), zero if da is None else da, zero if db is None else db)
        return broadcast_to(out, shape)


def where(condition, input, other) -> Tensor:
    """``condition ? input : other`` elementwise, with broadcasting."""
    if isinstance(condition, Tensor):
        cond = condition
    else:
        cond = Tensor(array_module(condition).asarray(condition, dtype=bool))
    if cond._data.dtype != np.bool_:
        cond = wrap(cond._data.astype(bool))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = Tensor(input)  # two Python numbers: typed as torch types them (1.0 -> float32, 1 -> int64)
    a, b = operands(input, other)
    return Where.apply(cond, a, b)


@tensor_method("where")
def _where_self_first(self: Tensor, condition, other) -> Tensor:
    """``x.where(condition, y)``: PyTorch's method order for ``where(condition, x, y)``."""
    return where(condition, self, other)


# ------------------------------------------------------------------------------- comparisons (no gradient)
def _compare(ufunc: str, name: str) -> Callable[..., Tensor]:
    """The comparison or logical op ``name``, computed by the array module's ufunc ``ufunc``."""
    def compare(input, other) -> Tensor:
        a, b = operands(input, other)
        try:
            return wrap(getattr(array_module(a._data, b._data), ufunc)(a._data, b._data))
        except ValueError:
            raise shape_error(name, a._data.shape, b._data.shape) from None

    return named(compare, name, f"Elementwise ``{name}`` as a bool tensor (not differentiable).")


eq = tensor_method("eq", "__eq__")(_compare("equal", "eq"))
ne = tensor_method("ne", "__ne__")(_compare("not_equal", "ne"))
lt = tensor_method("lt", "__lt__")(_compare("less", "lt"))
le = tensor_method("le", "__le__")(_compare("less_equal", "le"))
gt = tensor_method("gt", "__gt__")(_compare("greater", "gt"))
ge = tensor_method("ge", "__ge__")(_compare("greater_equal", "ge"))
logical_and = tensor_method("logical_and", "__and__")(_compare("logical_and", "logical_and"))
logical_or = tensor_method("logical_or", "__or__")(_compare("logical_or", "logical_or"))
logical_xor = tensor_method("logical_xor", "__xor__")(_compare("logical_xor", "logical_xor"))


@tensor_method("logical_not", "__invert__")
def logical_not(input: Tensor) -> Tensor:
    """Elementwise NOT as a bool tensor (``~x``)."""
    return wrap(array_module(input._data).logical_not(input._data))


@tensor_method("floor_divide", "__floordiv__", reflected=("__rfloordiv__",))
def floor_divide(input, other) -> Tensor:
    """``input // other``: the quotient rounded down (not differentiable)."""
    return div(input, other, rounding_mode="floor")


@tensor_method("remainder", "__mod__")
def remainder(input, other) -> Tensor:
    """``input % other`` with the sign of ``other``, as Python and PyTorch (not differentiable)."""
    a, b = operands(input, other)
    return wrap(array_module(a._data, b._data).mod(a._data, b._data))


def _piecewise_constant(ufunc: str) -> Callable[[Tensor], Tensor]:
    """The op ``ufunc`` of the array module, whose gradient is zero almost everywhere."""
    def piecewise_constant(input: Tensor) -> Tensor:
        return wrap(getattr(array_module(input._data), ufunc)(input._data))

    return named(piecewise_constant, ufunc,
                 f"``{ufunc}`` elementwise (gradient is zero almost everywhere, so none is recorded).")


floor = tensor_method()(_piecewise_constant("floor"))
ceil = tensor_method()(_piecewise_constant("ceil"))
round = tensor_method()(_piecewise_constant("round"))  # noqa: A001
isnan = tensor_method()(_piecewise_constant("isnan"))
isinf = tensor_method()(_piecewise_constant("isinf"))
isfinite = tensor_method()(_piecewise_constant("isfinite"))


# NumPy's and PyTorch's other names for the same functions (torch.clip is torch.clamp)
clip = clamp
true_divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs

# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["abs", "add", "ceil", "clamp", "cos", "div", "eq", "erf", "exp", "floor", "floor_divide", "ge", "gt",
           "isfinite", "isinf", "isnan", "le", "log", "log1p", "logical_and", "logical_not", "logical_or",
           "logical_xor", "lt", "maximum", "minimum", "mul", "ne", "neg", "pow", "reciprocal", "remainder", "round",
           "rsqrt", "sigmoid", "sign", "sin", "sqrt", "square", "sub", "tanh", "to", "where", "clip", "true_divide",
           "multiply", "subtract", "negative", "absolute"]
