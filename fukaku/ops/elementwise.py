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
from .._device import parse_to, place
from ..autograd.function import Function, constant, constant_like
from ..backends import array_module
from ..tensor import Tensor, wrap
from . import _gamma, _parallel, _special
from ._util import in_float32_if_bfloat16, named, operands, shape_error, tensor_method
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


class ToDevice(Function):
    """Copy to another device (host ↔ GPU); the gradient is copied back to the input's device."""

    def __init__(self, device) -> None:
        self.device = device

    def forward(self, x: Tensor):
        self.source = x.device
        return place(x._data, self.device)

    def vjp(self, grad: Tensor) -> Tensor:
        return ToDevice.apply(grad, device=self.source)

    def jvp(self, dx: Tensor) -> Tensor:
        return ToDevice.apply(dx, device=self.device)


@tensor_method()
def to(input: Tensor, *args, **kwargs) -> Tensor:
    """``x.to(dtype)``, ``x.to(device)``, ``x.to(device, dtype)``, ``x.to(other)`` (other's dtype and
    device), each optionally followed by ``non_blocking`` and ``copy``, or all as keywords — as
    ``torch.Tensor.to``.

    Returns ``input`` itself when nothing changes, unless ``copy=True``. A dtype change is recorded
    (the gradient is cast back), except to an integer or bool dtype, which carries no gradient; so is
    a move to another device (the gradient is moved back). Devices: the CPU, and CUDA devices when
    ``fukaku.cuda.is_available()`` (others raise :class:`fukaku.DeviceError`).
    """
    device, dtype, copy = _to_args(args, kwargs)
    if device is not None and device != input.device:
        input, copy = ToDevice.apply(input, device=device), False  # the move copied already
    if dtype is None or dtype == input._data.dtype:
        return clone(input) if copy else input
    if input.requires_grad and not (dtype.is_floating_point or dtype.is_complex):
        return wrap(input._data.astype(dtype))  # integer results carry no gradient
    return Cast.apply(input, dtype=dtype)


def _to_args(args: tuple, kwargs: dict):
    """The target device, dtype (each None when not given) and copy flag of a ``to`` call."""
    if len(args) == 1 and not kwargs and isinstance(args[0], dtypes.dtype):
        return None, args[0], False  # the common case, x.to(fukaku.float64), without the full parse
    device, dtype, _, copy = parse_to(args, kwargs, "Tensor.to")
    return device, dtype, copy


def _conversion(name: str, dtype: dtypes.dtype) -> Callable[[Tensor], Tensor]:
    """The method ``x.<name>()``, PyTorch's shorthand for ``x.to(dtype)``."""
    def convert(self: Tensor, memory_format=None) -> Tensor:
        return to(self, dtype)

    return named(convert, name, f"``x.{name}()`` is ``x.to({dtype!r})``.")


for _name, _dtype in [("half", dtypes.float16), ("bfloat16", dtypes.bfloat16), ("float", dtypes.float32),
                      ("double", dtypes.float64), ("cfloat", dtypes.complex64), ("cdouble", dtypes.complex128),
                      ("char", dtypes.int8), ("byte", dtypes.uint8), ("short", dtypes.int16), ("int", dtypes.int32),
                      ("long", dtypes.int64), ("bool", dtypes.bool_)]:
    tensor_method()(_conversion(_name, _dtype))


@tensor_method("type")
def _type(self: Tensor, dtype=None, non_blocking: bool = False, **kwargs) -> str | Tensor:
    """``x.type()`` names the tensor type, as PyTorch does (``'fukaku.FloatTensor'`` for float32);
    ``x.type(dtype)``, ``x.type('fukaku.DoubleTensor')`` (or ``'torch.DoubleTensor'``) and
    ``x.type(fukaku.DoubleTensor)`` are ``x.to(that dtype)``."""
    if dtype is None:
        return dtypes.tensor_type_name(self.dtype)
    if isinstance(dtype, str):
        named_type = dtypes.from_tensor_type_name(dtype)
        if named_type is None:
            raise ValueError(f"invalid type: {dtype!r}; expected a tensor type such as 'fukaku.FloatTensor'")
        dtype = named_type
    elif isinstance(getattr(dtype, "_dtype", None), dtypes.dtype):  # fukaku.FloatTensor & co.
        dtype = dtype._dtype
    return to(self, dtype, non_blocking)


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


class _Elementwise(_Binary):
    """z = f(a, b) elementwise with broadcasting; subclasses give ``along_a(t)`` = t·∂z/∂a and
    ``along_b(t)`` = t·∂z/∂b (the binary form of :class:`_Unary`'s ``derivative``).

    Each input's Jacobian is diagonal up to broadcasting, so the same products give both rules:
    the vjp sums them back to each input's shape, the jvp adds them.
    """

    def along_a(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def along_b(self, t: Tensor) -> Tensor:
        raise NotImplementedError

    def vjp(self, grad):
        na, nb = self.needs_input_grad
        return (sum_to(self.along_a(grad), self.a_shape) if na else None,
                sum_to(self.along_b(grad), self.b_shape) if nb else None)

    def jvp(self, da, db):
        terms = [along(d) for along, d in ((self.along_a, da), (self.along_b, db)) if d is not None]
        return broadcast_to(terms[0] if len(terms) == 1 else terms[0] + terms[1], self._out_shape())


class Add(_Binary):
    op = "add"

    def compute(self, a, b):
        return _parallel.binary(array_module(a._data, b._data).add, a._data, b._data)

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


class Mul(_Elementwise):
    op = "mul"

    def compute(self, a, b):
        self.save(a, b)
        return a._data * b._data

    def along_a(self, t):
        return t * self.saved[1]

    def along_b(self, t):
        return self.saved[0] * t


class Div(_Elementwise):
    op = "div"

    def compute(self, a, b):
        self.save(a, b)
        return a._data / b._data

    def along_a(self, t):
        return t / self.saved[1]

    def along_b(self, t):
        a, b = self.saved
        return -t * a / (b * b)


def _float_operands(a, b):
    a, b = operands(a, b)
    if not dtypes.is_floating_point(a._data.dtype):  # true division of integers gives floats, as in torch
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


@tensor_method("sub", "__sub__", "subtract", reflected=("__rsub__",))
def sub(input, other, alpha=1) -> Tensor:
    """``input - alpha * other``, broadcasting; either operand may be a Python number."""
    return _scaled(Sub, input, other, alpha)


@tensor_method("mul", "__mul__", "multiply", reflected=("__rmul__",))
def mul(input, other) -> Tensor:
    """``input * other`` elementwise, broadcasting."""
    return Mul.apply(*operands(input, other))


@tensor_method("div", "__truediv__", "true_divide", reflected=("__rtruediv__",))
def div(input, other, rounding_mode: str | None = None) -> Tensor:
    """``input / other`` (true division: integers give floats); ``rounding_mode`` 'floor' or
    'trunc' rounds the quotient and is not differentiable."""
    if rounding_mode is not None:
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
        a, b = operands(input, other)
        out = getattr(array_module(a._data, b._data), rounding_mode)(a._data / b._data)
        return wrap(out.astype(a._data.dtype) if not dtypes.is_floating_point(a._data.dtype) else out)
    return Div.apply(*_float_operands(input, other))


class Neg(Function):
    def forward(self, x):
        return -x._data

    def vjp(self, grad):
        return -grad

    def jvp(self, dx):
        return -dx


@tensor_method("neg", "__neg__", "negative")
def neg(input: Tensor) -> Tensor:
    """``-input``."""
    return Neg.apply(input)


@tensor_method("__pos__")
def positive(input: Tensor) -> Tensor:
    """``+x`` is ``x`` itself, as in PyTorch."""
    return input


class Pow(_Elementwise):
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

    def along_a(self, t):
        return t * self._dbase(*self.saved)

    def along_b(self, t):
        return t * self._dexp(*self.saved)


class PowScalar(Function):
    """x ** p for a Python number p: the common case, with no gradient for the exponent."""

    def __init__(self, exponent: float) -> None:
        self.exponent = exponent

    def forward(self, x):
        self.save(x)
        # a float exponent turns bfloat16 into float32 (ml_dtypes): computed there, rounded once, as torch
        return array_module(x._data).power(x._data, self.exponent).astype(x._data.dtype, copy=False)

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


class _Ufunc(_Unary):
    """y = f(x) by the array module's function named ``ufunc``; x is saved for ``derivative``
    unless the op sets ``saves_output`` (its derivative needs only y)."""

    ufunc: str

    def forward(self, x):
        if not self.saves_output:
            self.save(x)
        return self.compute(x._data)

    def compute(self, a: np.ndarray) -> np.ndarray:
        return getattr(array_module(a), self.ufunc)(a)


class Exp(_Ufunc):
    ufunc = "exp"
    saves_output = True

    def derivative(self):
        return self.output


class Exp2(_Ufunc):
    """2^x; derivative 2^x·ln 2."""

    ufunc = "exp2"
    saves_output = True

    def derivative(self):
        return self.output * math.log(2.0)


class Expm1(_Ufunc):
    """e^x − 1, accurate for small x; derivative y + 1."""

    ufunc = "expm1"
    saves_output = True

    def derivative(self):
        return self.output + 1.0


class Log(_Ufunc):
    ufunc = "log"

    def derivative(self):
        return 1.0 / self.saved[0]


class Log2(_Ufunc):
    ufunc = "log2"

    def derivative(self):
        return 1.0 / (self.saved[0] * math.log(2.0))


class Log10(_Ufunc):
    ufunc = "log10"

    def derivative(self):
        return 1.0 / (self.saved[0] * math.log(10.0))


class Log1p(_Ufunc):
    ufunc = "log1p"

    def derivative(self):
        return 1.0 / (self.saved[0] + 1.0)


class Sqrt(_Ufunc):
    ufunc = "sqrt"
    saves_output = True

    def derivative(self):
        return 0.5 / self.output


class Rsqrt(_Unary):
    saves_output = True

    def forward(self, x):
        return (1.0 / array_module(x._data).sqrt(x._data)).astype(x._data.dtype, copy=False)

    def derivative(self):
        y = self.output
        return -0.5 * y * y * y


def _sign(x: np.ndarray) -> np.ndarray:
    """torch.sign: -1, 0 or 1, and 0 for NaN (NumPy's sign gives NaN there)."""
    xp = array_module(x)
    out = xp.asarray(xp.sign(x))
    if dtypes.is_floating_point(out.dtype):
        out = xp.where(xp.isnan(out), 0, out).astype(out.dtype, copy=False)
    return out


class Abs(_Unary):
    """|x|; the derivative is sgn(x): 0 at x = 0 and at NaN, as torch."""

    def forward(self, x):
        self.sign = _sign(x._data)
        return array_module(x._data).abs(x._data)

    def derivative(self):
        return constant(self.sign)


class _Flat(Function):
    """An op whose derivative is zero wherever it exists (sign, trunc): torch records it, and its
    gradients and tangents are zeros."""

    def vjp(self, grad):
        return grad * 0.0

    def jvp(self, dx):
        return dx * 0.0


class Sign(_Flat):
    def forward(self, x):
        return _sign(x._data)


class Trunc(_Flat):
    """x rounded toward zero (integers stay integers)."""

    def forward(self, x):
        return array_module(x._data).trunc(x._data)


class Sin(_Ufunc):
    """sin x, x in radians; derivative cos x."""

    ufunc = "sin"

    def derivative(self):
        return cos(self.saved[0])


class Cos(_Ufunc):
    """cos x, x in radians; derivative −sin x."""

    ufunc = "cos"

    def derivative(self):
        return -sin(self.saved[0])


class Tan(_Ufunc):
    """tan x; derivative 1 + tan² x."""

    ufunc = "tan"
    saves_output = True

    def derivative(self):
        y = self.output
        return 1.0 + y * y


class Asin(_Ufunc):
    """arcsin x on [-1, 1]; derivative 1/√(1 − x²)."""

    ufunc = "arcsin"

    def derivative(self):
        x = self.saved[0]
        return rsqrt(1.0 - x * x)


class Acos(_Ufunc):
    """arccos x on [-1, 1]; derivative −1/√(1 − x²)."""

    ufunc = "arccos"

    def derivative(self):
        x = self.saved[0]
        return -rsqrt(1.0 - x * x)


class Atan(_Ufunc):
    """arctan x; derivative 1/(1 + x²)."""

    ufunc = "arctan"

    def derivative(self):
        x = self.saved[0]
        return 1.0 / (x * x + 1.0)


class Sinh(_Ufunc):
    """sinh x = (eˣ − e⁻ˣ)/2; derivative cosh x. Unlike sin and cos, sinh and cosh are each
    other's derivative without a change of sign."""

    ufunc = "sinh"

    def derivative(self):
        return cosh(self.saved[0])


class Cosh(_Ufunc):
    """cosh x = (eˣ + e⁻ˣ)/2 ≥ 1, the curve of a hanging chain (the catenary); derivative sinh x (no
    minus sign, unlike cos)."""

    ufunc = "cosh"

    def derivative(self):
        return sinh(self.saved[0])


class HyperbolicTangent(_Ufunc):
    """The node of :func:`tanh` (named apart from the layer ``nn.Tanh``): tanh′ = 1 − tanh²."""

    ufunc = "tanh"
    saves_output = True

    def derivative(self):
        y = self.output
        return 1.0 - y * y


class Asinh(_Ufunc):
    """arsinh x; derivative 1/√(x² + 1)."""

    ufunc = "arcsinh"

    def derivative(self):
        x = self.saved[0]
        return rsqrt(x * x + 1.0)


class Acosh(_Ufunc):
    """arcosh x on [1, ∞); derivative 1/√(x² − 1)."""

    ufunc = "arccosh"

    def derivative(self):
        x = self.saved[0]
        return rsqrt(x * x - 1.0)


class Atanh(_Ufunc):
    """artanh x on [-1, 1]; derivative 1/(1 − x²)."""

    ufunc = "arctanh"

    def derivative(self):
        x = self.saved[0]
        return 1.0 / (1.0 - x * x)


class Logistic(_Unary):
    """The node of :func:`sigmoid`, the logistic function (named apart from the layer ``nn.Sigmoid``):
    σ(x) = 1/(1+e^{-x}); σ' = σ(1-σ), at most 0.25 (seed 000 §6.1.3)."""

    saves_output = True

    def forward(self, x):
        return _sigmoid(x._data)

    def derivative(self):
        y = self.output
        return y * (1.0 - y)


def _sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """σ(x) = 1/(1 + e^{−x}) in four passes over one buffer (``out``, which may be ``x`` itself; a new array by
    default). Accurate in both tails: e^{−x} overflowing to inf for very negative x gives exactly 0 (as
    torch's float32 sigmoid below −88.7), and 1/(1 + tiny) rounds to 1; no cancellation anywhere."""
    xp = array_module(x)
    out = xp.asarray(xp.negative(x, out=out))   # asarray: a 0-d input gives a scalar, which has no buffer
    with np.errstate(over="ignore"):
        xp.exp(out, out=out)
    out += 1
    return xp.reciprocal(out, out=out)


class Erf(_Ufunc):
    """erf x = (2/√π)∫₀ˣ e^{−t²} dt (from fukaku.ops._special: NumPy has none); derivative
    (2/√π)·e^{−x²}."""

    def compute(self, a):
        return _special.erf(a)

    def derivative(self):
        x = self.saved[0]
        return (2.0 / math.sqrt(math.pi)) * exp(-(x * x))


class Erfc(Erf):
    """erfc x = 1 − erf x, keeping its relative accuracy in the right tail; derivative −(2/√π)·e^{−x²}."""

    def compute(self, a):
        return _special.erfc(a)

    def derivative(self):
        return -super().derivative()


class Erfinv(_Ufunc):
    """The inverse of erf on [-1, 1]; derivative (√π/2)·e^{y²} with y = erfinv x."""

    saves_output = True

    def compute(self, a):
        return _special.erfinv(a)

    def derivative(self):
        y = self.output
        return (math.sqrt(math.pi) / 2.0) * exp(y * y)


class Lgamma(_Ufunc):
    """log|Γ(x)| (from fukaku.ops._gamma: NumPy has none); derivative ψ(x), the digamma function."""

    def compute(self, a):
        return _gamma.lgamma(a)

    def derivative(self):
        return Digamma.apply(self.saved[0])


class Digamma(_Ufunc):
    """ψ(x) = d/dx log Γ(x); derivative ψ′(x) = polygamma(1, x)."""

    def compute(self, a):
        return _gamma.digamma(a)

    def derivative(self):
        return Polygamma.apply(self.saved[0], n=1)


class Polygamma(_Ufunc):
    """ψ⁽ⁿ⁾(x), the n-th derivative of ψ (n ≥ 1 here; n = 0 is :class:`Digamma`); derivative ψ⁽ⁿ⁺¹⁾(x)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def compute(self, a):
        return _gamma.polygamma(self.n, a)

    def derivative(self):
        return Polygamma.apply(self.saved[0], n=self.n + 1)


class Sinc(_Ufunc):
    """The normalised sinc, sin(πx)/(πx) and 1 at x = 0; derivative (πx·cos πx − sin πx)/(πx²),
    0 at x = 0 (as torch; x = 0 is replaced by 1 inside the formula, so no 0/0 is evaluated)."""

    ufunc = "sinc"

    def compute(self, a: np.ndarray) -> np.ndarray:
        # np.sinc multiplies by the Python float π, which makes bfloat16 float32 (ml_dtypes): round it back
        return super().compute(a).astype(a.dtype, copy=False)

    def derivative(self):
        x = self.saved[0]
        zero = constant(x._data == 0)
        x = Where.apply(zero, constant_like(1, x._data), x)
        px = math.pi * x
        slope = (px * cos(px) - sin(px)) / (px * x)
        return Where.apply(zero, constant_like(0, x._data), slope)


class NanToNum(_Unary):
    """NaN, +inf and −inf replaced by numbers; the gradient passes where x is finite and is 0 at the
    replaced entries (torch's rule)."""

    def __init__(self, nan: float, posinf: float | None, neginf: float | None) -> None:
        self.nan = nan
        self.posinf = posinf
        self.neginf = neginf

    def forward(self, x):
        xp = array_module(x._data)
        self.finite = xp.isfinite(x._data).astype(x._data.dtype)
        # the limits spelled out: NumPy's nan_to_num leaves bfloat16 (not a NumPy float) alone, so it runs in float32
        limits = dtypes.finfo(x._data.dtype)
        posinf = limits.max if self.posinf is None else self.posinf
        neginf = limits.min if self.neginf is None else self.neginf
        with np.errstate(over="ignore"):  # a replacement beyond the dtype's range becomes inf, as torch
            return in_float32_if_bfloat16(lambda a: xp.nan_to_num(a, nan=self.nan, posinf=posinf, neginf=neginf),
                                          x._data)

    def derivative(self):
        return constant(self.finite)


def _unary(node: type[Function], name: str, doc: str, *, floating: bool = True) -> Callable[[Tensor], Tensor]:
    """The function ``name(input)`` that applies the graph node ``node``; with ``floating``, integer input is
    promoted to the default float dtype first, as PyTorch does for exp, log, sin and the others."""
    def unary(input: Tensor) -> Tensor:
        return node.apply(_floating(input) if floating else input)

    return named(unary, name, doc)


def _numpy_named(node: type[Function], name: str, numpy_name: str, doc: str) -> Callable[[Tensor], Tensor]:
    """The function ``name`` of :func:`_unary`, a Tensor method under its own name and under NumPy's for it
    (``x.asin()`` and ``x.arcsin()``), which its docstring names."""
    return tensor_method(name, numpy_name)(_unary(node, name, f"{doc} (``{numpy_name}`` is its NumPy name)."))


exp = tensor_method()(_unary(Exp, "exp", "e^x elementwise; integer input is promoted to the default float dtype."))
exp2 = tensor_method()(_unary(Exp2, "exp2", "2^x elementwise."))
expm1 = tensor_method()(_unary(Expm1, "expm1", "e^x − 1 elementwise, accurate for small x."))
log = tensor_method()(_unary(Log, "log", "Natural logarithm elementwise."))
log2 = tensor_method()(_unary(Log2, "log2", "Base-2 logarithm elementwise."))
log10 = tensor_method()(_unary(Log10, "log10", "Base-10 logarithm elementwise."))
log1p = tensor_method()(_unary(Log1p, "log1p", "log(1 + x), accurate for small x."))
sqrt = tensor_method()(_unary(Sqrt, "sqrt", "Square root elementwise."))
rsqrt = tensor_method()(_unary(Rsqrt, "rsqrt", "1 / sqrt(x) elementwise."))
abs = tensor_method("abs", "__abs__", "absolute")(  # noqa: A001
    _unary(Abs, "abs", "|x| elementwise (``abs(x)`` on a tensor; ``absolute`` is its NumPy name).", floating=False))
sign = tensor_method()(_unary(Sign, "sign", "-1, 0 or 1 elementwise (0 at NaN); its gradient is zero.", floating=False))
trunc = tensor_method("trunc", "fix")(_unary(
    Trunc, "trunc", "x rounded toward zero elementwise (integers stay integers; ``fix`` is its other name); its "
    "gradient is zero.", floating=False))
sin = tensor_method()(_unary(Sin, "sin", "Sine elementwise."))
cos = tensor_method()(_unary(Cos, "cos", "Cosine elementwise."))
tan = tensor_method()(_unary(Tan, "tan", "Tangent elementwise."))
asin = _numpy_named(Asin, "asin", "arcsin", "Inverse sine elementwise: NaN outside [-1, 1]")
acos = _numpy_named(Acos, "acos", "arccos", "Inverse cosine elementwise: NaN outside [-1, 1]")
atan = _numpy_named(Atan, "atan", "arctan", "Inverse tangent elementwise")
sinh = tensor_method()(_unary(Sinh, "sinh", "Hyperbolic sine elementwise."))
cosh = tensor_method()(_unary(Cosh, "cosh", "Hyperbolic cosine elementwise."))
tanh = tensor_method()(_unary(HyperbolicTangent, "tanh", "Hyperbolic tangent elementwise."))
asinh = _numpy_named(Asinh, "asinh", "arcsinh", "Inverse hyperbolic sine elementwise")
acosh = _numpy_named(Acosh, "acosh", "arccosh", "Inverse hyperbolic cosine elementwise: NaN below 1")
atanh = _numpy_named(Atanh, "atanh", "arctanh",
                     "Inverse hyperbolic tangent elementwise: ±inf at ±1, NaN outside [-1, 1]")
sigmoid = tensor_method()(_unary(Logistic, "sigmoid", "The logistic function 1 / (1 + e^{-x}) elementwise."))
erf = tensor_method()(_unary(Erf, "erf", "The error function elementwise."))
erfc = tensor_method()(_unary(Erfc, "erfc", "The complementary error function 1 − erf(x) elementwise."))
erfinv = tensor_method()(_unary(
    Erfinv, "erfinv", "The inverse error function elementwise: ±inf at ±1, NaN outside [-1, 1]."))
lgamma = tensor_method()(_unary(Lgamma, "lgamma", "log|Γ(x)| elementwise: +inf at 0 and the negative integers."))
digamma = tensor_method()(_unary(
    Digamma, "digamma", "ψ(x) = d/dx log Γ(x) elementwise: −inf at 0, NaN at the negative integers."))


def polygamma(n: int, input: Tensor) -> Tensor:
    """ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function, elementwise (``polygamma(0, x)`` is
    ``digamma(x)``; ``x.polygamma(n)`` is the method form), as ``torch.polygamma``.

    Example::

        >>> fukaku.polygamma(1, fukaku.tensor([1.0]))  # ψ′(1) = π²/6
        tensor([1.6449])
    """
    if isinstance(n, builtins.bool) or not isinstance(n, (builtins.int, np.integer)) or n < 0:
        raise ValueError(f"polygamma: n must be a non-negative integer, got {n!r}")
    x = _floating(input)
    return Digamma.apply(x) if n == 0 else Polygamma.apply(x, n=builtins.int(n))


@tensor_method("polygamma")
def _polygamma_method(self: Tensor, n: int) -> Tensor:
    """``x.polygamma(n)`` is ``polygamma(n, x)``."""
    return polygamma(n, self)


sinc = tensor_method()(_unary(Sinc, "sinc", "The normalised sinc sin(πx)/(πx) elementwise (1 at x = 0)."))


def _floating(x) -> Tensor:
    if not isinstance(x, Tensor):
        x = Tensor(x)
    return x if dtypes.is_floating_point(x._data.dtype) else x.to(dtypes.get_default_dtype())


@tensor_method()
def square(input: Tensor) -> Tensor:
    """x² elementwise."""
    return PowScalar.apply(input, exponent=2)


@tensor_method()
def reciprocal(input: Tensor) -> Tensor:
    """1 / x elementwise (integers give floats)."""
    return 1.0 / _floating(input)


# ------------------------------------------------------------------------------- binary math
class Atan2(_Elementwise):
    """atan2(a, b), the angle of the point (b, a) in (−π, π]; ∂/∂a = b/(a² + b²) and
    ∂/∂b = −a/(a² + b²), both 0 at the origin (torch's gradient there)."""

    op = "atan2"

    def compute(self, a, b):
        self.save(a, b)
        return array_module(a._data, b._data).arctan2(a._data, b._data)

    def _inverse_radius2(self) -> Tensor:
        """1/(a² + b²), and 0 at the origin (where 1 is divided instead, so no 1/0 is evaluated)."""
        a, b = self.saved
        r2 = a * a + b * b
        origin = constant(r2._data == 0)
        inverse = 1.0 / Where.apply(origin, constant_like(1, r2._data), r2)
        return Where.apply(origin, constant_like(0, r2._data), inverse)

    def along_a(self, t):
        return t * self.saved[1] * self._inverse_radius2()

    def along_b(self, t):
        return t * -self.saved[0] * self._inverse_radius2()


class Hypot(_Elementwise):
    """√(a² + b²) without overflow; ∂/∂a = a/h, ∂/∂b = b/h (NaN at the origin, as torch)."""

    op = "hypot"
    saves_output = True

    def compute(self, a, b):
        self.save(a, b)
        return array_module(a._data, b._data).hypot(a._data, b._data)

    def along_a(self, t):
        return t * self.saved[0] / self.output

    def along_b(self, t):
        return t * self.saved[1] / self.output


class LogAddExp(_Elementwise):
    """log(eᵃ + eᵇ) as torch evaluates it: max(a, b) + log1p(e^{−|a − b|}), and a itself where
    a = b = ±inf; ∂/∂a = 1/(1 + e^{b − a}), ∂/∂b = 1/(1 + e^{a − b})."""

    op = "logaddexp"

    def compute(self, a, b):
        self.save(a, b)
        x, y = a._data, b._data
        xp = array_module(x, y)
        with np.errstate(invalid="ignore"):  # inf − inf where both are infinite: replaced below
            out = xp.maximum(x, y) + self._log1p_power(xp, -xp.abs(x - y))
        return xp.where(xp.isinf(x) & (x == y), x, out)

    def _log1p_power(self, xp, gap: np.ndarray) -> np.ndarray:
        return xp.log1p(xp.exp(gap))

    def _power(self, t: Tensor) -> Tensor:
        return exp(t)

    def along_a(self, t):
        a, b = self.saved
        return t / (1.0 + self._power(b - a))

    def along_b(self, t):
        a, b = self.saved
        return t / (1.0 + self._power(a - b))


class LogAddExp2(LogAddExp):
    """log₂(2ᵃ + 2ᵇ), as :class:`LogAddExp` in base 2; ∂/∂a = 1/(1 + 2^{b − a})."""

    op = "logaddexp2"

    def _log1p_power(self, xp, gap):
        return xp.log1p(xp.exp2(gap)) * (1.0 / math.log(2.0))

    def _power(self, t):
        return exp2(t)


class Fmod(_Elementwise):
    """C's fmod: a − trunc(a/b)·b, with the sign of a (NaN where b = 0 for floats); ∂/∂a = 1 and
    ∂/∂b = −trunc(a/b) (torch's)."""

    op = "fmod"

    def compute(self, a, b):
        x, y = a._data, b._data
        xp = array_module(x, y)
        if not dtypes.is_floating_point(x.dtype):
            if (y == 0).any():
                raise ZeroDivisionError("fmod: integer division by zero")
            return xp.fmod(x, y)
        with np.errstate(invalid="ignore", divide="ignore"):  # b = 0 and infinite a give NaN, as torch
            self.quotient = xp.trunc(x / y)
            return xp.fmod(x, y)

    def along_a(self, t):
        return t

    def along_b(self, t):
        return -t * constant(self.quotient)


class CopySign(_Elementwise):
    """|a| with the sign bit of b (−0.0 counts as negative); ∂/∂a = ±1 (0 at a = 0, as torch),
    ∂/∂b = 0."""

    op = "copysign"

    def compute(self, a, b):
        x, y = a._data, b._data
        xp = array_module(x, y)
        out = xp.copysign(x, y)
        zero = x == 0
        self.ratio = xp.where(zero, 0, out / xp.where(zero, 1, x)).astype(out.dtype, copy=False)
        return out

    def along_a(self, t):
        return t * constant(self.ratio)

    def along_b(self, t):
        return constant(array_module(self.ratio).zeros_like(self.ratio))


class XLogY(_Elementwise):
    """a·log b, and 0 where a = 0 unless b is NaN; ∂/∂a = log b (0 where a = 0 and b ≤ 0) and
    ∂/∂b = a/b — torch's rules, the first written as xlogy(t, b) so that t = 0 gives 0."""

    op = "xlogy"

    def compute(self, a, b):
        self.save(a, b)
        x, y = a._data, b._data
        xp = array_module(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):  # log 0 and log of negatives where a = 0 are replaced
            out = x * xp.log(y)
        return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)

    def along_a(self, t):
        a, b = self.saved
        masked = constant((a._data == 0) & (b._data <= 0))
        return Where.apply(masked, constant_like(0, b._data), xlogy(t, b))

    def along_b(self, t):
        a, b = self.saved
        return t * a / b


def _binary(node: type[Function], name: str, doc: str, *, floating: bool = True) -> Callable[..., Tensor]:
    """The function ``name(input, other)`` that applies the graph node ``node`` to both operands, broadcast
    and promoted as PyTorch does; with ``floating``, integer operands become the default float dtype first
    (either operand may be a Python number)."""
    def binary(input, other) -> Tensor:
        return node.apply(*(_float_operands if floating else operands)(input, other))

    return named(binary, name, doc)


atan2 = tensor_method("atan2", "arctan2")(_binary(
    Atan2, "atan2", "The angle of the point (other, input) elementwise, in (−π, π] (``arctan2`` is its NumPy "
    "name)."))
hypot = tensor_method()(_binary(Hypot, "hypot", "√(input² + other²) elementwise, without overflow."))
logaddexp = tensor_method()(_binary(
    LogAddExp, "logaddexp", "log(e^input + e^other) elementwise, without overflow or underflow."))
logaddexp2 = tensor_method()(_binary(
    LogAddExp2, "logaddexp2", "log₂(2^input + 2^other) elementwise, without overflow or underflow."))
fmod = tensor_method()(_binary(
    Fmod, "fmod", "The remainder of input / other rounded toward zero, with the sign of ``input`` (C's fmod; "
    ":func:`remainder` takes the sign of ``other``); integers stay integers.", floating=False))
copysign = tensor_method()(_binary(
    CopySign, "copysign", "|input| with the sign of ``other`` elementwise (−0.0 is negative); always floating."))
xlogy = tensor_method()(_binary(
    XLogY, "xlogy", "input · log(other) elementwise, and 0 where input = 0 (unless other is NaN), as "
    "``scipy.special.xlogy``."))


@tensor_method()
def float_power(input, exponent) -> Tensor:
    """``input ** exponent`` computed in float64, whatever the operands' dtypes (the result is float64).

    Args:
        input: a tensor or a number.
        exponent: a tensor or a number.
    """
    def double(v):
        return v.to(dtypes.float64) if isinstance(v, Tensor) else builtins.float(v)

    return pow(double(input), double(exponent))


@tensor_method()
def lerp(input: Tensor, end, weight) -> Tensor:
    """Linear interpolation ``input + weight · (end − input)``, broadcasting all three.

    Evaluated as PyTorch does: from ``input`` where |weight| < 0.5 and as
    ``end − (end − input)·(1 − weight)`` elsewhere, so that weight 1 gives ``end`` exactly.

    Args:
        input: the start points.
        end: the end points (a tensor or a number).
        weight: a number or a tensor (cast to the dtype of ``input``).

    Examples:
        >>> fukaku.lerp(fukaku.tensor([0.0, 10.0]), fukaku.tensor([1.0, 20.0]), 0.25)
        tensor([0.2500, 12.5000])
    """
    start, end = _float_operands(input, end)
    diff = end - start
    if not isinstance(weight, Tensor):
        return start + weight * diff if builtins.abs(weight) < 0.5 else end - diff * (1 - weight)
    weight = weight.to(start.dtype)
    small = constant(array_module(weight._data).abs(weight._data) < 0.5)
    return Where.apply(small, start + weight * diff, end - diff * (1 - weight))


@tensor_method()
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value · tensor1 · tensor2`` elementwise, broadcasting all three."""
    return add(input, tensor1 * tensor2 if value == 1 else value * tensor1 * tensor2)


@tensor_method()
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value=1) -> Tensor:
    """``input + value · tensor1 / tensor2`` elementwise, broadcasting all three.

    Raises:
        RuntimeError: both ``tensor1`` and ``tensor2`` are integer tensors (PyTorch no longer
            supports that; write ``input + value * tensor1 / tensor2`` for true division).
    """
    if all(isinstance(t, Tensor) and t._data.dtype.kind in "iub" for t in (tensor1, tensor2)):
        raise RuntimeError("addcdiv: integer division of tensor1 by tensor2 is not supported (as in PyTorch); "
                           "write input + value * tensor1 / tensor2 for true division, or cast them to float")
    return add(input, tensor1 / tensor2 if value == 1 else value * tensor1 / tensor2)


@tensor_method()
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians elementwise (integers give floats)."""
    return _floating(input) * (math.pi / 180.0)


@tensor_method()
def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees elementwise (integers give floats)."""
    return _floating(input) * (180.0 / math.pi)


@tensor_method()
def frac(input: Tensor) -> Tensor:
    """The fractional part ``x − trunc(x)`` elementwise, with the sign of x (NaN at ±inf); its gradient is 1."""
    return input - trunc(input)


@tensor_method()
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """NaN, +inf and −inf replaced by ``nan``, ``posinf`` and ``neginf`` (by default 0 and the dtype's
    largest and lowest finite values); the gradient is 0 at the replaced entries."""
    if not dtypes.is_floating_point(input._data.dtype):
        return wrap(input._data.copy())  # integers hold no NaN or inf
    return NanToNum.apply(input, nan=nan, posinf=posinf, neginf=neginf)


@tensor_method()
def heaviside(input: Tensor, values) -> Tensor:
    """The step function: 0 where input < 0, ``values`` where input == 0, 1 where input > 0 (and 0 at
    NaN, as PyTorch). Not differentiable: PyTorch defines no derivative, so none is recorded."""
    a, v = operands(input, values)
    x, vals = a._data, v._data
    xp = array_module(x, vals)
    try:
        out = xp.where(x == 0, vals, x > 0)
    except ValueError:
        raise shape_error("heaviside", x.shape, vals.shape) from None
    return wrap(out.astype(x.dtype, copy=False))


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
    on a one-sided clamp gives a tie x == bound to the bound's tangent (the vjp gives it to x);
    with ``input_wins_ties`` (torch's ``clamp_min``/``clamp_max``) the jvp gives the tie to x too.
    """

    def __init__(self, has_min: bool, has_max: bool, input_wins_ties: bool = False) -> None:
        self.has_min = has_min
        self.has_max = has_max
        self.input_wins_ties = input_wins_ties

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
            jx = masks[0] if self.input_wins_ties else xd > lo._data
            jmasks = [jx, ~jx]
        else:
            masks = [xd <= hi._data, xd > hi._data]
            jx = masks[0] if self.input_wins_ties else xd < hi._data
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
    return _clamp(input, min, max)


def _clamp(input: Tensor, min, max, input_wins_ties: bool = False) -> Tensor:  # noqa: A002
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
        return ClampTensor.apply(x, *bounds, has_min=min is not None, has_max=max is not None,
                                 input_wins_ties=input_wins_ties)
    if input._data.dtype.kind in "iub" and any(isinstance(b, builtins.float) for b in (min, max)):
        input = input.to(dtypes.get_default_dtype())
    return Clamp.apply(input, min=min, max=max)


@tensor_method()
def clamp_min(input: Tensor, min) -> Tensor:  # noqa: A002
    """``clamp(input, min=min)``: a lower bound only (a number or a tensor; with a tensor, forward mode
    gives a tie x == min to x, as torch's ``clamp_min``)."""
    return _clamp(input, min, None, input_wins_ties=True)


@tensor_method()
def clamp_max(input: Tensor, max) -> Tensor:  # noqa: A002
    """``clamp(input, max=max)``: an upper bound only (a number or a tensor; with a tensor, forward mode
    gives a tie x == max to x, as torch's ``clamp_max``)."""
    return _clamp(input, None, max, input_wins_ties=True)


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
        if dtypes.is_floating_point(dtype):
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


# ------------------------------------------------------------------------------- comparisons, bits (no gradient)
def _array_binary(ufunc: str, name: str, doc: str, integral: bool = False) -> Callable[..., Tensor]:
    """The op ``name`` computed by the array module's ufunc ``ufunc`` on both operands (promoted as
    PyTorch promotes them), recording no gradient; ``integral`` ops take only integer or bool tensors."""
    def array_binary(input, other) -> Tensor:
        a, b = operands(input, other)
        if integral and a._data.dtype.kind not in "iub":
            raise TypeError(f"{name}: only integer and bool tensors are supported, got {a._data.dtype}")
        try:
            return wrap(getattr(array_module(a._data, b._data), ufunc)(a._data, b._data))
        except ValueError:
            raise shape_error(name, a._data.shape, b._data.shape) from None

    return named(array_binary, name, doc)


def _comparison(ufunc: str, name: str) -> Callable[..., Tensor]:
    return _array_binary(ufunc, name, f"Elementwise ``{name}`` as a bool tensor (not differentiable).")


def _bitwise(ufunc: str, name: str) -> Callable[..., Tensor]:
    return _array_binary(ufunc, name, f"Elementwise ``{ufunc}`` of integer or bool tensors (not differentiable).",
                         integral=True)


eq = tensor_method("eq", "__eq__")(_comparison("equal", "eq"))
ne = tensor_method("ne", "not_equal", "__ne__")(_comparison("not_equal", "ne"))
lt = tensor_method("lt", "less", "__lt__")(_comparison("less", "lt"))
le = tensor_method("le", "less_equal", "__le__")(_comparison("less_equal", "le"))
gt = tensor_method("gt", "greater", "__gt__")(_comparison("greater", "gt"))
ge = tensor_method("ge", "greater_equal", "__ge__")(_comparison("greater_equal", "ge"))
logical_and = tensor_method()(_comparison("logical_and", "logical_and"))
logical_or = tensor_method()(_comparison("logical_or", "logical_or"))
logical_xor = tensor_method()(_comparison("logical_xor", "logical_xor"))
# as in PyTorch, & | ^ ~ are the bitwise ops (the logical ones on bool tensors)
bitwise_and = tensor_method("bitwise_and", "__and__", reflected=("__rand__",))(_bitwise("bitwise_and", "bitwise_and"))
bitwise_or = tensor_method("bitwise_or", "__or__", reflected=("__ror__",))(_bitwise("bitwise_or", "bitwise_or"))
bitwise_xor = tensor_method("bitwise_xor", "__xor__", reflected=("__rxor__",))(_bitwise("bitwise_xor", "bitwise_xor"))
bitwise_left_shift = tensor_method("bitwise_left_shift", "__lshift__")(_bitwise("left_shift", "bitwise_left_shift"))
bitwise_right_shift = tensor_method("bitwise_right_shift", "__rshift__")(_bitwise("right_shift",
                                                                                   "bitwise_right_shift"))
gcd = tensor_method()(_bitwise("gcd", "gcd"))
lcm = tensor_method()(_bitwise("lcm", "lcm"))


@tensor_method()
def logical_not(input: Tensor) -> Tensor:
    """Elementwise NOT as a bool tensor."""
    return wrap(array_module(input._data).logical_not(input._data))


@tensor_method("bitwise_not", "__invert__")
def bitwise_not(input: Tensor) -> Tensor:
    """Elementwise bitwise NOT of an integer or bool tensor (``~x``; logical NOT on bool tensors)."""
    if input._data.dtype.kind not in "iub":
        raise TypeError(f"bitwise_not: only integer and bool tensors are supported, got {input._data.dtype}")
    return wrap(array_module(input._data).invert(input._data))


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
isposinf = tensor_method()(_piecewise_constant("isposinf"))
isneginf = tensor_method()(_piecewise_constant("isneginf"))
signbit = tensor_method()(_piecewise_constant("signbit"))


@tensor_method()
def isreal(input: Tensor) -> Tensor:
    """True everywhere: fukaku's dtypes are all real (PyTorch's answer for a real tensor)."""
    return wrap(array_module(input._data).ones(input._data.shape, dtype=np.bool_))


@tensor_method()
def isclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> Tensor:
    """Elementwise ``|input − other| ≤ atol + rtol·|other|`` as a bool tensor (not differentiable).

    Equal values are close (infinities of the same sign too); NaN is close to NaN only with
    ``equal_nan``. Integer and bool operands are compared in the default float dtype, as PyTorch.

    Raises:
        ValueError: ``rtol`` or ``atol`` is negative.
    """
    if rtol < 0 or atol < 0:
        raise ValueError(f"isclose: rtol and atol must be >= 0, got rtol={rtol} and atol={atol}")
    a, b = operands(input, other)
    x, y = a._data, b._data
    xp = array_module(x, y)
    try:
        close = xp.asarray(x == y)
    except ValueError:
        raise shape_error("isclose", x.shape, y.shape) from None
    if equal_nan and dtypes.is_floating_point(x.dtype):
        close = close | (xp.isnan(x) & xp.isnan(y))
    if rtol or atol:
        if not dtypes.is_floating_point(x.dtype):
            x, y = x.astype(dtypes.get_default_dtype()), y.astype(dtypes.get_default_dtype())
        with np.errstate(invalid="ignore", over="ignore"):  # inf − inf: infinities were compared above
            error = xp.abs(x - y)
            close = close | (xp.isfinite(error) & (error <= atol + xp.abs(rtol * y)))
    return wrap(close)


@tensor_method()
def allclose(input, other, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False) -> builtins.bool:
    """Whether :func:`isclose` holds everywhere, as a Python bool."""
    return builtins.bool(isclose(input, other, rtol, atol, equal_nan)._data.all())


@tensor_method()
def equal(input, other) -> builtins.bool:
    """Whether both tensors have the same shape and the same values (NaN equals nothing), as a Python bool;
    dtypes may differ (``equal(tensor([1, 2]), tensor([1.0, 2.0]))`` is True, as in PyTorch)."""
    a, b = operands(input, other)
    return a._data.shape == b._data.shape and builtins.bool((a._data == b._data).all())


# NumPy's and PyTorch's other names for the same functions (torch.clip is torch.clamp); each is a
# Tensor method as well, declared with its function
clip = clamp
fix = trunc
arcsin = asin
arccos = acos
arctan = atan
arcsinh = asinh
arccosh = acosh
arctanh = atanh
arctan2 = atan2
true_divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs
divide = tensor_method("divide")(div)
sgn = tensor_method("sgn")(sign)  # torch.sgn: the sign, also of complex numbers (z/|z|): real tensors here
not_equal, less, less_equal, greater, greater_equal = ne, lt, le, gt, ge

# the functions ``fukaku.ops`` (and so ``fukaku``) exports from this family
__all__ = ["abs", "add", "ceil", "clamp", "clone", "cos", "div", "eq", "erf", "exp", "floor", "floor_divide", "ge", "gt",
           "isfinite", "isinf", "isnan", "le", "log", "log1p", "logical_and", "logical_not", "logical_or",
           "logical_xor", "lt", "maximum", "minimum", "mul", "ne", "neg", "pow", "reciprocal", "remainder", "round",
           "rsqrt", "sigmoid", "sign", "sin", "sqrt", "square", "sub", "tanh", "to", "where", "clip", "true_divide",
           "multiply", "subtract", "negative", "absolute",
           # issue 7: elementwise math
           "acos", "acosh", "addcdiv", "addcmul", "allclose", "asin", "asinh", "atan", "atan2", "atanh",
           "clamp_max", "clamp_min", "copysign", "cosh", "deg2rad", "equal", "erfc", "erfinv", "exp2", "expm1",
           "float_power", "fmod", "frac", "heaviside", "hypot", "isclose", "isneginf", "isposinf", "isreal",
           "lerp", "log10", "log2", "logaddexp", "logaddexp2", "nan_to_num", "rad2deg", "signbit", "sinc", "sinh",
           "tan", "trunc", "xlogy", "fix", "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh",
           "arctan2", "divide", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
           "gcd", "lcm", "sgn",
           # issue 13: the gamma family (fukaku.distributions uses it)
           "lgamma", "digamma", "polygamma"]
