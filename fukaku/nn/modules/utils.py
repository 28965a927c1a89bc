"""Argument checks the layers share: the dtype parameters are created in, integer sizes."""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ..._checks import check_int
from ..._device import check_device


def factory_dtype(device, dtype, layer: str) -> np.dtype:
    """The dtype a layer creates its parameters in (the default float unless given).

    ``device`` must name the CPU (``fukaku.DeviceError`` otherwise, as everywhere a device is asked for).
    """
    check_device(device, layer)
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"{layer}: parameters must be floating point, got dtype {dt}")
    return dt


def check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    """A layer size argument as an int, refusing non-integers and values below ``minimum``."""
    return check_int(value, name, layer, minimum)
