"""Argument checks the layers share: the dtype parameters are created in, integer sizes."""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ..._checks import check_int
from ..._device import CPU, DeviceError, check_device


def factory_dtype(device, dtype, layer: str) -> np.dtype:
    """The dtype a layer creates its parameters in (the default float unless given).

    ``device`` must name the CPU: layers are built in host memory and moved with ``.to(device)``
    (another device raises ``fukaku.DeviceError``).
    """
    if check_device(device, layer) is not CPU:
        raise DeviceError(f"{layer}: device='{device}' at construction is not supported; build the layer on the CPU "
                          f"and move it: {layer}(...).to('{device}')")
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if not dtypes.is_floating_point(dt):
        raise TypeError(f"{layer}: parameters must be floating point, got dtype {dt}")
    return dt


def check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    """A layer size argument as an int, refusing non-integers and values below ``minimum``."""
    return check_int(value, name, layer, minimum)
