"""A stand-in GPU for machines without one: CuPy's behaviour where fukaku depends on it, computed by NumPy.

``HostDeviceArray`` is an ``ndarray`` subclass that plays a GPU array, and ``StandInCupy`` a module
with CuPy's API that computes on such arrays. Registered as the ``'cuda'`` device
(``fukaku.backends.register_device('cuda', StandInCupy())``), it lets the real code paths of the GPU
backend run on a CPU-only machine, with CuPy's rules enforced:

- arrays stay on the device: every function of the module returns ``HostDeviceArray`` (a reduction a
  0-d array, never a NumPy scalar, as CuPy's do);
- host arrays are refused where CuPy refuses them: as an operand of a function, an operator or a
  ufunc (``TypeError: Unsupported type <class 'numpy.ndarray'>``); ``asarray``/``array`` copy a host
  array in, ``asnumpy``/``.get()`` copy one out, and an index or an assigned value is copied in
  silently, as CuPy does, but counted (``StandInCupy.implicit_transfers``);
- a NumPy function called on a device array runs the module's function of that name when CuPy has
  one, and raises otherwise, as CuPy's ``__array_function__`` does;
- CuPy's extra names exist (``cuda.Device``, ``cuda.runtime``, ``random.seed``, memory pools), and
  the NumPy names CuPy lacks are missing (:data:`NOT_IN_CUPY`).

A test passing on the stand-in shows the op never leaves the device and runs CuPy's calls; it does
not show that CuPy's kernels give the same numbers, which only a run on a GPU shows.
"""
from __future__ import annotations

import contextlib
import types
from collections import Counter

import numpy as np

# NumPy names that CuPy does not provide; the stand-in hides them, so that a call fails here as it
# would on a GPU (see tests/backends/test_standin.py for how the list was checked).
NOT_IN_CUPY = frozenset({"broadcast_shapes", "linalg.LinAlgError"})


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
        return value.view(np.ndarray)
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
        return key.view(np.ndarray)
    if isinstance(key, np.ndarray):
        StandInCupy.implicit_transfers += 1
    return key


def _unwrap_all(args, kwargs, where: str):
    return [_unwrap(a, where) for a in args], {k: _unwrap(v, where) for k, v in kwargs.items()}


def _on_device(value):
    """A result as CuPy would return it: arrays (and NumPy scalars) as device arrays, recursively."""
    if isinstance(value, np.ndarray):
        return value if isinstance(value, HostDeviceArray) else value.view(HostDeviceArray)
    if isinstance(value, np.generic):
        return np.asarray(value).view(HostDeviceArray)
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_on_device(v) for v in value)
    if hasattr(value, "_fields"):  # a named tuple (np.linalg.svd's result): CuPy returns a plain tuple
        return tuple(_on_device(v) for v in value)
    return value


class HostDeviceArray(np.ndarray):
    """An array that plays a GPU array: NumPy memory, CuPy's rules (see the module's docstring)."""

    @property
    def device(self) -> _StandInDevice:
        return _DEVICE0

    def get(self) -> np.ndarray:
        """A host copy (CuPy's ``ndarray.get``)."""
        return np.array(self.view(np.ndarray), copy=True)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        args, kwargs = _unwrap_all(inputs, kwargs, f"{ufunc.__name__}.{method}")
        return _on_device(getattr(ufunc, method)(*args, **kwargs))

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
        return _on_device(np.ndarray.__getitem__(self.view(np.ndarray), _index_on_device(key)))

    def __setitem__(self, key, value) -> None:
        if isinstance(value, HostDeviceArray):
            value = value.view(np.ndarray)
        elif isinstance(value, np.ndarray):
            StandInCupy.implicit_transfers += 1  # CuPy copies a host value in, as it does a host index
        np.ndarray.__setitem__(self.view(np.ndarray), _index_on_device(key), value)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        return f"HostDeviceArray({np.ndarray.__repr__(self.view(np.ndarray))})"


class _Ufunc:
    """A NumPy ufunc as CuPy offers it: called, or through its ``reduce``/``at``/``outer``… methods."""

    def __init__(self, ufunc: np.ufunc, record) -> None:
        self._ufunc, self._record = ufunc, record

    def __call__(self, *args, **kwargs):
        args, kwargs = _unwrap_all(args, kwargs, self._ufunc.__name__)
        return _on_device(self._ufunc(*args, **kwargs))

    def __getattr__(self, name: str):
        attr = getattr(self._ufunc, name)
        if not callable(attr):
            return attr
        self._record(f"{self._ufunc.__name__}.{name}")

        def method(*args, **kwargs):
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
        return np.array(host, copy=True).view(HostDeviceArray)  # a copy: device memory is separate

    def array(self, a, dtype=None, copy=True, order="K", ndmin=0):
        self._record("array")
        if isinstance(a, HostDeviceArray):
            return np.array(a.view(np.ndarray), dtype=dtype, copy=copy, order=order, ndmin=ndmin).view(HostDeviceArray)
        return np.array(_unwrap_host_ok(a), dtype=dtype, copy=True, order=order, ndmin=ndmin).view(HostDeviceArray)

    def ascontiguousarray(self, a, dtype=None):
        self._record("ascontiguousarray")
        return np.ascontiguousarray(_unwrap(a, "ascontiguousarray"), dtype=dtype).view(HostDeviceArray)

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
        return value.view(np.ndarray)
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
