"""Argument checks the layers share: the device and dtype parameters are created with, integer sizes."""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ..._checks import check_int
from ..._device import check_device


def factory_kwargs(device, dtype, layer: str) -> dict:
    """The ``device`` and ``dtype`` a layer creates its parameters and buffers with, as keywords for the creation
    functions (PyTorch's ``factory_kwargs``): ``empty(*shape, **factory_kwargs(device, dtype, "Linear"))``.

    ``device`` is checked (a device fukaku cannot use raises ``fukaku.DeviceError``); the dtype is the default float
    unless given, and must be a floating type. ``fukaku.nn.init`` draws on the host and copies to the device, so a
    layer built on a GPU holds the values the same seed gives on the CPU.
    """
    dev = check_device(device, layer)
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    if not dtypes.is_floating_point(dt):
        raise TypeError(f"{layer}: parameters must be floating point, got dtype {dt}")
    return {"device": dev, "dtype": dt}


def check_size(value, name: str, layer: str, minimum: int = 0) -> int:
    """A layer size argument as an int, refusing non-integers and values below ``minimum``."""
    return check_int(value, name, layer, minimum)
