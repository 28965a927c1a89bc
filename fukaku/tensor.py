"""``Tensor``: an n-dimensional NumPy array that remembers how it was made.

A tensor holds an array (``_data``: a ``numpy.ndarray``, read by fukaku's ops; users see it as
``numpy()``, or as the tensor ``.data``), and, when it takes part in differentiation,
``requires_grad``, ``grad`` and ``grad_fn`` — the op (a :class:`fukaku.autograd.Function`) that
produced it. The graph is built as ops run (define-by-run, seed 000 §6.1.2); ``backward`` walks it
in reverse. The arithmetic, reductions and shape methods are attached in :mod:`fukaku.ops`, next to
each op's forward, vjp and jvp; this file holds what every tensor is, and the creation functions.
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from . import dtypes
from .backends import array_module
from .errors import ShapeError


class _Version:
    """In-place modification counter, shared by a tensor and its views (saved-tensor checks)."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert Python data or an array to an ndarray with fukaku's default dtypes."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray):
        arr = data
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    elif isinstance(data, (bool, builtins.int, builtins.float)):
        # an explicit dtype applies to the Python value itself: tensor(0.1, dtype=float64) is exactly 0.1
        arr = np.asarray(data, dtype=dtypes.scalar_dtype(data) if dtype is None else np.dtype(dtype))
    else:
        arr = np.asarray(_unwrap_nested(data))
        if arr.dtype == object:
            raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__} of ragged or non-numeric items")
        if dtype is None and arr.dtype.kind == "f" and arr.dtype != dtypes.get_default_dtype():
            arr = arr.astype(dtypes.get_default_dtype())  # Python floats become the default float
        elif dtype is None and arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
    if dtype is not None:
        arr = arr.astype(np.dtype(dtype), copy=False)
    return arr


def _unwrap_nested(data):
    if isinstance(data, Tensor):
        return data._data
    if isinstance(data, (list, tuple)) and any(isinstance(d, (Tensor, list, tuple)) for d in data):
        return [_unwrap_nested(d) for d in data]
    return data


def _check_grad_dtype(dtype: np.dtype) -> None:
    if dtype.kind not in "fc":
        raise TypeError(
            f"only floating-point tensors can require gradients, got dtype {dtype}: gradients of "
            "integer or boolean values are not defined. Convert first, e.g. x.float() or x.double()"
        )


# ----------------------------------------------------------------- internal API
# Ops, layers, optimizers and loaders (inside fukaku) use these two; user code has no need of them.

def wrap(data: np.ndarray) -> Tensor:
    """Internal API: the tensor around an array an op has just produced — no copy, no conversion, no checks.

    The caller guarantees ``data`` is an ``ndarray`` of a fukaku dtype that nothing else will
    modify unseen. User code builds tensors with :func:`tensor` / :func:`as_tensor` instead.
    """
    t = object.__new__(Tensor)
    t._data, t._version = data, _Version()
    t.requires_grad = t._retains_grad = False
    t.grad = t.grad_fn = t._tangent = t._hooks = t._view = None
    return t


def bump_version(tensor: Tensor) -> None:
    """Internal API: record that ``tensor``'s array was modified in place (optimizer steps, ``x.add_``).

    The counter is shared with the tensor's views; a graph node that saved the tensor compares it
    when its rule runs and refuses a stale value (see :attr:`fukaku.autograd.Function.saved`).
    """
    tensor._version.value += 1


class Tensor:
    """An n-d array with autograd. Build one with :func:`fukaku.tensor` or a creation function.

    ``Tensor(data, dtype=None, requires_grad=False)`` accepts what ``fukaku.tensor`` accepts.
    """

    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_version", "_tangent", "_retains_grad",
                 "_hooks", "_view", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to our reflected operators: np.ones(3) + t -> Tensor
    __array_priority__ = 1000

    def __init__(self, data=None, dtype=None, requires_grad: bool = False) -> None:
        self._data, self._version = _to_array(0.0 if data is None else data, dtype), _Version()
        self.requires_grad = self._retains_grad = False
        self.grad = self.grad_fn = self._tangent = self._hooks = self._view = None
        if requires_grad:
            self.requires_grad_(True)

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> Tensor:
        """The same values as a tensor outside the graph, sharing memory (PyTorch's ``.data``).

        Changes made through it are invisible to autograd: it has its own version counter, so a
        saved-tensor check cannot catch them (``detach()`` shares the counter and can). Assigning
        ``t.data = other`` makes ``t`` hold ``other``'s array (its shape and dtype too).
        """
        return wrap(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: assigned value must be a Tensor, got {type(value).__name__}; "
                            "wrap it first, e.g. t.data = fukaku.as_tensor(value)")
        self._data = value._data

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> str:
        return "cpu"

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (and for any tensor that does not require grad)."""
        return self.grad_fn is None

    def size(self, dim: int | None = None):
        """The shape, or the length of one dimension."""
        if dim is None:
            return self._data.shape
        return self._data.shape[_norm_dim(dim, self.ndim, "size")]

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shares memory). Refused while the tensor requires grad, as in PyTorch."""
        if self.requires_grad:
            raise RuntimeError("numpy(): can't call numpy() on a tensor that requires grad; use t.detach().numpy()")
        return self._data

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a Python scalar, got shape {self.shape}")
        return self._data.reshape(()).item()

    def tolist(self):
        return self._data.tolist()

    def __float__(self) -> float:
        return builtins.float(self.item())

    def __int__(self) -> int:
        return builtins.int(self.item())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(f"bool(): the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()")
        return builtins.bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __array__(self, dtype=None, copy=None):
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return np.asarray(self._data, dtype=dtype)

    def __repr__(self) -> str:
        body = np.array2string(self._data, separator=", ", precision=4, prefix="tensor(")
        extra = ""
        if self._data.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
            extra += f", dtype=fukaku.{self._data.dtype.name}"
        if self.grad_fn is not None:
            extra += f", grad_fn=<{type(self.grad_fn).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __hash__(self) -> int:
        return id(self)

    # ----------------------------------------------------------------- autograd
    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad:
            _check_grad_dtype(self._data.dtype)
        elif self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False): only leaf tensors can stop requiring grad; use .detach()")
        self.requires_grad = builtins.bool(requires_grad)
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for this non-leaf tensor after ``backward`` (leaves always keep it)."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad(): the tensor does not require grad")
        if self.grad_fn is not None:
            self._retains_grad = True
            self.grad_fn._retained = self

    def register_hook(self, hook) -> None:
        """``hook(grad) -> Tensor | None`` runs when this tensor's gradient is computed; a return replaces it."""
        if not self.requires_grad:
            raise RuntimeError("register_hook(): cannot register a hook on a tensor that doesn't require grad")
        if self.grad_fn is not None:
            self.grad_fn._hooks = (self.grad_fn._hooks or ()) + (hook,)
        else:
            self._hooks = (self._hooks or ()) + (hook,)

    def backward(self, gradient=None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs=None) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's ``.grad`` (reverse mode, seed 000 §6.1.2).

        ``gradient`` is the vector of the vector-Jacobian product; it may be omitted only for a
        one-element tensor. ``retain_graph`` keeps the saved buffers for another backward;
        ``create_graph`` records the backward pass itself, for higher-order derivatives.
        """
        from .autograd.engine import run_backward

        run_backward((self,), (gradient,), retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data, cut from the graph."""
        out = wrap(self._data)
        out._version = self._version
        return out

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def cpu(self) -> Tensor:
        """fukaku's tensors live in host memory: the tensor itself, as ``torch.Tensor.cpu`` on a CPU tensor."""
        return self

    # ----------------------------------------------------------------- new tensors like this one
    def new_zeros(self, *size, dtype=None) -> Tensor:
        """Zeros of ``size`` in this tensor's dtype (unless ``dtype`` is given) and array library."""
        return wrap(array_module(self._data).zeros(_size(size), dtype or self.dtype))

    def new_ones(self, *size, dtype=None) -> Tensor:
        """Ones of ``size`` in this tensor's dtype (unless ``dtype`` is given) and array library."""
        return wrap(array_module(self._data).ones(_size(size), dtype or self.dtype))

    def new_full(self, size, fill_value, dtype=None) -> Tensor:
        """``fill_value`` everywhere in a tensor of ``size``, in this tensor's dtype unless given."""
        return wrap(array_module(self._data).full(_size((size,)), fill_value, dtype or self.dtype))

    def new_tensor(self, data, dtype=None) -> Tensor:
        """A copy of ``data`` as a tensor in this tensor's dtype unless given."""
        return Tensor(data, dtype=dtype or self.dtype)


def _norm_dim(dim: int, ndim: int, op: str) -> int:
    """Wrap a negative ``dim`` and check its range; 0-d tensors accept dim 0 and -1."""
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def _norm_dims(dim, ndim: int, op: str) -> tuple[int, ...]:
    """``dim`` as a sorted tuple of non-negative axes; None means all."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (builtins.int, np.integer)):
        dim = (dim,)
    axes = tuple(sorted({_norm_dim(d, ndim, op) for d in dim}))
    if ndim == 0:
        return ()
    return axes


# ---------------------------------------------------------------------- creation functions
_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Seed fukaku's random number generator (rand, randn, randint, dropout, init...)."""
    global _rng
    _rng = np.random.default_rng(seed)
    return _rng


def default_generator() -> np.random.Generator:
    return _rng


def get_rng_state() -> dict:
    return _rng.bit_generator.state


def set_rng_state(new_state: dict) -> None:
    _rng.bit_generator.state = new_state


def _size(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    if len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist())
    out = tuple(builtins.int(s) for s in size)
    if any(s < 0 for s in out):
        raise ShapeError(f"negative dimension in size {out}")
    return out


def _finish(arr: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _float_dtype(dtype) -> np.dtype:
    return dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copying ``data`` (nested lists, scalars, arrays, tensors).

    Python floats become float32 (the default dtype), ints int64, bools bool; NumPy arrays keep
    their dtype, as in ``torch.tensor``.
    """
    arr = np.array(_to_array(data, dtype), copy=True)
    return _finish(arr, requires_grad)


def as_tensor(data, dtype=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a NumPy array or tensor where it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == np.dtype(dtype)):
        return data
    return wrap(_to_array(data, dtype))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray, got {type(array).__name__}")
    return wrap(array)


def zeros(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.zeros(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.ones(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.empty(_size(size), dtype=_float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value)
    return _finish(np.full(_size((size,)), fill_value, dtype=np.dtype(dtype)), requires_grad)


def _like(t: Tensor, dtype):
    return t._data.shape, (t._data.dtype if dtype is None else np.dtype(dtype))


def zeros_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt), requires_grad)


def ones_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt), requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dt), requires_grad)


def empty_like(input: Tensor, dtype=None, requires_grad: bool = False) -> Tensor:
    shape, dt = _like(input, dtype)
    return _finish(np.empty(shape, dt), requires_grad)


def rand_like(input: Tensor, dtype=None) -> Tensor:
    shape, dt = _like(input, dtype)
    return wrap(_rng.random(shape).astype(dt))


def randn_like(input: Tensor, dtype=None) -> Tensor:
    shape, dt = _like(input, dtype)
    return wrap(_rng.standard_normal(shape).astype(dt))


def arange(start, end=None, step=1, dtype=None, requires_grad: bool = False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``; int64 when all bounds are ints, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    return _finish(np.arange(start, end, step).astype(np.dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.linspace(start, end, steps).astype(_float_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1)."""
    return _finish(_rng.random(_size(size)).astype(_float_dtype(dtype)), requires_grad)


def randn(*size, dtype=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _finish(_rng.standard_normal(_size(size)).astype(_float_dtype(dtype)), requires_grad)


def randint(low, high=None, size: Sequence[int] = (), dtype=None) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` means low = 0)."""
    if high is None:
        low, high = 0, low
    return wrap(_rng.integers(low, high, size=_size((size,))).astype(dtype or dtypes.int64))


def randperm(n: int, dtype=None) -> Tensor:
    return wrap(_rng.permutation(n).astype(dtype or dtypes.int64))


def normal(mean: float, std: float, size: Sequence[int], dtype=None) -> Tensor:
    return wrap(_rng.normal(mean, std, size=_size((size,))).astype(_float_dtype(dtype)))


__all__ = ["Tensor", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "arange", "linspace", "eye",
           "rand", "randn", "randint", "randperm", "normal", "manual_seed", "default_generator",
           "get_rng_state", "set_rng_state"]
