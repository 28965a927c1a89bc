"""A stand-in GPU for machines without one: CuPy's behaviour where fukaku depends on it, computed by NumPy.

``HostDeviceArray`` plays a GPU array (NumPy memory in a class of its own: like CuPy's ``ndarray``, it
is not a ``numpy.ndarray``, so an ``isinstance(x, np.ndarray)`` in fukaku is False for it as on a
GPU), and ``StandInCupy`` a module with CuPy's API that computes on such arrays. Registered as the ``'cuda'`` device
(``fukaku.backends.register_device('cuda', StandInCupy())``), it lets the real code paths of the GPU
backend run on a CPU-only machine, with CuPy's rules enforced:

- arrays stay on the device: every function of the module returns ``HostDeviceArray`` (a reduction a
  0-d array, never a NumPy scalar, as CuPy's do);
- host arrays are refused where CuPy refuses them: as an operand of a function, an operator or a
  ufunc (``TypeError: Unsupported type <class 'numpy.ndarray'>``); ``asarray``/``array`` copy a host
  array in, ``asnumpy``/``.get()`` copy one out, and an index or an assigned value is copied in
  silently, as CuPy does, but counted (``StandInCupy.implicit_transfers``);
- a device array is never turned into a host array implicitly: ``np.asarray(d)``/``np.array(d)``
  raise CuPy's ``TypeError: Implicit conversion to a NumPy array is not allowed``; each read of device
  values by the host (``.get()``, ``.item()``, ``bool(d)``, ``float(d)``…), which waits for the GPU on
  a real one, is counted (``StandInCupy.host_reads``);
- a NumPy function called on a device array runs the module's function of that name when CuPy has
  one, and raises otherwise, as CuPy's ``__array_function__`` does;
- CuPy's ufuncs take only ``out``, ``dtype`` and ``casting`` (no ``where=``), and offer ``reduce`` and
  ``accumulate`` for ``add`` and ``multiply`` only, ``reduceat`` for ``add`` only and ``at`` for the
  ufuncs of :data:`UFUNCS_WITH_AT`, raising ``NotImplementedError`` otherwise as CuPy 14 does; an array's
  ``flags`` have no ``writeable`` and ``lib.stride_tricks.as_strided`` takes no ``writeable``/``subok``;
- CuPy's extra names exist (``cuda.Device``, ``cuda.runtime``, ``random.seed``, memory pools); every
  other name is NumPy's, except the few of :data:`NOT_IN_CUPY`, which are hidden. That list is not
  complete: a NumPy function CuPy lacks and that is not on it still runs here, so a test passing on
  the stand-in does not show that every name fukaku calls exists in CuPy.

A test passing on the stand-in shows the op never leaves the device and runs CuPy's calls; it does
not show that CuPy's kernels give the same numbers, which only a run on a GPU shows.
"""
from __future__ import annotations

import contextlib
import types
from collections import Counter

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

# NumPy names that CuPy does not provide and that fukaku once called on a device path; the stand-in hides
# them, so that such a call fails here as it would on a GPU. The list is kept by hand (it is not generated
# from CuPy, which is not installed here) and is not complete: other names CuPy lacks still work here.
NOT_IN_CUPY = frozenset({"broadcast_shapes", "linalg.LinAlgError"})
# CuPy 14's ufuncs, as read off its ufunc class: the keywords a call takes, the ufuncs each method works for
UFUNC_KEYWORDS = frozenset({"out", "dtype", "casting"})
UFUNCS_WITH_AT = frozenset({"add", "subtract", "maximum", "minimum", "bitwise_and", "bitwise_or", "bitwise_xor"})
UFUNC_METHODS = {"reduce": {"add", "multiply"}, "accumulate": {"add", "multiply"}, "reduceat": {"add"},
                 "at": UFUNCS_WITH_AT, "outer": None}  # None: every ufunc
# keywords of NumPy's functions and array methods (``ndarray.<name>``) that CuPy's of the same name do not take
_NO_INITIAL = ("initial", "where")
REFUSED_KEYWORDS = {"lib.stride_tricks.as_strided": ("writeable", "subok"), "lexsort": ("axis",),
                    **{f"{prefix}{name}": _NO_INITIAL for prefix in ("", "ndarray.")
                       for name in ("max", "amax", "min", "amin", "sum", "prod")}}


def _refuse_keywords(path: str, kwargs: dict) -> None:
    for keyword in REFUSED_KEYWORDS.get(path, ()):
        if keyword in kwargs:
            raise TypeError(f"{path.rsplit('.', 1)[-1]}() got an unexpected keyword argument '{keyword}' (CuPy's "
                            f"{path} does not take it)")


def _check_ufunc_use(name: str, method: str, kwargs: dict) -> None:
    """Raise what CuPy raises for ``cupy.<name>.<method>(..., **kwargs)`` where it lacks the feature."""
    if method == "__call__":
        refused = set(kwargs) - UFUNC_KEYWORDS
        if refused:
            raise TypeError(f"Wrong arguments {refused} of cupy.{name} (CuPy's ufuncs take {sorted(UFUNC_KEYWORDS)})")
        return
    works_for = UFUNC_METHODS.get(method, ())
    if works_for is not None and name not in works_for:
        raise NotImplementedError(f"`cupy_{name}.{method}` is not supported yet")


class _CupyFlags:
    """What a CuPy array's ``flags`` holds: contiguity and ownership, no ``writeable`` (all are writeable)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags) -> None:
        self.c_contiguous, self.f_contiguous, self.owndata = flags.c_contiguous, flags.f_contiguous, flags.owndata


class _StandInDevice:
    """What a CuPy array's ``.device`` is: a device with an ordinal ``id``."""

    __slots__ = ("id",)

    def __init__(self, index: int) -> None:
        self.id = index

    def __repr__(self) -> str:
        return f"<CUDA Device {self.id}>"


_DEVICE0 = _StandInDevice(0)


def _refuse_host(value, where: str) -> None:
    raise TypeError(f"Unsupported type {type(value)!r} in {where}: a host (NumPy) array cannot be combined with a "
                    "device array; copy it with xp.asarray first (the stand-in enforces CuPy's rule)")


def _unwrap(value, where: str):
    """``value`` with every device array as a plain ndarray view; a host ndarray is refused."""
    if isinstance(value, HostDeviceArray):
        return value._host
    if isinstance(value, np.ndarray):
        _refuse_host(value, where)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v, where) for v in value)
    return value


def _index_on_device(key):
    """An index as CuPy takes it: device arrays as they are; a host array is copied to the device,
    which CuPy allows, but each such copy is counted in ``StandInCupy.implicit_transfers``."""
    if isinstance(key, tuple):
        return tuple(_index_on_device(k) for k in key)
    if isinstance(key, HostDeviceArray):
        return key._host
    if isinstance(key, np.ndarray):
        StandInCupy.implicit_transfers += 1
    return key


def _unwrap_all(args, kwargs, where: str):
    return [_unwrap(a, where) for a in args], {k: _unwrap(v, where) for k, v in kwargs.items()}


def _on_device(value):
    """A result as CuPy would return it: arrays (and NumPy scalars) as device arrays, recursively."""
    if isinstance(value, np.ndarray):
        return HostDeviceArray(value)
    if isinstance(value, np.generic):
        return HostDeviceArray(np.asarray(value))
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_on_device(v) for v in value)
    if hasattr(value, "_fields"):  # a named tuple (np.linalg.svd's result): CuPy returns a plain tuple
        return tuple(_on_device(v) for v in value)
    return value


def _read_by_host(method: str):
    """A method of the host array that hands device values to Python (``item``, ``__float__``…): on a
    GPU each waits for the device and copies, so the stand-in counts it."""
    def read(self, *args):
        StandInCupy.host_reads += 1
        return getattr(self._host, method)(*args)

    read.__name__ = method
    return read


class HostDeviceArray(NDArrayOperatorsMixin):
    """An array that plays a GPU array: NumPy memory (``_host``), CuPy's rules (see the module's docstring).

    Not an ``ndarray`` subclass, as CuPy's array is not: NumPy cannot view it as one of its own arrays.
    Operators go through ``__array_ufunc__``, NumPy functions through ``__array_function__``, and every
    other attribute (``shape``, ``dtype``, ``reshape``, ``sum``…) is the host array's, its array results
    kept on the device.
    """

    __slots__ = ("_host",)
    __hash__ = None  # as ndarray's: arrays compare elementwise

    def __init__(self, host: np.ndarray) -> None:
        self._host = host

    @property
    def device(self) -> _StandInDevice:
        return _DEVICE0

    @property
    def flags(self) -> _CupyFlags:
        return _CupyFlags(self._host.flags)

    def get(self) -> np.ndarray:
        """A host copy (CuPy's ``ndarray.get``)."""
        StandInCupy.host_reads += 1
        return np.array(self._host, copy=True)

    def __array__(self, dtype=None, copy=None):
        raise TypeError("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to construct a "
                        "NumPy array explicitly.")

    def __getattr__(self, name: str):
        if name.startswith("__") or name == "_host":  # _host unset: an instance being unpickled
            raise AttributeError(name)
        attr = getattr(self._host, name)
        if not callable(attr):
            return _on_device(attr)  # shape, dtype, ndim as they are; .T, .real, .flat… on the device

        def method(*args, **kwargs):
            _refuse_keywords(f"ndarray.{name}", kwargs)
            args, kwargs = _unwrap_all(args, kwargs, f"ndarray.{name}")
            return _on_device(attr(*args, **kwargs))

        return method

    item, tolist = _read_by_host("item"), _read_by_host("tolist")
    __bool__, __float__, __int__, __index__, __complex__ = (
        _read_by_host("__bool__"), _read_by_host("__float__"), _read_by_host("__int__"), _read_by_host("__index__"),
        _read_by_host("__complex__"))
    __format__ = _read_by_host("__format__")

    def __len__(self) -> int:
        return len(self._host)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        _check_ufunc_use(ufunc.__name__, method, kwargs)
        out = kwargs.get("out")
        args, kwargs = _unwrap_all(inputs, kwargs, f"{ufunc.__name__}.{method}")
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:  # in place (``d *= 2``): the device arrays written to, themselves
            return out[0] if len(out) == 1 else out
        return _on_device(result)

    def __array_function__(self, func, types, args, kwargs):
        # CuPy's rule: numpy.<name>(device array) runs cupy.<name> when CuPy has it, else fails
        module = func.__module__.removeprefix("numpy").lstrip(".").split(".")
        path = ".".join([p for p in module if p and not p.startswith("_")] + [func.__name__])
        found = STANDIN_NAMESPACE
        for part in path.split("."):
            found = getattr(found, part, None)
            if found is None:
                raise TypeError(f"no implementation found for 'numpy.{path}' on a device array (CuPy has no "
                                f"cupy.{path}); compute with xp = fukaku.backends.array_module(...) instead")
        return found(*args, **kwargs)

    def __getitem__(self, key):
        return _on_device(self._host[_index_on_device(key)])

    def __setitem__(self, key, value) -> None:
        if isinstance(value, HostDeviceArray):
            value = value._host
        elif isinstance(value, np.ndarray):
            StandInCupy.implicit_transfers += 1  # CuPy copies a host value in, as it does a host index
        self._host[_index_on_device(key)] = value

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __copy__(self) -> HostDeviceArray:
        return HostDeviceArray(self._host.copy())

    def __deepcopy__(self, memo) -> HostDeviceArray:
        return HostDeviceArray(self._host.copy())

    def __reduce__(self):
        return (HostDeviceArray, (self._host,))

    def __repr__(self) -> str:
        return f"HostDeviceArray({self._host!r})"


class _Ufunc:
    """A NumPy ufunc as CuPy offers it: called, or through its ``reduce``/``at``/``outer``… methods."""

    def __init__(self, ufunc: np.ufunc, record) -> None:
        self._ufunc, self._record = ufunc, record

    def __call__(self, *args, **kwargs):
        _check_ufunc_use(self._ufunc.__name__, "__call__", kwargs)
        args, kwargs = _unwrap_all(args, kwargs, self._ufunc.__name__)
        return _on_device(self._ufunc(*args, **kwargs))

    def __getattr__(self, name: str):
        attr = getattr(self._ufunc, name)
        if not callable(attr):
            return attr
        self._record(f"{self._ufunc.__name__}.{name}")

        def method(*args, **kwargs):
            _check_ufunc_use(self._ufunc.__name__, name, {})
            args, kwargs = _unwrap_all(args, kwargs, f"{self._ufunc.__name__}.{name}")
            return _on_device(attr(*args, **kwargs))

        return method


class _Grid:
    """``ogrid``/``mgrid``/``r_``/``c_``: indexed, not called; what they make is on the device."""

    def __init__(self, grid) -> None:
        self._grid = grid

    def __getitem__(self, key):
        return _on_device(self._grid[key])


class _Namespace(types.SimpleNamespace):
    """A submodule of the stand-in (``linalg``, ``fft``, ``lib.stride_tricks``): NumPy's functions of the
    same path, with the device rules."""

    def __init__(self, numpy_module, path: str, record) -> None:
        super().__init__()
        self._numpy_module, self._path, self._record = numpy_module, path, record

    def __getattr__(self, name: str):
        if name.startswith("_") or f"{self._path}.{name}" in NOT_IN_CUPY:
            raise AttributeError(f"module 'cupy.{self._path}' has no attribute {name!r}")
        return _device_attribute(getattr(self._numpy_module, name), f"{self._path}.{name}", self._record)


def _device_attribute(attr, path: str, record):
    """What the stand-in answers for a NumPy attribute: types and constants as they are, submodules
    and ufuncs wrapped, functions made to take and return device arrays."""
    record(path)
    if path in ("ogrid", "mgrid", "r_", "c_"):
        return _Grid(attr)
    if isinstance(attr, type) or not callable(attr) and not isinstance(attr, types.ModuleType):
        return attr
    if isinstance(attr, types.ModuleType):
        return _Namespace(attr, path, record)
    if isinstance(attr, np.ufunc):
        return _Ufunc(attr, record)

    def on_device(*args, **kwargs):
        _refuse_keywords(path, kwargs)
        args, kwargs = _unwrap_all(args, kwargs, path)
        return _on_device(attr(*args, **kwargs))

    on_device.__name__ = path
    return on_device


class _Random:
    """``cupy.random``'s legacy module functions, from a device generator of its own (NumPy's MT19937)."""

    def __init__(self) -> None:
        self.seed(0)

    def seed(self, seed=None) -> None:
        self._state = np.random.RandomState(np.random.MT19937(seed))

    def __getattr__(self, name: str):
        method = getattr(self._state, name)

        def draw(*args, **kwargs):
            args, kwargs = _unwrap_all(args, kwargs, f"random.{name}")
            return _on_device(method(*args, **kwargs))

        return draw


class _Device:
    """``cupy.cuda.Device``: a context that makes device ``index`` current; the stand-in has one device."""

    def __init__(self, index: int | None = None) -> None:
        index = 0 if index is None else int(index)
        if index != 0:
            raise RuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal {index} (the stand-in has one device)")
        self.id = index

    def __enter__(self) -> _Device:
        return self

    def __exit__(self, *exc) -> None:
        return None

    def use(self) -> None:
        return None

    def synchronize(self) -> None:
        StandInCupy.synchronizations += 1


class _MemoryPool:
    """``cupy.get_default_memory_pool()``: the stand-in holds no pool, so it reports nothing held."""

    def __init__(self) -> None:
        self.freed = 0

    def free_all_blocks(self) -> None:
        self.freed += 1

    def used_bytes(self) -> int:
        return 0

    def total_bytes(self) -> int:
        return 0


class StandInCupy(types.ModuleType):
    """The stand-in's module: CuPy's API over :class:`HostDeviceArray`. ``used`` counts the names fukaku asked for."""

    ndarray = HostDeviceArray
    synchronizations = 0
    implicit_transfers = 0  # host indices and values copied in by indexing (see _index_on_device)
    host_reads = 0  # device values read by the host: .get(), .item(), bool(), float()… (see _read_by_host)

    def __init__(self) -> None:
        super().__init__("standin_cupy")
        self.used: Counter[str] = Counter()
        self.random = _Random()
        self.memory_pool, self.pinned_memory_pool = _MemoryPool(), _MemoryPool()
        runtime = types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0)
        self.cuda = types.SimpleNamespace(Device=_Device, runtime=runtime)
        self.__version__ = "stand-in"

    def _record(self, name: str) -> None:
        self.used[name] += 1

    def __getattr__(self, name: str):
        if name.startswith("__") or name in NOT_IN_CUPY:
            raise AttributeError(f"module 'cupy' has no attribute {name!r}")
        return _device_attribute(getattr(np, name), name, self._record)

    # -- host <-> device: the only ways across
    def asarray(self, a, dtype=None, order=None):
        self._record("asarray")
        if isinstance(a, HostDeviceArray):
            return a if dtype is None or a.dtype == dtype else a.astype(dtype)
        host = np.asarray(_unwrap_host_ok(a), dtype=dtype, order=order)
        return HostDeviceArray(np.array(host, copy=True))  # a copy: device memory is separate

    def array(self, a, dtype=None, copy=True, order="K", ndmin=0):
        self._record("array")
        if isinstance(a, HostDeviceArray):
            return HostDeviceArray(np.array(a._host, dtype=dtype, copy=copy, order=order, ndmin=ndmin))
        return HostDeviceArray(np.array(_unwrap_host_ok(a), dtype=dtype, copy=True, order=order, ndmin=ndmin))

    def ascontiguousarray(self, a, dtype=None):
        self._record("ascontiguousarray")
        return HostDeviceArray(np.ascontiguousarray(_unwrap(a, "ascontiguousarray"), dtype=dtype))

    def asnumpy(self, a) -> np.ndarray:
        self._record("asnumpy")
        return a.get() if isinstance(a, HostDeviceArray) else np.asarray(a)

    def get_default_memory_pool(self) -> _MemoryPool:
        return self.memory_pool

    def get_default_pinned_memory_pool(self) -> _MemoryPool:
        return self.pinned_memory_pool


def _unwrap_host_ok(value):
    """Data copied to the device by ``asarray``/``array``: host arrays welcome, device arrays unwrapped."""
    if isinstance(value, HostDeviceArray):
        return value._host
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap_host_ok(v) for v in value)
    return value


@contextlib.contextmanager
def registered_standin():
    """The stand-in registered as fukaku's ``'cuda'`` device for the block; afterwards whatever served
    ``'cuda'`` before (CuPy on a GPU machine, or nothing) serves it again."""
    from fukaku.backends import DEVICE_MODULES, register_device, unregister_device

    previous = DEVICE_MODULES.get("cuda")
    module = StandInCupy()
    register_device("cuda", module)
    try:
        yield module
    finally:
        unregister_device("cuda")
        if previous is not None:
            register_device("cuda", previous)


# the namespace numpy.<name>(device array) is dispatched to (see HostDeviceArray.__array_function__)
STANDIN_NAMESPACE = StandInCupy()
