"""``fukaku.random`` (PyTorch's ``torch.random``): seeding and state of the default generator, and
:func:`fork_rng`, which lets a block draw without disturbing the numbers the rest of the program sees.

The generator itself is :class:`fukaku.Generator` (see ``fukaku/_generator.py``).
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ._device import check_device
from ._generator import default_generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng", "default_generator"]


@contextlib.contextmanager
def fork_rng(devices=None, enabled: bool = True, device_type: str = "cuda") -> Iterator[None]:
    """Run a block on a fork of the default generator: its state is saved on entry and restored on
    exit, so draws inside do not change what is drawn after (as ``torch.random.fork_rng``).

    Args:
        devices: accelerator devices whose generators to fork too; fukaku has none, so only None or
            an empty list is accepted (others raise :class:`fukaku.DeviceError`).
        enabled: False makes it a no-op.
        device_type: accepted for PyTorch compatibility (``'cuda'``); nothing is forked for it.

    Example::

        >>> fukaku.manual_seed(0)
        >>> with fukaku.random.fork_rng():
        ...     _ = fukaku.rand(3)              # does not advance the stream outside
        >>> a = fukaku.rand(1)                  # the same as right after manual_seed(0)
    """
    for dev in devices or ():
        check_device(dev if not isinstance(dev, int) else f"{device_type}:{dev}", "fork_rng")
    if not enabled:
        yield
        return
    state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(state)
