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

__all__ = ["array_module", "default_module", "register_backend", "unregister_backend", "registered_backends"]

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


# PyTorch's torch.backends flags and probes for the accelerator libraries fukaku does not have
from . import cudnn, mps  # noqa: E402
