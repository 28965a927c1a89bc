"""``Tensor``: an n-dimensional NumPy array that remembers how it was made.

A tensor holds an array (``_data``: a ``numpy.ndarray``, or a ``cupy.ndarray`` for a tensor on a GPU,
read by fukaku's ops through :func:`fukaku.backends.array_module`; users see it as ``numpy()``, or
as the tensor ``.data``), and, when it takes part in differentiation,
``requires_grad``, ``grad`` and ``grad_fn`` — the op (a :class:`fukaku.autograd.Function`) that
produced it. The graph is built as ops run (define-by-run, seed 000 §6.1.2); ``backward`` walks it
in reverse. The arithmetic, reductions and shape methods are attached in :mod:`fukaku.ops`, next to
each op's forward, vjp and jvp; this file holds what every tensor is, and the creation functions.
"""
from __future__ import annotations

import builtins
import itertools
import math
import threading
import weakref

import numpy as np

from . import _device, backends, dtypes
from ._generator import (Generator, default_generator, get_rng_state, initial_seed, manual_seed, resolve_generator,
                         seed, set_rng_state)
from .backends import array_module
from .errors import ShapeError


class Size(tuple):
    """A tensor's shape: a tuple of ints that prints as PyTorch's ``torch.Size([2, 3])`` does and
    knows its number of elements (``numel()``)."""

    __slots__ = ()

    def numel(self) -> int:
        """The number of elements of a tensor of this shape (1 for ``Size([])``)."""
        return math.prod(self)

    def __repr__(self) -> str:
        return f"fukaku.Size({list(self)})"

    def __getitem__(self, index):
        item = tuple.__getitem__(self, index)
        return Size(item) if isinstance(index, slice) else item

    def __add__(self, other) -> Size:
        return Size(tuple.__add__(self, tuple(other)))

    def __radd__(self, other) -> Size:
        return Size(tuple(other) + tuple(self))


_dtype_of = dtypes._FROM_NUMPY.get  # Tensor.dtype's fast path; dtypes.lookup handles the rest


class _JitHooks(threading.local):
    """What :mod:`fukaku.jit` has installed in this thread, each read with one load where it is consulted
    (the class attributes are each thread's starting values: none). Thread-local, so a traced step in one
    thread leaves the eager code of every other thread as it is.

    * ``backward(outputs, grad_outputs, retain_graph, create_graph, inputs)`` takes ``run_backward``'s
      pass over: a traced step replaying its programs, or a trace recording one;
    * ``applied(cls, inputs, params, out)`` sees each op :meth:`Function.apply` ran, while a trace records
      a forward or a backward pass;
    * ``value_read(tensor, method)`` is called first by the methods that hand a tensor's value to Python
      (``item``, ``__bool__`` …) while a step is traced: it raises for a read in the step's own code;
    * ``created(tensor)`` hears of each tensor a creation function made from Python values alone
      (``zeros``, ``arange`` …) while a forward pass is recorded: a constant of the program;
    * ``bumped(tensor)`` hears of each in-place modification (:func:`bump_version`) while a forward pass is
      recorded; ``in_op`` counts the op forward passes running meanwhile (a modification inside one is the op's,
      which a replay repeats).
    """

    backward = None
    applied = None
    value_read = None
    created = None
    bumped = None
    in_op = 0


_jit_hooks = _JitHooks()


_next_serial = itertools.count().__next__


class _Version:
    """In-place modification counter, shared by a tensor and its views (saved-tensor checks). ``serial`` numbers
    the counters in the order they were made, so ``fukaku.jit`` tells a tensor made before a traced call from one
    made during it."""

    __slots__ = ("value", "serial")

    def __init__(self) -> None:
        self.value = 0
        self.serial = _next_serial()


def _to_array(data, dtype=None) -> np.ndarray:
    """Convert Python data or an array to an ndarray with fukaku's default dtypes."""
    if isinstance(data, Tensor):
        arr = data._data
    elif isinstance(data, np.ndarray) or backends.device_of_array(data) is not None:
        arr = data  # a GPU array stays on its device
    elif isinstance(data, np.generic):
        arr = np.asarray(data)
    elif isinstance(data, (bool, builtins.int, builtins.float, complex)):
        # an explicit dtype applies to the Python value itself: tensor(0.1, dtype=float64) is exactly 0.1
        arr = np.asarray(data, dtype=dtypes.scalar_dtype(data) if dtype is None else np.dtype(dtype))
    else:
        try:
            arr = np.asarray(_unwrap_nested(data))
        except ValueError:  # NumPy's "inhomogeneous shape": say where, as torch does
            arr = None
        if arr is None or arr.dtype.kind in "OUS":
            _refuse_data(data)
        if dtype is None and arr.dtype.kind == "f" and arr.dtype != dtypes.get_default_dtype():
            arr = arr.astype(dtypes.get_default_dtype())  # Python floats become the default float
        elif dtype is None and arr.dtype.kind == "c" and arr.dtype != dtypes.default_complex():
            arr = arr.astype(dtypes.default_complex())  # Python complex numbers become the default complex
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


def _refuse_data(data) -> None:
    """Raise PyTorch's error for data NumPy could not turn into a numeric array: strings (TypeError
    ``new(): invalid data type 'str'``), a ragged nesting (ValueError naming the dimension), other
    objects (RuntimeError ``Could not infer dtype of dict``). Runs only once conversion has failed."""
    def is_sequence(x) -> bool:
        return isinstance(x, (list, tuple)) or (isinstance(x, np.ndarray) and x.ndim > 0)

    def leaf(x) -> None:
        if isinstance(x, (str, bytes)):
            raise TypeError(f"new(): invalid data type '{type(x).__name__}'")
        numeric = isinstance(x, (bool, builtins.int, builtins.float, complex)) or (
            isinstance(x, (np.generic, np.ndarray)) and (x.dtype.kind in "biufc" or dtypes.is_bfloat16(x.dtype)))
        if not numeric:
            raise RuntimeError(f"Could not infer dtype of {type(x).__name__}: tensor data must be numbers, "
                               "or (nested) lists, tuples, arrays or tensors of numbers")

    data = _unwrap_nested(data)
    if not is_sequence(data):
        leaf(data)
    sizes, first = [], data  # as torch: the sizes come from the chain of first elements
    while is_sequence(first):
        sizes.append(len(first))
        first = first[0] if len(first) else None
        if isinstance(first, str):
            raise ValueError(f"too many dimensions 'str': a string is not a sequence of numbers (at dim {len(sizes)})")

    def check(x, dim: int, where: str) -> None:
        if dim == len(sizes):
            if is_sequence(x):
                raise TypeError(f"tensor(): expected a number at dim {dim} (at {where}), got a {type(x).__name__}: "
                                "the nesting is ragged; every list at one depth must have the same length")
            leaf(x)
            return
        if not is_sequence(x):
            raise TypeError(f"not a sequence: expected a sequence of length {sizes[dim]} at dim {dim}, got a "
                            f"{type(x).__name__} (at {where}): the nesting is ragged")
        if len(x) != sizes[dim]:
            raise ValueError(f"expected sequence of length {sizes[dim]} at dim {dim} (got {len(x)}): the nesting is "
                             f"ragged at {where}; every list at one depth must have the same length")
        for i, item in enumerate(x):
            check(item, dim + 1, f"{where}[{i}]")

    check(data, 0, "")
    raise TypeError(f"tensor(): cannot make a tensor from {type(data).__name__}")  # not reached for plain data


def _check_grad_dtype(dtype: np.dtype) -> None:
    if dtypes.category(dtype) < 2:  # floating (bfloat16 included) or complex
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
    if _jit_hooks.bumped is not None:
        _jit_hooks.bumped(tensor)


# hooks of register_post_accumulate_grad_hook by id of their leaf (Tensor's slots stay as they are; the engine
# looks here only while the dict is not empty)
POST_ACCUMULATE_HOOKS: dict[int, dict[int, object]] = {}


class _HookHandle:
    """What ``register_post_accumulate_grad_hook`` returns: ``remove()`` unregisters the hook (also on leaving
    a ``with`` block), as PyTorch's ``RemovableHandle``."""

    _next_id = 0

    def __init__(self, hooks: dict, hook) -> None:
        self._hooks, self.id = hooks, _HookHandle._next_id
        _HookHandle._next_id += 1
        hooks[self.id] = hook

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> _HookHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


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
    def shape(self) -> Size:
        return Size(self._data.shape)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> dtypes.dtype:
        """The element type, one of fukaku's dtype objects (``x.dtype is fukaku.float32``)."""
        return _dtype_of(self._data.dtype) or dtypes.lookup(self._data.dtype)

    @property
    def device(self) -> _device.device:
        """Where the tensor's memory lives: ``device(type='cpu')``, or ``device(type='cuda', index=0)``
        for a tensor on a GPU."""
        return _device.CPU if type(self._data) is np.ndarray else _device.device_of(self._data)  # the CPU: no lookup

    @property
    def is_leaf(self) -> bool:
        """True for tensors the user made (and for any tensor that does not require grad)."""
        return self.grad_fn is None

    def size(self, dim: int | None = None) -> Size | int:
        """The shape (a :class:`Size`), or the length of one dimension."""
        if dim is None:
            return Size(self._data.shape)
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

    def ndimension(self) -> int:
        """The number of dimensions (PyTorch's older name for :meth:`dim`)."""
        return self._data.ndim

    def nelement(self) -> int:
        """The number of elements (PyTorch's older name for :meth:`numel`)."""
        return self._data.size

    def is_contiguous(self, memory_format=None) -> bool:
        """Whether the elements lie in memory in row-major order without gaps (a transpose does not)."""
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        """Elements (not bytes, unlike NumPy) to step in memory for one step along each dimension."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_norm_dim(dim, self.ndim, "stride")]

    def is_floating_point(self) -> bool:
        return dtypes.is_floating_point(self._data.dtype)

    def is_inference(self) -> bool:
        """False: fukaku's tensors made under ``inference_mode`` are ordinary tensors without a graph."""
        return False

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        """The underlying array (shares memory). Refused while the tensor requires grad, and for a
        tensor on a GPU (copy it to the host with ``.cpu()`` first), as in PyTorch."""
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "numpy")
        if self.requires_grad:
            raise RuntimeError("numpy(): can't call numpy() on a tensor that requires grad; use t.detach().numpy()")
        if type(self._data) is not np.ndarray:
            self._refuse_host_conversion()
        return self._data

    def _refuse_host_conversion(self) -> None:
        """Raise PyTorch's TypeError for a device tensor converted to NumPy (nothing to do on the host)."""
        dev = self.device
        if dev is not _device.CPU:
            raise TypeError(f"can't convert {dev} device type tensor to numpy. Use Tensor.cpu() to copy the tensor "
                            "to host memory first.")

    def item(self):
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "item")
        if self._data.size != 1:
            raise ValueError(f"item(): only one-element tensors can be converted to a Python scalar, got shape {self.shape}")
        return self._data.reshape(()).item()

    def tolist(self):
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "tolist")
        return self._data.tolist()

    def __float__(self) -> float:
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "__float__")
        return builtins.float(self.item())

    def __int__(self) -> int:
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "__int__")
        return builtins.int(self.item())

    def __bool__(self) -> bool:
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "__bool__")
        if self._data.size != 1:
            raise RuntimeError(f"bool(): the truth value of a tensor with {self._data.size} elements is ambiguous; use .any() or .all()")
        return builtins.bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "__index__")
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return builtins.int(self.item())

    def __array__(self, dtype=None, copy=None):
        if _jit_hooks.value_read is not None:
            _jit_hooks.value_read(self, "__array__")
        if type(self._data) is not np.ndarray:
            self._refuse_host_conversion()
        if copy:
            return np.array(self._data, dtype=dtype, copy=True)
        return np.asarray(self._data, dtype=dtype)

    def __repr__(self) -> str:
        from ._tensor_str import tensor_repr

        return tensor_repr(self)

    def __format__(self, format_spec: str) -> str:
        """``f"{loss:.2f}"`` formats a one-element 0-d tensor's value, as in PyTorch; other tensors only
        print whole (an empty spec)."""
        if self.ndim == 0:
            return self.item().__format__(format_spec)
        return object.__format__(self, format_spec)

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

    def register_post_accumulate_grad_hook(self, hook) -> _HookHandle:
        """``hook(tensor) -> None`` runs during ``backward()`` right after this leaf's ``.grad`` has received its
        complete gradient of that pass (PyTorch's hook of the same name; ``autograd.grad`` accumulates nothing and
        does not run it). Returns a handle whose ``remove()`` unregisters it. Data-parallel training starts
        reducing a parameter's gradient here, while the rest of the backward pass still runs.
        """
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = POST_ACCUMULATE_HOOKS.get(id(self))
        if hooks is None:  # the entry goes with the tensor, so a later tensor at the same id starts clean
            hooks = POST_ACCUMULATE_HOOKS[id(self)] = {}
            weakref.finalize(self, POST_ACCUMULATE_HOOKS.pop, id(self), None)
        return _HookHandle(hooks, hook)

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

    def cpu(self, memory_format=None) -> Tensor:
        """A copy in host memory (recorded in the graph), or the tensor itself when it is there already."""
        return self.to(_device.CPU)

    def cuda(self, device=None, non_blocking: bool = False, memory_format=None) -> Tensor:
        """A copy on a CUDA device (the current one unless ``device`` is given; recorded in the graph), or the
        tensor itself when it is there already. Without a GPU it raises :class:`fukaku.DeviceError`; a
        device of another type (``'cpu'``) raises RuntimeError, as in PyTorch."""
        return self.to(_device.check_cuda_device(device, "Tensor.cuda"))

    @property
    def is_cuda(self) -> bool:
        """Whether the tensor lives on a CUDA device."""
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return type(self._data) is np.ndarray or self.device is _device.CPU

    # ----------------------------------------------------------------- new tensors like this one
    # Each takes PyTorch's keywords: ``dtype`` (this tensor's unless given), ``device`` (the CPU) and
    # ``requires_grad``; the array comes from this tensor's array library.
    def new_zeros(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size``."""
        return self._new("new_zeros", lambda xp, dt: xp.zeros(_size(size), dt), dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """Ones of ``size``."""
        return self._new("new_ones", lambda xp, dt: xp.ones(_size(size), dt), dtype, device, requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """An uninitialised tensor of ``size``."""
        return self._new("new_empty", lambda xp, dt: xp.empty(_size(size), dt), dtype, device, requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """``fill_value`` everywhere in a tensor of ``size``."""
        return self._new("new_full", lambda xp, dt: xp.full(_size((size,)), fill_value, dt), dtype, device,
                         requires_grad)

    def new_tensor(self, data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` as a tensor."""
        return self._new("new_tensor", lambda xp, dt: _to_array(data, dt).copy(), dtype, device, requires_grad)

    def _new(self, op: str, make, dtype, device, requires_grad: bool) -> Tensor:
        dev = self.device if device is None else _device.check_device(device, op)  # this tensor's, as in PyTorch
        return _finish(make(array_module(self._data), np.dtype(dtype or self.dtype)), requires_grad, dev)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor in ``other``'s dtype (itself when they agree)."""
        return self.to(other.dtype)


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
# Every creation function takes ``device=`` (checked in one place, fukaku._device.check_device: the
# CPU, or a GPU when CuPy sees one; the array is placed there by _finish) and every sampling function
# ``generator=`` (fukaku._generator.resolve_generator: the default generator when None; on a GPU the
# GPU's own generator draws, see _sampler). The generator, seeding and RNG-state functions live in
# _generator.py.

def _size(size) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    if len(size) == 1 and isinstance(size[0], Tensor):
        size = tuple(size[0].tolist())
    out = tuple(builtins.int(s) for s in size)
    if any(s < 0 for s in out):
        raise ShapeError(f"negative dimension in size {out}")
    return out


def _finish(arr: np.ndarray, requires_grad: bool, dev: _device.device = _device.CPU) -> Tensor:
    """The new tensor around ``arr``, placed on ``dev`` (copied there unless it is there already)."""
    t = wrap(_device.place(arr, dev))
    if requires_grad:
        t.requires_grad_(True)
    return t


def _from_python(arr: np.ndarray, requires_grad: bool, dev: _device.device = _device.CPU) -> Tensor:
    """:func:`_finish` for a creation function that made ``arr`` from Python values alone (a shape, a fill
    value, a range): no data, no random draw. A forward program of ``fukaku.jit`` may keep such a tensor
    as a constant, so a trace recording one hears of it (``_jit_hooks.created``)."""
    t = _finish(arr, requires_grad, dev)
    return t if requires_grad else made_from_python(t)


def made_from_python(t: Tensor) -> Tensor:
    """Internal API: ``t``, which was made from Python values alone (shapes, literals: no data, no random
    draw); a trace recording a forward pass hears of it (``_jit_hooks.created``) and may keep it as a constant."""
    if _jit_hooks.created is not None:
        _jit_hooks.created(t)
    return t


def _float_dtype(dtype, op: str = "dtype") -> dtypes.dtype:
    """``dtype`` as a fukaku dtype; the default float when None."""
    return dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype, op)


def _sampling_dtype(dtype, op: str) -> dtypes.dtype:
    """The dtype continuous samples are drawn in: floating or complex (the default float when None)."""
    d = _float_dtype(dtype, op)
    if not (d.is_floating_point or d.is_complex):  # NotImplementedError (a RuntimeError), as torch raises
        raise NotImplementedError(f"{op}: draws real numbers, so its dtype must be floating point or complex, got "
                                  f"{d}; for integers use fukaku.randint")
    return d


class _DeviceSampler:
    """The sampling methods of a NumPy Generator that fukaku's creation functions use, drawn on a GPU
    by its library's own generator (CuPy's ``cupy.random``, seeded by ``fukaku.manual_seed`` and
    ``fukaku.cuda.manual_seed``), so the samples never cross the bus."""

    __slots__ = ("_module", "_index")

    def __init__(self, module, index: int) -> None:
        self._module, self._index = module, index

    def _call(self, name: str, *args, **kwargs):
        with self._module.cuda.Device(self._index):
            return getattr(self._module.random, name)(*args, **kwargs)

    def random(self, shape):
        return self._call("random_sample", shape)

    def standard_normal(self, shape):
        return self._call("standard_normal", shape)

    def normal(self, mean, std, size):
        return self._call("normal", mean, std, size)

    def integers(self, low: int, high: int, size):
        return self._call("randint", low, high, size, dtype=np.int64)

    def permutation(self, n: int):
        return self._call("permutation", n)


def _sampler(generator, dev: _device.device, op: str):
    """What draws the samples of a tensor made on ``dev``: ``generator`` (the default one when None) on
    the CPU; the device's own generator on a GPU, where a (CPU) ``generator`` is refused as in PyTorch."""
    if dev is _device.CPU:
        return resolve_generator(generator, op)
    if generator is not None:
        raise RuntimeError(f"{op}: Expected a '{dev.type}' device type for generator but found "
                           f"'{generator.device.type}'; fukaku's generators draw on the CPU: drop generator= to "
                           f"draw with the {dev.type} generator (seed it with fukaku.manual_seed), or draw on the "
                           "CPU and move the tensor with .to(device)")
    return _DeviceSampler(backends.device_module(dev.type), dev.index)


def _draw(sample, shape: tuple[int, ...], d: dtypes.dtype, scale: float = 1.0) -> np.ndarray:
    """``sample(shape)`` (float64 draws) in dtype ``d``; a complex dtype draws its real and imaginary
    parts independently, each scaled by ``scale``."""
    if not d.is_complex:
        return sample(shape).astype(d)
    parts = sample((*shape, 2)) * scale
    return parts.astype(d.to_real()).view(d.dtype).reshape(shape)


def tensor(data, dtype=None, *, device=None, requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """A new tensor copying ``data`` (nested lists, scalars, arrays, tensors).

    Python floats become float32 (the default dtype), ints int64, bools bool, complex numbers
    complex64; NumPy arrays keep their dtype, as in ``torch.tensor``. Strings, ``None`` and other
    objects are refused, and so is a ragged nesting (the error names the dimension). The copy is made
    on ``device``; when it is None, on the device of ``data`` (a GPU tensor's copy stays on the GPU).

    Example::

        >>> fukaku.tensor([[1, 2], [3, 4]]).dtype
        fukaku.int64
    """
    dev = None if device is None else _device.check_device(device, "tensor")
    arr = _to_array(data, dtype)
    arr = array_module(arr).array(arr, copy=True)
    return _finish(arr, requires_grad, dev or _device.device_of(arr))  # a GPU tensor's copy stays on its GPU


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, but shares memory with a NumPy array or tensor where it can."""
    dev = None if device is None else _device.check_device(device, "as_tensor")
    if isinstance(data, Tensor) and (dtype is None or data._data.dtype == np.dtype(dtype)):
        return data if dev is None or dev == data.device else data.to(dev)
    arr = _to_array(data, dtype)
    return _finish(arr, False, dev or _device.device_of(arr))


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array`` (dtype kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy(): expected np.ndarray, got {type(array).__name__}")
    return wrap(array)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Zeros of shape ``size`` (ints or one sequence), in the default float dtype unless given."""
    dev = _device.check_device(device, "zeros")
    return _from_python(np.zeros(_size(size), dtype=_float_dtype(dtype, "zeros")), requires_grad, dev)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Ones of shape ``size`` (ints or one sequence), in the default float dtype unless given."""
    dev = _device.check_device(device, "ones")
    return _from_python(np.ones(_size(size), dtype=_float_dtype(dtype, "ones")), requires_grad, dev)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor of shape ``size`` (its values are whatever the memory held)."""
    dev = _device.check_device(device, "empty")
    return _from_python(np.empty(_size(size), dtype=_float_dtype(dtype, "empty")), requires_grad, dev)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere; the dtype is ``fill_value``'s (float32 for a float, int64 for an int …)."""
    dev = _device.check_device(device, "full")
    d = dtypes.scalar_dtype(fill_value) if dtype is None else dtypes.as_dtype(dtype, "full")
    return _from_python(np.full(_size((size,)), fill_value, dtype=d), requires_grad, dev)


def _like(t: Tensor, dtype, device, op: str):
    """The shape, dtype and device of a ``*_like`` result (``t``'s dtype and device unless given)."""
    dev = t.device if device is None else _device.check_device(device, op)
    return t._data.shape, (dtypes.lookup(t._data.dtype) if dtype is None else dtypes.as_dtype(dtype, op)), dev


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    shape, d, dev = _like(input, dtype, device, "zeros_like")
    return _from_python(array_module(input._data).zeros(shape, d), requires_grad, dev)


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    shape, d, dev = _like(input, dtype, device, "ones_like")
    return _from_python(array_module(input._data).ones(shape, d), requires_grad, dev)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    shape, d, dev = _like(input, dtype, device, "full_like")
    return _from_python(array_module(input._data).full(shape, fill_value, d), requires_grad, dev)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    shape, d, dev = _like(input, dtype, device, "empty_like")
    return _from_python(array_module(input._data).empty(shape, d), requires_grad, dev)


def rand_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    """Uniform samples on [0, 1) of ``input``'s shape and (floating) dtype."""
    shape, d, dev = _like(input, dtype, device, "rand_like")
    rng = _sampler(generator, dev, "rand_like")
    return _finish(_draw(rng.random, shape, _sampling_dtype(d, "rand_like")), requires_grad, dev)


def randn_like(input: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    """Standard normal samples of ``input``'s shape and (floating) dtype."""
    shape, d, dev = _like(input, dtype, device, "randn_like")
    rng = _sampler(generator, dev, "randn_like")
    return _finish(_draw(rng.standard_normal, shape, _sampling_dtype(d, "randn_like"), scale=0.5 ** 0.5),
                   requires_grad, dev)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, generator=None, dtype=None, device=None,
                 requires_grad: bool = False, memory_format=None) -> Tensor:
    """Integers uniform on [low, high) of ``input``'s shape and dtype (``randint_like(x, high)``: low = 0).

    Example::

        >>> fukaku.randint_like(fukaku.zeros(3), 5).dtype
        fukaku.float32
    """
    if high is None:
        low, high = 0, low
    shape, d, dev = _like(input, dtype, device, "randint_like")
    return _finish(_integers(low, high, shape, d, _sampler(generator, dev, "randint_like"), "randint_like"),
                   requires_grad, dev)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``arange(end)`` or ``arange(start, end, step)``; int64 when all bounds are ints, else float32."""
    dev = _device.check_device(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_int = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
        dtype = dtypes.int64 if is_int else dtypes.get_default_dtype()
    if step == 0:
        raise ValueError("arange(): step must be nonzero")
    return _from_python(np.arange(start, end, step).astype(dtypes.as_dtype(dtype, "arange")), requires_grad, dev)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end``, both included."""
    dev = _device.check_device(device, "linspace")
    return _from_python(np.linspace(start, end, steps).astype(_float_dtype(dtype, "linspace")), requires_grad, dev)


def logspace(start, end, steps: int, base: float = 10.0, *, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    """``base ** linspace(start, end, steps)``: ``steps`` values evenly spaced on a log scale.

    Example::

        >>> fukaku.logspace(0, 2, 3)
        tensor([  1.,  10., 100.])
    """
    dev = _device.check_device(device, "logspace")
    exponents = np.linspace(start, end, steps)
    return _from_python(np.power(builtins.float(base), exponents).astype(_float_dtype(dtype, "logspace")), requires_grad,
                   dev)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """The n×m identity matrix (m = n unless given)."""
    dev = _device.check_device(device, "eye")
    return _from_python(np.eye(n, m, dtype=_float_dtype(dtype, "eye")), requires_grad, dev)


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples on [0, 1) (a complex dtype: real and imaginary parts each uniform)."""
    dev = _device.check_device(device, "rand")
    rng = _sampler(generator, dev, "rand")
    return _finish(_draw(rng.random, _size(size), _sampling_dtype(dtype, "rand")), requires_grad, dev)


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples (a complex dtype: real and imaginary parts each of variance 1/2)."""
    dev = _device.check_device(device, "randn")
    rng = _sampler(generator, dev, "randn")
    return _finish(_draw(rng.standard_normal, _size(size), _sampling_dtype(dtype, "randn"), scale=0.5 ** 0.5),
                   requires_grad, dev)


def _integers(low, high, shape: tuple[int, ...], d: dtypes.dtype, rng, op: str) -> np.ndarray:
    """Integers uniform on [low, high) in dtype ``d``, drawn by ``rng`` (see :func:`_sampler`)."""
    low, high = builtins.int(low), builtins.int(high)
    if low >= high:
        raise RuntimeError(f"{op}: expects 'low' to be less than 'high', but got low={low} >= high={high}")
    return rng.integers(low, high, size=shape).astype(d)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high): ``randint(low, high, size)`` or ``randint(high, size)``; int64
    unless ``dtype`` is given.

    Example::

        >>> fukaku.randint(10, (3,)).dtype
        fukaku.int64
    """
    dev = _device.check_device(device, "randint")
    if size is None:
        if high is None or isinstance(high, (builtins.int, np.integer)):
            raise TypeError("randint(): missing the size: call randint(high, size) or randint(low, high, size)")
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype, "randint")
    return _finish(_integers(low, high, _size((size,)), d, _sampler(generator, dev, "randint"), "randint"),
                   requires_grad, dev)


def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0 … n−1 (int64 unless ``dtype`` is given)."""
    dev = _device.check_device(device, "randperm")
    if builtins.int(n) < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    d = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype, "randperm")
    return _finish(_sampler(generator, dev, "randperm").permutation(builtins.int(n)).astype(d), requires_grad, dev)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """Normal samples N(mean, std²): ``normal(mean, std, size)`` with numbers, or element by element
    with tensors (``normal(mean_tensor, std)``, ``normal(mean, std_tensor)``, ``normal(means, stds)``;
    they broadcast). The samples carry no gradient (PyTorch's is zero too).

    Shape: ``size``, or the broadcast shape of the tensor arguments.
    """
    dev = _device.check_device(device, "normal")
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    if tensors:
        if size is not None:
            raise TypeError("normal(): size is given by the tensor arguments; pass size only with numbers")
        d = tensors[0].dtype
        for t in tensors[1:]:
            d = dtypes.promote_types(d, t.dtype)
        d = _sampling_dtype(d if dtype is None else dtype, "normal")
        if device is None:
            dev = tensors[0].device  # the tensors' device, as in PyTorch
        mean, std = (x._data if isinstance(x, Tensor) else x for x in (mean, std))
        shape = np.broadcast_shapes(*(getattr(x, "shape", ()) for x in (mean, std)))
    else:
        if size is None:
            raise TypeError("normal(): with numbers for mean and std, give the size: normal(mean, std, size)")
        d, shape = _sampling_dtype(dtype, "normal"), _size((size,))
    xp = array_module(std)
    if bool((xp.asarray(std) < 0).any()):
        raise RuntimeError(f"normal: expects std >= 0.0, but found std {xp.asarray(std).min()}")
    draws = _sampler(generator, dev, "normal").normal(mean, std, size=shape)
    return _finish(draws.astype(d), requires_grad, dev)


def _check_probabilities(p: np.ndarray, op: str) -> None:
    if not (np.isfinite(p).all() and (p >= 0).all()):
        raise RuntimeError(f"{op}: probability tensor contains either `inf`, `nan` or element < 0")


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Indices drawn from the categorical distributions in the rows of ``input`` (weights: nonnegative,
    not necessarily normalised), as ``torch.multinomial``.

    Without replacement each row yields ``num_samples`` distinct indices, in the order drawn
    (exponential races: the k largest ``p / E``, ``E ~ Exp(1)``); once the categories of nonzero
    weight are used up, zero-weight ones follow, as in PyTorch. With replacement the draws are
    independent (inverse CDF), and a zero-weight category is never drawn. For a tensor on a GPU the
    draw runs on the host, from ``generator`` (its searches and partial sorts are NumPy's), and the
    indices are copied back to the tensor's device.

    Args:
        input: weights, shape ``(k,)`` or ``(rows, k)``, floating point.
        num_samples: draws per row (at most ``k`` without replacement).
        replacement: draw with replacement.
        generator: the generator to draw from (the default one when None).

    Shape: ``(num_samples,)`` or ``(rows, num_samples)``; int64.

    Example::

        >>> fukaku.multinomial(fukaku.tensor([0.0, 1.0, 0.0]), 1)
        tensor([1])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"multinomial(): input must be a Tensor, got {type(input).__name__}")
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got {input.dtype}")
    if input.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}")
    n = builtins.int(num_samples)
    p = backends.to_host(input._data).astype(np.float64).reshape(-1, input.shape[-1])  # sorts and searches: on the host
    rows, k = p.shape
    if n <= 0:
        raise RuntimeError(f"multinomial: cannot sample n_sample <= 0 samples (got {n})")
    if not replacement and n > k:
        raise RuntimeError(f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without replacement "
                           f"({n} > {k}); pass replacement=True")
    _check_probabilities(p, "multinomial")
    if rows and (p.sum(axis=1) <= 0).any():
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of probabilities <= 0)")
    rng = resolve_generator(generator, "multinomial")
    if replacement:
        cdf = np.cumsum(p, axis=1)
        cdf /= cdf[:, -1:]
        cdf[:, -1] = 1.0
        # one sorted search for all rows: row r's CDF and draws are shifted by r (r <= cdf + r < r + 1)
        offset = np.arange(rows, dtype=np.float64)[:, None]
        found = np.searchsorted((cdf + offset).ravel(), (rng.random((rows, n)) + offset).ravel(), side="right")
        out = found.reshape(rows, n) - np.arange(rows)[:, None] * k
        # a draw rounded up to r + 1 lands past its row: it belongs to the row's last nonzero category
        last = k - 1 - np.argmax(p[:, ::-1] > 0, axis=1)
        out = np.where(out >= k, last[:, None], out)
    else:
        keys = p / rng.exponential(size=p.shape)
        if n < k:
            top = np.argpartition(-keys, n - 1, axis=1)[:, :n]
        else:
            top = np.broadcast_to(np.arange(k), (rows, k))
        order = np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1, kind="stable")
        out = np.take_along_axis(top, order, axis=1)
    out = out.astype(np.int64)
    return _finish(out.reshape(n) if input.ndim == 1 else out, False, input.device)


def bernoulli(input: Tensor, p: float | None = None, *, generator=None) -> Tensor:
    """0/1 samples: element i is 1 with probability ``input[i]`` (or ``p`` for every element when
    given), in ``input``'s (floating) dtype, as ``torch.bernoulli``.

    Example::

        >>> fukaku.bernoulli(fukaku.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"bernoulli(): input must be a Tensor, got {type(input).__name__}")
    if not (input.is_floating_point() or input.dtype.is_complex):
        raise NotImplementedError(f"bernoulli: not implemented for {input.dtype} input; pass probabilities as a "
                                  "floating-point tensor, e.g. x.float()")
    if p is None:
        probs = input._data
        if not ((probs >= 0) & (probs <= 1)).all():
            raise RuntimeError("bernoulli: expected every probability in input to be in [0, 1] (and not nan)")
    else:
        probs = builtins.float(p)
        if not 0.0 <= probs <= 1.0:
            raise RuntimeError(f"bernoulli: expects p to be in [0, 1], but got p={p}")
    draws = _sampler(generator, input.device, "bernoulli").random(input._data.shape)
    return wrap((draws < probs).astype(input._data.dtype))


Tensor.multinomial = multinomial  # x.multinomial(n), x.bernoulli(): the Tensor methods PyTorch has
Tensor.bernoulli = bernoulli


# ---------------------------------------------------------------------- legacy tensor types
class _LegacyTensorType(type):
    """The metaclass of ``fukaku.FloatTensor`` & co.: calling the type makes a tensor of its dtype;
    ``isinstance(x, fukaku.FloatTensor)`` asks whether ``x`` is a float32 tensor."""

    _dtype: dtypes.dtype

    def __instancecheck__(cls, obj) -> bool:
        return isinstance(obj, Tensor) and obj._data.dtype == cls._dtype

    def __call__(cls, *args, device=None) -> Tensor:
        dev = _device.check_device(device, cls.__name__)
        made = cls._make(*args)
        return made if dev is _device.CPU else made.to(dev)

    def _make(cls, *args) -> Tensor:
        name = cls.__name__
        if not args:
            return wrap(np.empty((0,), cls._dtype))
        if isinstance(args[0], Size) or builtins.all(
                isinstance(a, (builtins.int, np.integer)) and not isinstance(a, bool) for a in args):
            return wrap(np.empty(_size(args if not isinstance(args[0], Size) else (args[0],)), cls._dtype))
        if len(args) > 1:
            raise TypeError(f"{name}(): expected sizes (ints) or one data argument, got {len(args)} arguments")
        data = args[0]
        if isinstance(data, Tensor):
            if data._data.dtype != cls._dtype:
                raise TypeError(f"{name}(): expected a {cls._dtype} tensor, got {data.dtype}; convert it with "
                                f"x.to({cls._dtype!r})")
            return data
        if isinstance(data, (builtins.float, complex, str)) or not isinstance(data, (list, tuple, np.ndarray, range)):
            raise TypeError(f"{name}(): expected sizes or a sequence of numbers, got {type(data).__name__}")
        return tensor(data, dtype=cls._dtype)


def _legacy_type(d: dtypes.dtype) -> type:
    doc = (f"``fukaku.{d._legacy}(data)`` or ``fukaku.{d._legacy}(*sizes)``: a {d} tensor from data, or an "
           f"uninitialised one of the given sizes (PyTorch's legacy constructor); ``isinstance(x, "
           f"fukaku.{d._legacy})`` tests for a {d} tensor.")
    return _LegacyTensorType(d._legacy, (), {"_dtype": d, "__doc__": doc, "__module__": __name__})


FloatTensor = _legacy_type(dtypes.float32)
DoubleTensor = _legacy_type(dtypes.float64)
HalfTensor = _legacy_type(dtypes.float16)
LongTensor = _legacy_type(dtypes.int64)
IntTensor = _legacy_type(dtypes.int32)
ShortTensor = _legacy_type(dtypes.int16)
CharTensor = _legacy_type(dtypes.int8)
ByteTensor = _legacy_type(dtypes.uint8)
BoolTensor = _legacy_type(dtypes.bool_)


__all__ = ["Tensor", "Size", "tensor", "as_tensor", "from_numpy", "zeros", "ones", "empty", "full", "zeros_like",
           "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "randint_like", "arange", "linspace",
           "logspace", "eye", "rand", "randn", "randint", "randperm", "normal", "multinomial", "bernoulli",
           "Generator", "manual_seed", "seed", "initial_seed", "default_generator", "get_rng_state", "set_rng_state",
           "FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
           "ByteTensor", "BoolTensor"]
