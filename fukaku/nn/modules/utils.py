"""Argument checks the layers share: the dtype parameters are created in, integer sizes."""
from __future__ import annotations

import numpy as np

from ... import dtypes


def factory_dtype(device, dtype, layer: str) -> np.dtype:
    """The dtype a layer creates its parameters in (the default float unless given).

    ``device`` is accepted for PyTorch compatibility; NumPy only computes on the CPU.
    """
    if device is not None and str(device) != "cpu":
        raise ValueError(f"{layer}: fukaku computes on the CPU only, got device={device!r}; "
                         "leave device unset or pass 'cpu'")
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{layer}: parameters must be floating point, got dtype {dt}")
    return dt


def check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    """A layer size argument as an int, refusing non-integers and values below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{layer}: {name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
