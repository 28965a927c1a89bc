"""Python threads for the NumPy work of the ops (internal API).

NumPy releases the GIL inside matmul and large copies, so Python threads run them on several cores at
once: :func:`each` shares the blocks of a convolution pass (``fukaku.ops.conv``) among the threads, each
running whole blocks with single-threaded BLAS, and the fused recurrent layers (``fukaku.ops.recurrent``)
split their products' rows the same way. The thread count is BLAS's (threadpoolctl reads it; without
threadpoolctl everything runs in the caller's thread).

Large elementwise passes (ReLU, batch norm, residual adds) are cut into one contiguous part per thread by
:func:`split`, as PyTorch's ``parallel_for`` does: NumPy runs a ufunc on one core and, on arrays of a few MB,
is bound by that core rather than by memory (batch norm's backward on 2 cores: 0.79 ms alone, 0.44 ms split
in two, with the data out of cache).
"""
from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

from ..backends import caching_allocator

#: Whether ops may run on several Python threads at all.
PARALLEL = True

#: From how many elements :func:`split` shares an elementwise pass among the threads: below, the few tens of
#: microseconds of handing a part to another thread cost more than they save.
SPLIT_ELEMENTS = 1 << 17

_WORKER_PREFIX = "fukaku-worker"


class Threads:
    """BLAS's thread count, and a pool of Python threads to match. threadpoolctl, when installed, reads and sets
    the count; without it every pass runs in the caller's thread, on multithreaded BLAS."""

    blas = None  # threadpoolctl's controller of the loaded BLAS libraries; False when there is none
    pool = None
    pool_size = 0

    @classmethod
    def count(cls) -> int:
        """BLAS's threads (1 when threadpoolctl cannot tell or set them)."""
        if cls.blas is None:
            try:
                from threadpoolctl import ThreadpoolController
                cls.blas = ThreadpoolController().select(user_api="blas") or False
            except Exception:  # not installed, or no BLAS it knows
                cls.blas = False
        return max((lib.num_threads for lib in cls.blas.lib_controllers), default=1) if cls.blas else 1

    @classmethod
    def executor(cls, workers: int):
        if cls.pool is None or cls.pool_size < workers:
            from concurrent.futures import ThreadPoolExecutor
            cls.pool, cls.pool_size = ThreadPoolExecutor(workers, thread_name_prefix=_WORKER_PREFIX), workers
        return cls.pool

    @classmethod
    def forget(cls) -> None:
        """In a forked child the pool's threads do not exist: the child starts its own pool."""
        cls.pool, cls.pool_size = None, 0


def get_num_threads() -> int:
    """The threads fukaku's ops run on, like ``torch.get_num_threads()``: BLAS's thread count, which fukaku's
    worker threads follow (1 when threadpoolctl is not installed to read it)."""
    return Threads.count()


def set_num_threads(n: int) -> None:
    """Run fukaku's ops on ``n`` threads, like ``torch.set_num_threads(n)``: BLAS's threads and, with them,
    fukaku's worker threads. One thread is often faster for small models, and always on a busy machine, where
    waiting BLAS threads spin against other processes. Needs threadpoolctl (installed with the ``lab`` extra);
    without it the call warns and changes nothing.

    Example::

        fukaku.set_num_threads(1)
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: the thread count must be a positive int, got {n!r}")
    Threads.count()  # finds the BLAS libraries on first use
    if not Threads.blas:
        warnings.warn("set_num_threads: threadpoolctl is not installed, so the BLAS thread count cannot be "
                      "changed (pip install threadpoolctl)", RuntimeWarning, stacklevel=2)
        return
    Threads.blas.limit(limits=n)  # threadpoolctl sets them now; the returned context is not needed


@contextmanager
def blas_threads(n: int) -> Iterator[None]:
    """Run the block on ``n`` threads (:func:`set_num_threads`), then restore the count it had (internal API). The
    lab runs its small models on one thread: their GEMMs take microseconds, less than waking a second thread,
    and on a busy machine OpenBLAS's spinning threads made a training step ten times slower (measured: an Elman
    network's step, T = 50, 38 → 2.6 ms)."""
    before = get_num_threads()
    if not Threads.blas:  # nothing to set without threadpoolctl (and nothing to warn about in the lab)
        yield
        return
    set_num_threads(n)
    try:
        yield
    finally:
        set_num_threads(before)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=Threads.forget)


def each(ranges: list[tuple[int, int]], task) -> list:
    """``task(ranges[k::W])`` for k < W, the results in a list: the blocks of one pass shared round-robin among W
    Python threads, W = BLAS's thread count (1 without threadpoolctl, or with fewer than two blocks). Each thread
    runs whole blocks (im2col, GEMM, the copies out) with BLAS single-threaded meanwhile: NumPy releases the GIL
    in matmul and in large copies, so the copies, which NumPy runs on one thread, use the cores as well as the
    GEMMs (a ResNet layer's forward pass on 2 cores: 1.5–1.7× one thread's speed; BLAS's own threads: 1.4–1.6×
    on a quiet machine, and slower than one thread when they spin against another process)."""
    workers = min(Threads.count(), len(ranges)) if PARALLEL and len(ranges) > 1 else 1
    if workers == 1:
        return [task(ranges)]
    with Threads.blas.limit(limits=1):
        futures = [Threads.executor(workers - 1).submit(task, ranges[k::workers]) for k in range(1, workers)]
        first = task(ranges[0::workers])
        return [first] + [f.result() for f in futures]


def split(n: int, elements: int, kernel: Callable[[int, int], object]) -> list:
    """``kernel(lo, hi)`` over ``[0, n)`` cut into one contiguous range per thread, the results in the ranges'
    order: an elementwise pass of ``elements`` values shared among BLAS's thread count of Python threads (NumPy
    releases the GIL inside its loops), or one call ``kernel(0, n)`` when the pass is smaller than
    :data:`SPLIT_ELEMENTS`, with one thread, or from inside a worker thread (which must not wait on its own pool).
    The kernel writes disjoint parts of its output; it must not call :func:`split` or :func:`each` itself."""
    workers = min(Threads.count(), n) if PARALLEL and elements >= SPLIT_ELEMENTS else 1
    if workers == 1 or threading.current_thread().name.startswith(_WORKER_PREFIX):
        return [kernel(0, n)]
    bounds = [k * n // workers for k in range(workers + 1)]
    pool = Threads.executor(workers - 1)
    futures = [pool.submit(kernel, bounds[k], bounds[k + 1]) for k in range(1, workers)]
    first = kernel(bounds[0], bounds[1])
    return [first] + [f.result() for f in futures]


def binary(func, a, b):
    """``func(a, b)`` for two arrays (of any array module, or scalars), ``func`` a ufunc or a function with a ufunc's
    ``(a, b, out=None)`` signature and elementwise result; two large C-contiguous NumPy arrays of one shape and dtype
    (a residual add, a gradient summed from two consumers, ReLU's gradient and its output) are cut into one flat
    part per thread (:func:`split`), each written into its part of one output."""
    if not (type(a) is type(b) is np.ndarray and a.size >= SPLIT_ELEMENTS and a.shape == b.shape
            and a.dtype == b.dtype and a.flags.c_contiguous and b.flags.c_contiguous):
        return func(a, b)
    out = caching_allocator.empty(a.shape, a.dtype)
    flat_a, flat_b, flat_out = a.reshape(-1), b.reshape(-1), out.reshape(-1)
    split(a.size, a.size, lambda lo, hi: func(flat_a[lo:hi], flat_b[lo:hi], out=flat_out[lo:hi]))
    return out
