"""Python threads for the NumPy work of the ops (internal API).

NumPy releases the GIL inside matmul, large copies and ufunc loops, so Python threads run them on
several cores at once. Two uses:

* :func:`each` shares the blocks of a convolution pass (``fukaku.ops.conv``) among the threads, each
  running whole blocks with single-threaded BLAS;
* :func:`ufunc` cuts one large elementwise operation (a ReLU, an add, a normalisation's scale and shift)
  along dim 0 into a piece per thread. NumPy runs ufuncs on one core, PyTorch on all of them: on a
  ResNet's 4 MB activations the difference is a third of a training step.

The thread count is BLAS's (threadpoolctl reads it; without threadpoolctl everything runs in the caller's
thread). Pieces are written into disjoint slices of one output array, so the result is bit for bit the
one-thread result.
"""
from __future__ import annotations

import os

import numpy as np

from ..backends import array_module

#: Whether ops may run on several Python threads at all.
PARALLEL = True

#: From how many bytes of result on :func:`ufunc` splits an elementwise operation among the threads (below,
#: handing a piece to another thread costs more than it saves).
SPLIT_BYTES = 1 << 20


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
            cls.pool, cls.pool_size = ThreadPoolExecutor(workers, thread_name_prefix="fukaku-worker"), workers
        return cls.pool

    @classmethod
    def forget(cls) -> None:
        """In a forked child the pool's threads do not exist: the child starts its own pool."""
        cls.pool, cls.pool_size = None, 0


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


def split(n: int, nbytes: int, work) -> None:
    """``work(lo, hi)`` over spans that cover ``range(n)``, one span per thread when the work touches at least
    :data:`SPLIT_BYTES` (``nbytes``), else ``work(0, n)`` in this thread. ``work`` must write disjoint outputs
    for disjoint spans."""
    workers = min(Threads.count(), n) if PARALLEL and nbytes >= SPLIT_BYTES else 1
    if workers < 2:
        work(0, n)
        return
    spans = [(k * n // workers, (k + 1) * n // workers) for k in range(workers)]
    futures = [Threads.executor(workers - 1).submit(work, *span) for span in spans[1:]]
    work(*spans[0])
    for f in futures:
        f.result()


def ufunc(op, *operands, out: np.ndarray | None = None) -> np.ndarray:
    """``op(*operands, out=out)`` for a NumPy ufunc ``op`` (broadcasting as NumPy does), cut along dim 0 into one
    piece per thread (:func:`split`) when an operand has at least :data:`SPLIT_BYTES`; otherwise one call.

    An operand that spans the result's dim 0 is sliced with it; one that broadcasts along it (fewer dims, or
    size 1 there) goes whole to every piece. Python scalars combine with arrays as in NumPy (they do not
    widen the result's dtype).
    """
    for o in operands:  # the common case first, at the cost of a loop: small operands, one plain call
        if getattr(o, "nbytes", 0) >= SPLIT_BYTES:
            break
    else:
        return op(*operands) if out is None else op(*operands, out=out)
    nbytes = max(getattr(o, "nbytes", 0) for o in operands)
    arrays = [o for o in operands if hasattr(o, "shape")]
    xp = array_module(*arrays)
    if not PARALLEL or xp is not np:  # a GPU array library runs its own kernels in parallel
        return op(*operands) if out is None else op(*operands, out=out)
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    if not shape:
        return op(*operands) if out is None else op(*operands, out=out)
    if out is None:
        dtypes = tuple(o.dtype if hasattr(o, "shape") else type(o) for o in operands)
        out = xp.empty(shape, op.resolve_dtypes(dtypes + (None,) * op.nout)[-1])
    n, rank = shape[0], len(shape)

    def piece(lo: int, hi: int) -> None:
        op(*(o[lo:hi] if getattr(o, "ndim", 0) == rank and o.shape[0] == n else o for o in operands),
           out=out[lo:hi])

    split(n, nbytes, piece)
    return out
