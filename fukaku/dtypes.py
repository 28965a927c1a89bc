"""The dtypes fukaku supports and PyTorch's type-promotion rules over them.

A dtype is a :class:`dtype` object, one per type, that looks like PyTorch's
(``repr(fukaku.float32) == 'fukaku.float32'``, ``is_floating_point``, ``itemsize``, ``to_real()``)
and works wherever NumPy takes a dtype: its ``.dtype`` attribute is the ``numpy.dtype``, so
``np.zeros(3, fukaku.float32)`` and ``arr.astype(fukaku.float64)`` work, and it compares and hashes
like that NumPy dtype (``fukaku.float32 == np.float32 == 'float32'``). ``x.dtype is fukaku.float32``
holds for every float32 tensor.

Promotion follows PyTorch, not NumPy: categories rank bool < integer < floating < complex, and a
higher category wins whatever the sizes (``int64 + float16 -> float16``; NumPy says float64);
Python scalars never widen a tensor of their own category (``float32 * 2.0 -> float32``); a 0-d
tensor only decides the result when it is of a higher category than every dimensioned one, and a
complex one then keeps the precision of a floating dimensioned one (``float64 + 0-d complex64 ->
complex128``).

complex64 and complex128 cover creation (``tensor``, ``zeros`` …, ``rand``/``randn``), conversion
(``to``, ``x.cfloat()``), promotion, and the ops that need no real-valued rule: ``+ − × **``, negation,
``abs``, ``matmul``, ``sum``/``prod``/``cumsum``, comparisons, indexing and shape ops. Functions that
convert their input to a real floating dtype first (division, ``exp``, ``log``, ``sqrt``, the
trigonometric and activation functions, ``mean``) drop the imaginary part, and gradients through
complex products lack PyTorch's conjugation: complex tensors are for values, not yet for training.

bfloat16 arrays come from the optional ``ml_dtypes`` package (``pip install 'fukaku[bfloat16]'``);
without it ``fukaku.bfloat16`` still exists (its repr, ``itemsize``, :class:`finfo`), and the first
use that needs arrays raises :class:`DTypeUnavailableError` naming the extra.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

__all__ = ["dtype", "DTypeUnavailableError", "float32", "float", "float64", "double", "float16", "half",
           "bfloat16", "int64", "long", "int32", "int", "int16", "short", "int8", "uint8", "uint16", "uint32",
           "uint64", "bool", "complex64", "cfloat", "complex128", "cdouble", "finfo", "iinfo",
           "get_default_dtype", "set_default_dtype", "promote_types", "result_type", "can_cast"]


class DTypeUnavailableError(ImportError):
    """A dtype whose arrays need an optional package that is not installed (bfloat16: ``ml_dtypes``)."""


def _load_bfloat16() -> np.dtype:
    try:
        import ml_dtypes
    except ImportError:
        raise DTypeUnavailableError(
            "fukaku.bfloat16 needs the optional ml_dtypes package, which provides NumPy's bfloat16 arrays; "
            "install it with: pip install 'fukaku[bfloat16]'") from None
    return np.dtype(ml_dtypes.bfloat16)


class dtype:
    """A fukaku dtype (PyTorch's ``torch.dtype``), interchangeable with its ``numpy.dtype``.

    Attributes:
        is_floating_point, is_complex, is_signed, itemsize: as in PyTorch.
        dtype: the ``numpy.dtype`` (so ``np.dtype(fukaku.float32)`` and every NumPy function taking a
            dtype accept it); ``kind``, ``name``, ``char``, ``str``, ``type`` are that dtype's.

    There is one object per dtype: compare with ``is`` or ``==`` (``==`` also accepts NumPy dtypes,
    NumPy scalar types and their names, as ``numpy.dtype`` does).

    Example::

        >>> fukaku.float32, fukaku.float32.is_floating_point, fukaku.complex64.to_real()
        (fukaku.float32, True, fukaku.float32)
        >>> np.zeros(2, fukaku.int64).dtype
        dtype('int64')
    """

    # ``dtype`` (the numpy.dtype) is a slot, read at C speed: NumPy reads it every time it is handed one
    __slots__ = ("_name", "dtype", "_category", "itemsize", "_legacy")

    def __init__(self, name: str, numpy_dtype, category: int, itemsize: int, legacy: str) -> None:
        self._name, self._category, self.itemsize, self._legacy = name, category, itemsize, legacy
        if numpy_dtype is not None:
            self.dtype = np.dtype(numpy_dtype)

    # ------------------------------------------------------------------ PyTorch's attributes
    @property
    def is_floating_point(self) -> builtins.bool:
        return self._category == 2

    @property
    def is_complex(self) -> builtins.bool:
        return self._category == 3

    @property
    def is_signed(self) -> builtins.bool:
        return self._category >= 2 or (self._category == 1 and not self._name.startswith("uint"))

    def to_real(self) -> dtype:
        """The real dtype of a complex one (``complex64 -> float32``); other dtypes return themselves."""
        return float32 if self is complex64 else float64 if self is complex128 else self

    def to_complex(self) -> dtype:
        """The complex dtype of a floating one (``float64 -> complex128``); complex ones return themselves."""
        if self._category == 3:
            return self
        if self._category != 2:
            raise TypeError(f"to_complex(): {self!r} is not a floating-point dtype")
        return complex128 if self is float64 else complex64  # fukaku has no complex32: float16/bfloat16 -> complex64

    # ------------------------------------------------------------------ NumPy's side
    kind = property(lambda self: self.dtype.kind, doc="The NumPy dtype's kind ('f', 'i', 'u', 'b', 'c').")
    name = property(lambda self: self.dtype.name, doc="The NumPy dtype's name ('float32').")
    char = property(lambda self: self.dtype.char, doc="The NumPy dtype's character code ('f').")
    str = property(lambda self: self.dtype.str, doc="The NumPy dtype's array-protocol string ('<f4').")
    type = property(lambda self: self.dtype.type, doc="The NumPy scalar type (numpy.float32).")

    # ------------------------------------------------------------------ identity
    def __repr__(self) -> builtins.str:
        return f"fukaku.{self._name}"

    __str__ = __repr__

    def __eq__(self, other) -> builtins.bool:
        if isinstance(other, dtype):
            return other is self
        if other is None or not isinstance(other, (np.dtype, builtins.str, builtins.type)):
            return NotImplemented
        try:
            return self.dtype == np.dtype(other)
        except (TypeError, DTypeUnavailableError):
            return False

    def __ne__(self, other) -> builtins.bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> builtins.int:
        try:
            return hash(self.dtype)  # equal to the NumPy dtype it equals
        except DTypeUnavailableError:
            return hash(self._name)

    def __reduce__(self):
        return (_by_name, (self._name,))

    def __copy__(self) -> dtype:
        return self

    def __deepcopy__(self, memo) -> dtype:
        return self


class _OptionalDtype(dtype):
    """A dtype whose NumPy dtype comes from an optional package, imported on first use by ``loader``."""

    __slots__ = ("_loader", "_numpy")

    def __init__(self, name: str, category: int, itemsize: int, legacy: str, loader) -> None:
        super().__init__(name, None, category, itemsize, legacy)
        self._loader, self._numpy = loader, None

    @property
    def dtype(self) -> np.dtype:
        """The ``numpy.dtype`` this dtype stores its arrays in (raises DTypeUnavailableError without its package)."""
        if self._numpy is None:
            self._numpy = self._loader()
            _FROM_NUMPY[self._numpy] = self
        return self._numpy


# name, numpy dtype, category (0 bool, 1 integer, 2 floating, 3 complex), itemsize, legacy tensor type
float32 = dtype("float32", np.float32, 2, 4, "FloatTensor")
float64 = dtype("float64", np.float64, 2, 8, "DoubleTensor")
float16 = dtype("float16", np.float16, 2, 2, "HalfTensor")
bfloat16 = _OptionalDtype("bfloat16", 2, 2, "BFloat16Tensor", loader=_load_bfloat16)
int64 = dtype("int64", np.int64, 1, 8, "LongTensor")
int32 = dtype("int32", np.int32, 1, 4, "IntTensor")
int16 = dtype("int16", np.int16, 1, 2, "ShortTensor")
int8 = dtype("int8", np.int8, 1, 1, "CharTensor")
uint8 = dtype("uint8", np.uint8, 1, 1, "ByteTensor")
uint16 = dtype("uint16", np.uint16, 1, 2, "UInt16Tensor")
uint32 = dtype("uint32", np.uint32, 1, 4, "UInt32Tensor")
uint64 = dtype("uint64", np.uint64, 1, 8, "UInt64Tensor")
bool_ = dtype("bool", np.bool_, 0, 1, "BoolTensor")
complex64 = dtype("complex64", np.complex64, 3, 8, "ComplexFloatTensor")
complex128 = dtype("complex128", np.complex128, 3, 16, "ComplexDoubleTensor")
# PyTorch's aliases (they shadow builtins in this module only: use builtins.float etc. here)
float = float32  # noqa: A001
double = float64
half = float16
long = int64
int = int32  # noqa: A001
short = int16
bool = bool_  # noqa: A001
cfloat = complex64
cdouble = complex128

ALL = (float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8, uint16, uint32, uint64, bool_,
       complex64, complex128)
_BY_NAME = {d._name: d for d in ALL}
_FROM_NUMPY = {d.dtype: d for d in ALL if not isinstance(d, _OptionalDtype)}
_BY_LEGACY = {d._legacy: d for d in ALL}
# the Python types NumPy and PyTorch map to dtypes
_PYTHON_TYPES = {builtins.float: float64, builtins.int: int64, builtins.bool: bool_, complex: complex128}


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def tensor_type_name(d: dtype) -> str:
    """PyTorch's legacy tensor type of a dtype, under fukaku's name: ``'fukaku.FloatTensor'`` for float32."""
    return f"fukaku.{d._legacy}"


def from_tensor_type_name(name: str) -> dtype | None:
    """The dtype a legacy tensor type name stands for (``'fukaku.DoubleTensor'`` or ``'torch.DoubleTensor'``:
    float64), None for an unknown name."""
    return _BY_LEGACY.get(name.removeprefix("fukaku.").removeprefix("torch."))


def lookup(numpy_dtype: np.dtype) -> dtype:
    """Internal API: the fukaku dtype of an array's ``numpy.dtype`` (``x.dtype`` of a tensor)."""
    found = _FROM_NUMPY.get(numpy_dtype)
    if found is not None:
        return found
    found = _BY_NAME.get(numpy_dtype.name) if numpy_dtype.isnative else _FROM_NUMPY.get(numpy_dtype.newbyteorder("="))
    if found is None:
        raise TypeError(f"fukaku has no dtype for NumPy's {numpy_dtype}; supported: "
                        + ", ".join(d._name for d in ALL))
    return found


def as_dtype(value, op: str = "dtype") -> dtype:
    """The fukaku dtype that ``value`` names: a fukaku dtype, a NumPy dtype or scalar type, a Python
    type (``float`` is float64, as in NumPy and PyTorch) or a name (``'float32'``, ``'fukaku.float32'``).

    Raises TypeError, naming ``op``, for anything else.
    """
    if isinstance(value, dtype):
        return value
    if isinstance(value, builtins.type) and value in _PYTHON_TYPES:
        return _PYTHON_TYPES[value]
    if isinstance(value, builtins.str):
        named = _BY_NAME.get(value.removeprefix("fukaku.").removeprefix("torch."))
        if named is not None:
            return named
    if value is not None:
        try:
            return lookup(np.dtype(value))
        except TypeError:
            pass
    raise TypeError(f"{op}: {value!r} is not a dtype; pass one of fukaku's dtypes, e.g. fukaku.float32 or fukaku.int64")


_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of floating-point tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d) -> None:
    """Set the dtype used for Python floats and float creation functions (a floating-point dtype)."""
    global _default_float
    d = as_dtype(d, "set_default_dtype")
    if not d.is_floating_point:
        raise TypeError(f"set_default_dtype: only floating-point dtypes are allowed, got {d}")
    _default_float = d


def default_complex() -> dtype:
    """The dtype of tensors made from Python complex numbers: complex128 when the default float is
    float64, complex64 otherwise."""
    return complex128 if _default_float is float64 else complex64


# ----------------------------------------------------------------------------- categories
def category(d) -> builtins.int:
    """0 for bool, 1 for integers, 2 for floating point, 3 for complex (a NumPy or fukaku dtype)."""
    kind = d.kind
    if kind == "f":
        return 2
    if kind == "c":
        return 3
    if kind == "b":
        return 0
    if kind in "iu":
        return 1
    return lookup(np.dtype(d))._category  # bfloat16 (NumPy kind 'V')


def is_floating_point(d) -> builtins.bool:
    """Whether a NumPy or fukaku dtype is floating point, bfloat16 included: use this, not ``d.kind == "f"``,
    which misses bfloat16 (ml_dtypes gives it NumPy kind 'V')."""
    return category(d) == 2


def is_bfloat16(d) -> builtins.bool:
    """Whether an array's NumPy dtype is ml_dtypes' bfloat16 (kind 'V'); a cheap test for the hot paths that
    compute bfloat16 in float32 (:func:`fukaku.ops._util.in_float32_if_bfloat16`)."""
    return d.kind == "V" and d.name == "bfloat16"


def scalar_dtype(value) -> dtype:
    """The dtype ``fukaku.tensor(value)`` gives a Python scalar."""
    if isinstance(value, (builtins.bool, np.bool_)):
        return bool_
    if isinstance(value, (builtins.int, np.integer)):
        return int64
    if isinstance(value, (complex, np.complexfloating)):
        return default_complex()
    return _default_float


# ----------------------------------------------------------------------------- promotion
def _promote(a: dtype, b: dtype) -> dtype:
    """PyTorch's promote_types on fukaku dtypes."""
    if a is b:
        return a
    ca, cb = a._category, b._category
    if ca != cb:
        high, low = (a, b) if ca > cb else (b, a)
        if high._category == 3 and low._category == 2:  # complex with floating: keep the wider precision
            return _promote(high.to_real(), low).to_complex()
        return high
    if a is bfloat16 or b is bfloat16:  # NumPy (ml_dtypes) does not promote bfloat16 with float16
        other = b if a is bfloat16 else a
        return float32 if other is float16 else _promote(float32, other)
    return lookup(np.promote_types(a.dtype, b.dtype))


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """PyTorch's combine_categories: ``higher`` (dimensioned) decides unless ``lower`` is of a higher category."""
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher._category == 3:
        return higher
    if lower._category == 3:
        return higher.to_complex() if higher._category == 2 else lower
    if higher._category == 2:
        return higher
    if higher._category == 0 or lower._category == 2:
        return _promote(higher, lower)
    return higher


_PROMOTED: dict[tuple, dtype] = {}  # (a, b, a is 0-d, b is 0-d) -> result, for the ops' promote


def promote(a_dtype, a_ndim: builtins.int, b_dtype, b_ndim: builtins.int) -> dtype:
    """Result dtype of a binary op on two tensors (NumPy or fukaku dtypes, and their ndims), by
    PyTorch's rules (0-d tensors rank lower)."""
    key = (a_dtype, b_dtype, a_ndim == 0, b_ndim == 0)
    found = _PROMOTED.get(key)
    if found is None:
        a, b = as_dtype(a_dtype), as_dtype(b_dtype)
        if key[2] == key[3]:
            found = _promote(a, b)
        else:
            found = _combine(b, a) if key[2] else _combine(a, b)
        _PROMOTED[key] = found
    return found


def promote_types(type1, type2) -> dtype:
    """The smallest dtype both ``type1`` and ``type2`` convert to without losing their category, as
    ``torch.promote_types``: ``promote_types(int64, float16) -> float16`` (a higher category wins),
    ``promote_types(uint8, int8) -> int16``, ``promote_types(float64, complex64) -> complex128``.
    """
    return _promote(as_dtype(type1, "promote_types"), as_dtype(type2, "promote_types"))


def result_type(tensor1, tensor2) -> dtype:
    """The dtype of an arithmetic op on ``tensor1`` and ``tensor2`` (tensors or Python numbers), as
    ``torch.result_type``: dimensioned tensors decide within a category; 0-d tensors, then Python
    numbers, only when they bring a higher category.

    Example::

        >>> fukaku.result_type(fukaku.tensor([1, 2]), 1.0)
        fukaku.float32
    """
    state = {"dim": None, "zero": None, "number": None}
    for x in (tensor1, tensor2):
        if isinstance(x, (builtins.bool, builtins.int, builtins.float, complex)):
            slot, d = "number", scalar_dtype(x)
        elif hasattr(x, "dtype") and hasattr(x, "ndim"):
            slot, d = ("dim" if x.ndim else "zero"), as_dtype(x.dtype, "result_type")
        else:
            raise TypeError(f"result_type(): expected a Tensor or a Python number, got {builtins.type(x).__name__}")
        state[slot] = d if state[slot] is None else _promote(state[slot], d)
    return _combine(state["dim"], _combine(state["zero"], state["number"]))


def can_cast(from_, to) -> builtins.bool:
    """Whether PyTorch's casting rules allow an in-place op to write a ``from_`` result into ``to``:
    not complex to non-complex, not floating to integer, nothing but bool to bool."""
    src, dst = as_dtype(from_, "can_cast"), as_dtype(to, "can_cast")
    if src._category == 3 and dst._category != 3:
        return False
    if src._category == 2 and dst._category in (0, 1):
        return False
    return not (src is not bool_ and dst is bool_)


# ----------------------------------------------------------------------------- finfo / iinfo
# bits of the significand (without the implicit one) and of the exponent, per floating dtype
_FLOAT_LAYOUT = {"float16": (10, 5), "bfloat16": (7, 8), "float32": (23, 8), "float64": (52, 11)}


def _g(x) -> builtins.str:
    return f"{x:g}"


class finfo:
    """Machine limits of a floating-point dtype, as ``torch.finfo`` (the default dtype if none given;
    a complex dtype gives its real dtype's limits).

    Attributes:
        bits: storage size; eps: 1 ulp at 1.0; max, min: the largest and most negative finite values;
        tiny, smallest_normal: the smallest positive normal number; resolution: 10**-(decimal digits);
        dtype: the dtype's name (``'float32'``), as in PyTorch.

    Example::

        >>> fukaku.finfo(fukaku.float16).max
        65504.0
    """

    def __init__(self, type=None) -> None:  # noqa: A002  (PyTorch's parameter name)
        d = _default_float if type is None else as_dtype(type, "finfo")
        d = d.to_real()
        if d._category != 2:
            raise TypeError(f"finfo(): requires a floating-point dtype, got {d}; use fukaku.iinfo for integer "
                            "and bool dtypes")
        mantissa, exponent = _FLOAT_LAYOUT[d._name]
        emax = 2 ** (exponent - 1) - 1
        self.bits = d.itemsize * 8
        self.eps = 2.0 ** -mantissa
        self.max = (2.0 - 2.0 ** -mantissa) * 2.0 ** emax
        self.min = -self.max
        self.tiny = self.smallest_normal = 2.0 ** (1 - emax)
        self.resolution = 10.0 ** -math.floor(-math.log10(self.eps))
        self.dtype = d._name

    def __repr__(self) -> builtins.str:
        return (f"finfo(resolution={_g(self.resolution)}, min={_g(self.min)}, max={_g(self.max)}, eps={_g(self.eps)}, "
                f"smallest_normal={_g(self.smallest_normal)}, tiny={_g(self.tiny)}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as ``torch.iinfo``: ``bits``, ``max``, ``min``, ``dtype`` (its name).

    Example::

        >>> fukaku.iinfo(fukaku.uint8).max
        255
    """

    def __init__(self, type) -> None:  # noqa: A002
        d = as_dtype(type, "iinfo")
        if d._category != 1:
            what = "bool is not an integer dtype" if d is bool_ else "requires an integer dtype"
            raise TypeError(f"iinfo(): {what}, got {d}; use fukaku.finfo for floating-point dtypes")
        info = np.iinfo(d.dtype)
        self.bits, self.max, self.min, self.dtype = info.bits, builtins.int(info.max), builtins.int(info.min), d._name

    def __repr__(self) -> builtins.str:
        return f"iinfo(min={_g(builtins.float(self.min))}, max={_g(builtins.float(self.max))}, dtype={self.dtype})"
