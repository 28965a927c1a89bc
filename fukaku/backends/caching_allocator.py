"""Large NumPy arrays whose memory is reused from one training step to the next (the CPU's caching allocator).

A training step allocates the same large arrays every time: the activations of the forward pass, the
gradients of the backward pass. glibc's malloc hands arrays of a few MB back to the kernel when they are
freed (``munmap``, or trimming the heap's top), so the next step touches fresh pages, and the kernel zeroes
each 4 KiB page on its first touch: in a ResNet-20 step on a 2-core VM that was 6,000–15,000 page faults and
10–25 ms of a 140 ms step. PyTorch's CUDA allocator keeps freed blocks for the same reason.

:func:`empty` keeps the buffer of every large array it hands out, and hands a buffer out again once nothing
refers to its memory any more: every view of a NumPy array holds a reference to the array that owns the
memory (``base``), so a buffer whose reference count is back to the cache's own is free. Nothing is reused
while any view of it is alive. The ops that write large outputs of their own (convolutions, normalisation,
ReLU, residual adds) take their output arrays here; everything else uses NumPy's allocator as before.

The cache holds at most :data:`LIMIT` bytes of buffers (2 GiB, or an eighth of the machine's memory), in use or
free: a request that would pass it first drops the free ones, and an array that still does not fit is NumPy's own.
:func:`empty_cache` drops the free buffers.
"""
from __future__ import annotations

import math
import os
import sys
import threading

import numpy as np

__all__ = ["empty", "empty_cache", "cached_bytes"]

#: Arrays from this size on come from the cache; smaller ones from NumPy (its own small-block cache and malloc's
#: arenas serve them without page faults).
MIN_BYTES = 1 << 18

def _default_limit() -> int:
    """2 GiB, or an eighth of the machine's memory when that is less (a laptop with 8 GiB: 1 GiB)."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return 2 << 30
    return min(2 << 30, max(physical // 8, MIN_BYTES))


#: The most bytes the cache holds (in use and free) before it drops its free buffers to make room.
LIMIT = _default_limit()

_lock = threading.Lock()
_buffers: dict[int, list[np.ndarray]] = {}  # size in bytes -> the uint8 buffers of that size
_total = 0


def _references(buffers: list[np.ndarray], i: int) -> int:
    """The reference count of ``buffers[i]`` as seen from here (the list's, the argument's: counted the same way
    for every buffer, and for the probe below)."""
    return sys.getrefcount(buffers[i])


# the count of a buffer that only the cache's list refers to (measured, not assumed: it differs between Pythons)
_FREE = _references([np.empty(1, np.uint8)], 0)


def empty(shape: tuple[int, ...], dtype, xp=np):
    """An uninitialised C-contiguous array of the array module ``xp``, like ``xp.empty(shape, dtype)``; a NumPy
    array from :data:`MIN_BYTES` on lies on a buffer of the cache (its ``base``), reused once every array on it
    has been freed. (A GPU library keeps its own memory pool: CuPy's.)

    Example::

        out = caching_allocator.empty(x.shape, x.dtype)
        np.maximum(x, 0, out=out)
    """
    global _total
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if xp is not np or nbytes < MIN_BYTES or dtype.hasobject:
        return xp.empty(shape, dtype)
    with _lock:
        same_size = _buffers.setdefault(nbytes, [])
        for i in range(len(same_size)):
            if _references(same_size, i) == _FREE:
                return same_size[i].view(dtype).reshape(shape)
        if _total + nbytes > LIMIT:
            _drop_free()
            if _total + nbytes > LIMIT:  # the cache is full of arrays in use: this one is NumPy's alone
                return np.empty(shape, dtype)
        buf = np.empty(nbytes, np.uint8)
        _buffers.setdefault(nbytes, []).append(buf)  # (dropping may have removed this size's list)
        _total += nbytes
        return buf.view(dtype).reshape(shape)


def _drop_free() -> None:
    """Forget the buffers nothing refers to (the lock held)."""
    global _total
    for nbytes in list(_buffers):
        same_size = _buffers[nbytes]
        kept = [same_size[i] for i in range(len(same_size)) if _references(same_size, i) != _FREE]
        _total -= nbytes * (len(same_size) - len(kept))
        if kept:
            _buffers[nbytes] = kept
        else:
            del _buffers[nbytes]


def empty_cache() -> None:
    """Release the cached buffers that no array uses any more to the system (``torch.cuda.empty_cache()``'s
    counterpart for fukaku's host arrays): after training, before a phase that needs the memory elsewhere."""
    with _lock:
        _drop_free()


def cached_bytes() -> int:
    """The bytes of all buffers the cache holds, in use or free (``torch.cuda.memory_reserved()``'s
    counterpart)."""
    return _total
