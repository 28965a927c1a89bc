"""The one seam between fukaku and the array library that stores tensors and computes on them.

Ops, layers, optimizers and the autograd engine never name NumPy for array work; they ask for the
module that holds their inputs and call it::

    from ..backends import array_module

    xp = array_module(x._data)          # numpy today; cupy for a GPU array once that backend exists
    out = xp.exp(x._data - xp.max(x._data, axis=dim, keepdims=True))

A GPU library with NumPy's API (CuPy) slots in by :func:`register_backend` — one call, no edit of
any op. Dtype objects (``np.float32``), type annotations (``np.ndarray``) and host-side metadata
(``np.dtype``, ``np.result_type``) stay NumPy's: CuPy uses NumPy's dtypes too.
"""
from __future__ import annotations

from types import ModuleType

import numpy

__all__ = ["array_module", "default_module", "register_backend", "unregister_backend", "registered_backends",
           "DEVICE_MODULES", "register_device", "unregister_device", "device_module", "device_of_array", "to_host",
           "to_device", "seed_devices", "is_writeable"]

# (array type, module) pairs of accelerator libraries, tried in order; NumPy answers for everything else
_backends: list[tuple[type, ModuleType]] = []


def array_module(*arrays) -> ModuleType:
    """The array module (``numpy`` or a registered one) that computes on ``arrays``.

    Args:
        *arrays: arrays (or scalars) an op is about to combine; non-arrays are ignored.

    Returns ``numpy`` unless one of the arrays belongs to a registered backend.

    Example::

        >>> xp = array_module(np.ones(3))
        >>> xp is np
        True
    """
    if _backends:
        for a in arrays:
            for array_type, module in _backends:
                if isinstance(a, array_type):
                    return module
    return numpy


def is_writeable(array) -> bool:
    """Whether ``array`` may be written in place.

    NumPy says so in its ``writeable`` flag (False for a broadcast view, whose elements share memory). CuPy's
    arrays have no such flag and are all writeable; for them (and any library without the flag) an array is
    refused only where a zero stride makes several of its elements one memory location, which a write would
    race on.
    """
    writeable = getattr(array.flags, "writeable", None)
    if writeable is not None:
        return writeable
    return not any(stride == 0 and size > 1 for stride, size in zip(array.strides, array.shape))


def default_module() -> ModuleType:
    """The module new tensors are created with when no input array says otherwise (``numpy``)."""
    return numpy


def register_backend(array_type: type, module: ModuleType) -> None:
    """Route arrays of ``array_type`` to ``module`` (which must offer NumPy's API, as CuPy does).

    Registering the same type again replaces its module.
    """
    if not isinstance(array_type, type):
        raise TypeError(f"register_backend: array_type must be a class, got {array_type!r}")
    unregister_backend(array_type)
    _backends.append((array_type, module))


def unregister_backend(array_type: type) -> None:
    """Stop routing ``array_type`` (a no-op if it was not registered)."""
    _backends[:] = [(t, m) for t, m in _backends if t is not array_type]


def registered_backends() -> tuple[tuple[type, ModuleType], ...]:
    """The registered (array type, module) pairs, in lookup order."""
    return tuple(_backends)


# ----------------------------------------------------------------------------- accelerator devices
# A device type ("cuda") is served by a module with CuPy's API. The names fukaku uses beyond NumPy's
# are few and all CuPy's: ``ndarray`` (its array type), ``asarray`` (host → device), ``asnumpy``
# (device → host), ``cuda.Device(i)`` (a context that makes device i current; ``.id``,
# ``.synchronize()``, ``.use()``), ``cuda.runtime.getDeviceCount()`` / ``getDevice()``,
# ``random.seed`` and ``get_default_memory_pool()``; a device array's ``.device.id`` is its ordinal.
DEVICE_MODULES: dict[str, ModuleType] = {}  # device type -> its module (read it; change it with register_device)
_probed: set[str] = set()  # device types whose library was looked for once already


def register_device(device_type: str, module: ModuleType) -> None:
    """Serve ``device_type`` (``'cuda'``) with ``module`` (CuPy, or a stand-in with CuPy's API): tensors
    placed on that device hold ``module.ndarray`` arrays, and every op on them computes with ``module``.

    fukaku registers CuPy for ``'cuda'`` by itself the first time a CUDA device is asked for, when
    ``cupy`` imports and sees a GPU; tests register a stand-in. Registering again replaces the module.
    """
    if not isinstance(device_type, str) or not device_type:
        raise TypeError(f"register_device: device_type must be a device type string such as 'cuda', "
                        f"got {device_type!r}")
    unregister_device(device_type)
    register_backend(module.ndarray, module)
    DEVICE_MODULES[device_type] = module
    if _seed:  # fukaku.manual_seed ran before this library was loaded: its draws start from that seed too
        _seed_module(module, _seed[0])


def unregister_device(device_type: str) -> None:
    """Stop serving ``device_type`` (a no-op if nothing serves it). Its tensors become unusable, so
    only tests that registered a stand-in call this."""
    module = DEVICE_MODULES.pop(device_type, None)
    if module is not None:
        unregister_backend(module.ndarray)


def device_module(device_type: str) -> ModuleType | None:
    """The module serving ``device_type``, or None: for ``'cuda'``, CuPy is imported (once, lazily)
    and registered when it reports at least one GPU."""
    module = DEVICE_MODULES.get(device_type)
    if module is None and device_type == "cuda" and device_type not in _probed:
        _probed.add(device_type)
        from .cupy_backend import load_cupy

        module = load_cupy()
        if module is not None:
            register_device(device_type, module)
    return module


def device_of_array(array) -> tuple[str, int] | None:
    """``(device type, ordinal)`` of an array of a registered device (``('cuda', 0)``); None for host
    arrays (NumPy's, or any other type)."""
    if type(array) is numpy.ndarray or not DEVICE_MODULES:
        return None
    for device_type, module in DEVICE_MODULES.items():
        if isinstance(array, module.ndarray):
            return device_type, int(array.device.id)
    return None


def to_host(array):
    """``array`` in host memory: a device array copied to a NumPy array (synchronising); anything else
    unchanged."""
    where = device_of_array(array)
    return array if where is None else DEVICE_MODULES[where[0]].asnumpy(array)


def to_device(array, device_type: str, index: int):
    """A copy of ``array`` (a host array, or an array of any device) on device ``index`` of
    ``device_type``, or ``array`` itself when it is there already. The device must be registered
    (:func:`device_module` returns its module)."""
    where = device_of_array(array)
    if where == (device_type, index):
        return array
    if where is not None:  # another device: through the host, which every pair of devices can reach
        array = to_host(array)
    module = DEVICE_MODULES[device_type]
    with module.cuda.Device(index):
        return module.asarray(array)


_seed: list[int] = []  # the last seed_devices() seed, for a device library registered after it (CuPy loads lazily)


def seed_devices(seed: int) -> None:
    """Seed the generator of every device of every registered device type (``fukaku.manual_seed`` calls
    this, as ``torch.manual_seed`` seeds the GPUs too). A device type registered later (CuPy is loaded on
    first use) is seeded with it when it registers."""
    _seed[:] = [seed]
    for module in DEVICE_MODULES.values():
        _seed_module(module, seed)


def _seed_module(module: ModuleType, seed: int) -> None:
    for index in range(module.cuda.runtime.getDeviceCount()):
        with module.cuda.Device(index):
            module.random.seed(seed)


# PyTorch's torch.backends flags and probes for the accelerator libraries fukaku does not have
from . import cudnn, mps  # noqa: E402
