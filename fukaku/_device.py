"""Devices: ``fukaku.device`` (PyTorch's ``torch.device``) and the one check every ``device=`` goes through.

fukaku computes on the host with NumPy (``device('cpu')``) and, when CuPy sees a GPU, on
``device('cuda', i)`` with CuPy (:mod:`fukaku.backends`). A device object of any PyTorch device type
can be made (``fukaku.device('mps')``), so code that names devices runs; asking for a device that
is not there where memory would be placed raises :class:`DeviceError`, always through
:func:`check_device`, with one message that says why and what to pass instead.
"""
from __future__ import annotations

import re

import numpy as np

from . import backends, dtypes

__all__ = ["device", "DeviceError", "check_device", "check_cuda_device", "device_of", "place", "parse_to",
           "get_default_device", "set_default_device"]

# PyTorch's device types, in the order its error message lists them
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
_DEVICE_STRING = re.compile(r"([a-z_]+)(?::(\d+))?")
# the call that says a backend is missing, named in the error
_PROBE = {"cuda": "fukaku.cuda.is_available()", "mps": "fukaku.backends.mps.is_available()"}


class DeviceError(RuntimeError, AssertionError):
    """A device fukaku cannot place tensors on (no GPU backend, or no such device on this machine).

    A RuntimeError, and also an AssertionError, which is what PyTorch raises for ``'cuda'`` on a
    machine without CUDA: handlers written for either catch it.
    """


class device:
    """Where a tensor's memory lives, as ``torch.device``: ``device('cpu')``, ``device('cuda:1')``,
    ``device('cuda', 1)``, ``device(type='cuda', index=1)``.

    ``type`` is the device type and ``index`` its ordinal (None when not given). Two devices are
    equal when both match; a device never equals a string (as in PyTorch: compare ``str(d)``).
    Used as a context manager, ``with fukaku.device('cpu'):`` is accepted (the CPU is already the
    default); any other device raises :class:`DeviceError` (fukaku's default device is always the
    CPU: pass ``device=`` or call ``.to(device)`` instead).

    Example::

        >>> fukaku.device('cuda:1')
        device(type='cuda', index=1)
        >>> fukaku.zeros(2).device
        device(type='cpu')
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type=None, index: int | None = None) -> None:  # noqa: A002  (PyTorch's parameter name)
        if isinstance(type, device):
            if index is not None:
                raise TypeError("device(): an index cannot be given with a device object")
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int) and not isinstance(type, bool):
            raise DeviceError(f"device({type}): an integer names an accelerator device, and fukaku has none "
                              "(fukaku.accelerator.is_available() is False); use device='cpu'")
        if not isinstance(type, str):
            raise TypeError(f"device(): expected a device type string such as 'cpu' or 'cuda:0', or a device, "
                            f"got {_type_name(type)}")
        match = _DEVICE_STRING.fullmatch(type)
        if match is None or match.group(1) not in DEVICE_TYPES:
            if match is None and type.split(":", 1)[0] in DEVICE_TYPES:
                raise RuntimeError(f"Invalid device string: {type!r}")
            raise RuntimeError(f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device string: {type}")
        if match.group(2) is not None:
            if index is not None:
                raise RuntimeError(f"type (string) must not include an index because index was passed explicitly: {type}")
            index = int(match.group(2))
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int):
                raise TypeError(f"device(): index must be an int, got {_type_name(index)}")
            if index < 0:
                raise RuntimeError("Device index must not be negative")
        self._type, self._index = match.group(1), index

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self) -> int | None:
        return self._index

    def __repr__(self) -> str:
        return f"device(type={self._type!r})" if self._index is None else \
            f"device(type={self._type!r}, index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other) -> bool:
        if not isinstance(other, device):
            return NotImplemented
        return self._type == other._type and self._index == other._index

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (self._type, self._index))

    def __enter__(self) -> device:
        _require_default(self, "with fukaku.device(...)")
        return self

    def __exit__(self, *exc) -> None:
        return None


def _type_name(value) -> str:
    return type(value).__name__


CPU = device("cpu")
_PLACES: dict[tuple[str, int], device] = {}  # ("cuda", 0) -> device('cuda', 0), made once


def check_device(dev, op: str = "fukaku") -> device:
    """The device a ``device=`` argument names, checked: ``device('cpu')`` for None or any CPU device;
    ``device('cuda', i)`` for a CUDA device fukaku can use (the current one when no index is given);
    :class:`DeviceError` for every other device.

    Every creation function, ``Tensor.to``, ``Module.to`` and ``Generator`` call this, so the error is
    the same wherever a device is asked for. ``op`` names the caller in the message.
    """
    if dev is None or dev is CPU:
        return CPU
    if not isinstance(dev, device):
        dev = device(dev)
    if dev._type == "cpu":
        return CPU
    module = backends.device_module(dev._type)
    if module is None:
        probe = _PROBE.get(dev._type, "fukaku.accelerator.is_available()")
        backend = "GPU" if dev._type in ("cuda", "mps", "xpu", "hip") else dev._type
        why = ""
        if dev._type == "cuda":
            from .backends.cupy_backend import unavailable_reason

            why = f" ({unavailable_reason()})"
        raise DeviceError(f"{op}: device '{dev}' is not available: fukaku has no {backend} backend on this machine "
                          f"({probe} is False); use device='cpu'{why}")
    count = _device_count(dev._type, module)
    index = module.cuda.runtime.getDevice() if dev._index is None else dev._index
    if index >= count:
        raise DeviceError(f"{op}: device '{dev}' is not available: this machine has {count} {dev._type} device(s) "
                          f"(fukaku.{dev._type}.device_count() is {count}); use an index below {count}")
    return _place(dev._type, index)


def check_cuda_device(dev, op: str) -> device:
    """The CUDA device ``Tensor.cuda(dev)`` and ``Module.cuda(dev)`` name, checked: ``dev`` is None (the
    current GPU), an ordinal, a string or a device of type ``'cuda'``; another device type raises
    RuntimeError as PyTorch does (before it looks for a GPU), and a CUDA device fukaku cannot use raises
    :class:`DeviceError` (see :func:`check_device`).

    Example::

        >>> check_cuda_device(None, "Tensor.cuda")  # on a machine with a GPU
        device(type='cuda', index=0)
    """
    asked = device("cuda", dev) if dev is None or (isinstance(dev, int) and not isinstance(dev, bool)) else device(dev)
    if asked._type != "cuda":
        raise RuntimeError(f"{op}: Invalid device, must be cuda device (got '{asked}'); move to the CPU with "
                           ".cpu() or .to('cpu')")
    return check_device(asked, op)


_COUNTS: dict[str, tuple[object, int]] = {}  # device type -> (its module, its device count), asked once


def _device_count(device_type: str, module) -> int:
    """How many devices ``module`` serves: asked of the runtime once per module, as the devices of a
    machine do not come and go while a process runs (a test's stand-in is a new module each time)."""
    cached = _COUNTS.get(device_type)
    if cached is None or cached[0] is not module:
        cached = _COUNTS[device_type] = (module, int(module.cuda.runtime.getDeviceCount()))
    return cached[1]


def _place(device_type: str, index: int) -> device:
    found = _PLACES.get((device_type, index))
    if found is None:
        found = _PLACES[device_type, index] = device(device_type, index)
    return found


def device_of(array) -> device:
    """The device holding ``array``: ``device('cpu')`` for a host array, ``device('cuda', i)`` for a GPU one."""
    where = backends.device_of_array(array)
    return CPU if where is None else _place(*where)


def place(array, dev: device):
    """``array`` on ``dev`` (a checked device): copied there, or itself when it is there already."""
    if dev is CPU:
        return array if type(array) is np.ndarray else backends.to_host(array)
    return backends.to_device(array, dev._type, dev._index)


def _require_default(dev, op: str) -> None:
    """Accept the CPU as the default device; refuse others (fukaku's default device is always the CPU)."""
    if check_device(dev, op) is not CPU:
        raise DeviceError(f"{op}: fukaku makes new tensors on the CPU by default, and '{dev}' cannot be made the "
                          "default; pass device= to the creation functions or move tensors with .to(device)")


def get_default_device() -> device:
    """The device new tensors are made on: always ``device('cpu')`` in fukaku."""
    return CPU


def set_default_device(dev) -> None:
    """Accepted for the CPU (or None); any other device raises :class:`DeviceError`."""
    _require_default(dev, "set_default_device")


def _is_dtype(value) -> bool:
    """Whether a positional argument of ``to`` names a dtype (else a device or a tensor)."""
    return isinstance(value, (dtypes.dtype, np.dtype)) or (
        isinstance(value, type) and (issubclass(value, np.generic) or value in (float, int, bool, complex)))


def parse_to(args: tuple, kwargs: dict, op: str) -> tuple[device, dtypes.dtype | None, bool, bool]:
    """``(device, dtype, non_blocking, copy)`` from the arguments of ``Tensor.to`` / ``Module.to``, in
    each of PyTorch's forms: ``to(dtype)``, ``to(device[, dtype])``, ``to(other_tensor)`` (its device
    and dtype), then ``non_blocking`` and ``copy``, or the same as keywords (``memory_format`` is
    accepted and ignored). The device is checked by :func:`check_device`; device and dtype are None
    when not given.
    """
    dev = dt = None
    rest = args
    if args:
        first = args[0]
        if _is_dtype(first):
            dt, rest = first, args[1:]
        elif isinstance(first, (str, device, int)) and not isinstance(first, bool):
            dev, rest = first, args[1:]
            if rest and _is_dtype(rest[0]):
                dt, rest = rest[0], rest[1:]
        elif hasattr(first, "dtype") and hasattr(first, "device"):  # another tensor
            dev, dt, rest = first.device, first.dtype, args[1:]
        else:
            raise TypeError(f"{op}: expected a dtype, a device or a tensor, got {type(first).__name__}")
    if len(rest) > 2:
        raise TypeError(f"{op}: too many positional arguments; after the dtype or device come non_blocking and copy")
    if not all(isinstance(flag, (bool, np.bool_)) for flag in rest):
        raise TypeError(f"{op}: after the dtype or device come non_blocking and copy (bools), got "
                        f"{', '.join(repr(flag) for flag in rest)}")
    options = {"non_blocking": rest[0] if rest else False, "copy": rest[1] if len(rest) > 1 else False}
    for key, value in kwargs.items():
        if key == "dtype":
            if dt is not None and value is not None:
                raise TypeError(f"{op}: dtype given twice (as an argument and as dtype=)")
            dt = value if value is not None else dt
        elif key == "device":
            if dev is not None and value is not None:
                raise TypeError(f"{op}: device given twice (as an argument and as device=)")
            dev = value if value is not None else dev
        elif key in options:
            options[key] = value
        elif key != "memory_format":
            raise TypeError(f"{op}() got an unexpected keyword argument '{key}'")
    if isinstance(dev, int) and not isinstance(dev, bool):
        dev = f"cuda:{dev}"  # as torch: an integer is an accelerator's index
    return (None if dev is None else check_device(dev, op), None if dt is None else dtypes.as_dtype(dt, op),
            bool(options["non_blocking"]), bool(options["copy"]))
