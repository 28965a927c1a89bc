"""What runs inside a DataLoader's worker processes (``torch.utils.data._utils.worker``).

A worker is started with a copy of the dataset, seeds its random number generators the way PyTorch
does (``base_seed + worker_id`` for fukaku's and Python's, a hash of both for NumPy's global one),
runs ``worker_init_fn(worker_id)``, then answers the main process: it takes ``(task, index)`` from its
index queue, fetches and collates the batch, and puts ``(task, batch)`` on the shared result queue.
Batches travel pickled; a fukaku :class:`~fukaku.Tensor` travels as its NumPy array (see
:func:`_reduce_tensor`) and is a tensor again in the main process. An exception becomes an
:class:`ExceptionWrapper` that the main process re-raises with the worker's traceback text.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from multiprocessing.reduction import ForkingPickler

import numpy as np

from ...tensor import Tensor, manual_seed, wrap
from ._fetch import create_fetcher
from .dataset import IterableDataset

# how often (seconds) a worker waiting for work checks that the main process is alive and not
# shutting the workers down, and the main process waiting for a batch checks that its workers are alive
STATUS_CHECK_INTERVAL = 0.2


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker: ``id`` (0 … num_workers − 1),
    ``num_workers``, ``seed`` (``base_seed + id``, fukaku's and Python's ``random`` seed) and
    ``dataset`` (this worker's copy). Read-only, as in PyTorch."""

    __slots__ = ("id", "num_workers", "seed", "dataset")

    def __init__(self, id: int, num_workers: int, seed: int, dataset) -> None:  # noqa: A002 (torch's name)
        for name, value in (("id", id), ("num_workers", num_workers), ("seed", seed), ("dataset", dataset)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value) -> None:
        raise RuntimeError(f"Cannot assign attributes to {type(self).__name__} objects")

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """This worker's :class:`WorkerInfo` inside a DataLoader worker process; ``None`` in the main
    process. Use it in ``worker_init_fn`` or in an :class:`IterableDataset`'s ``__iter__`` to give
    each worker its own share of a stream.

    Examples:
        >>> class Range(IterableDataset):
        ...     def __iter__(self):
        ...         info = get_worker_info()
        ...         step, first = (1, 0) if info is None else (info.num_workers, info.id)
        ...         return iter(range(first, 10, step))   # worker k yields k, k + n, k + 2n, ...
    """
    return _worker_info


class KeyErrorMessage(str):
    """A string whose ``repr`` is itself, so a re-raised ``KeyError`` prints its traceback text with
    line breaks instead of as one quoted line."""

    def __repr__(self) -> str:
        return self


class ExceptionWrapper:
    """The exception being handled, as text that pickles: the main process re-raises it with
    :meth:`reraise` as ``Caught <Type> in DataLoader worker process <id>.`` plus the original
    traceback (PyTorch's format)."""

    def __init__(self, where: str = "in background") -> None:
        exc_type, exc, tb = sys.exc_info()
        self.type_name = exc_type.__name__
        self.exc_type = exc_type if _pickles(exc_type) else RuntimeError  # a local class cannot travel
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self):
        """Raise the wrapped exception's type with the worker's traceback text as its message (a
        ``RuntimeError`` when that type cannot be built from one message)."""
        msg = f"Caught {self.type_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = KeyErrorMessage(msg)
        elif getattr(self.exc_type, "message", None):
            raise self.exc_type(message=msg)
        try:
            exception = self.exc_type(msg)
        except Exception:  # an exception type whose constructor wants other arguments
            raise RuntimeError(msg) from None
        raise exception


def _pickles(obj) -> bool:
    try:
        pickle.dumps(obj)
    except Exception:
        return False
    return True


class IterableDatasetStopIteration:
    """A worker's message: its copy of the stream is spent."""

    def __init__(self, worker_id: int) -> None:
        self.worker_id = worker_id


class ResumeIteration:
    """The main process's message to persistent workers: a new epoch begins (start the stream again)."""


# ----------------------------------------------------------------------------- tensors across processes
def _rebuild_tensor(array: np.ndarray, requires_grad: bool) -> Tensor:
    t = wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _reduce_tensor(t: Tensor):
    """How multiprocessing pickles a fukaku tensor: its array (and whether it requires grad); a
    graph cannot cross a process boundary, so a non-leaf that requires grad is refused, as in PyTorch."""
    if t.requires_grad and not t.is_leaf:
        raise RuntimeError("Cowardly refusing to serialize non-leaf tensor which requires_grad, since autograd "
                           "does not support crossing process boundaries. If you just want to transfer the "
                           "data, call detach() on the tensor before serializing (e.g., putting it on the "
                           "queue); in a DataLoader, detach in the dataset or the collate_fn")
    return _rebuild_tensor, (t._data, t.requires_grad)


ForkingPickler.register(Tensor, _reduce_tensor)


def dumps(obj) -> bytes:
    """``obj`` pickled as multiprocessing would (tensors as arrays)."""
    return bytes(ForkingPickler.dumps(obj))


# ----------------------------------------------------------------------------- the worker
def numpy_seed(base_seed: int, worker_id: int) -> np.ndarray:
    """The seed of a worker's global NumPy generator: PyTorch's ``_generate_state(base_seed,
    worker_id)``, which is NumPy's SeedSequence hash of ``[worker_id, low word, high word, 0]``."""
    return np.random.SeedSequence([worker_id, base_seed & 0xFFFFFFFF, base_seed >> 32, 0]).generate_state(4)


def _seed(base_seed: int, worker_id: int) -> int:
    seed = base_seed + worker_id
    random.seed(seed)
    manual_seed(seed)
    np.random.seed(numpy_seed(base_seed, worker_id))
    return seed


def _put(data_queue, task, data, worker_id: int) -> None:
    """Send ``(task, data)``, pickled here (not in the queue's feeder thread, where an object that
    does not pickle would be dropped and the main process would wait for it forever)."""
    try:
        payload = dumps((task, data))
    except Exception:
        payload = dumps((task, ExceptionWrapper(where=f"in DataLoader worker process {worker_id} (while "
                                                      "sending the batch to the main process)")))
    data_queue.put(payload)


def worker_loop(dataset, index_queue, data_queue, done_event, auto_collation: bool, collate_fn, drop_last: bool,
                base_seed: int, init_fn, worker_id: int, num_workers: int) -> None:
    """The body of worker process ``worker_id`` (see the module docstring); returns when the main
    process sends ``None``, or when the main process has died."""
    global _worker_info
    try:
        seed = _seed(base_seed, worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed, dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        stream = isinstance(dataset, IterableDataset)

        def start():
            """A fresh fetcher (a stream starts again), or None and the exception making it raised."""
            try:
                return create_fetcher(dataset, auto_collation, collate_fn, drop_last), None
            except Exception:
                return None, ExceptionWrapper(where=where)

        try:
            if init_fn is not None:
                init_fn(worker_id)
            init_error = None
        except Exception:  # then every task is answered with it: this worker cannot fetch
            init_error = ExceptionWrapper(where=where)
        fetcher, start_error = start() if init_error is None else (None, None)
        iteration_end = False
        parent = os.getppid()
        while os.getppid() == parent:  # reparented: the main process is gone, so stop
            try:
                r = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                if done_event.is_set():  # the final None can be lost: a loader collected in a reference
                    break  # cycle has its queues' feeder threads finalized before its __del__ runs
                continue
            if isinstance(r, ResumeIteration):
                data_queue.put(dumps((r, None)))  # acknowledge
                iteration_end = False
                if init_error is None:
                    fetcher, start_error = start()
                continue
            if r is None:  # the final signal
                break
            if done_event.is_set() or iteration_end:
                continue  # shutting down, or the stream is spent: skip until the final signal
            task, index = r
            if init_error or start_error:
                data = init_error or start_error
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if stream:
                        data, iteration_end = IterableDatasetStopIteration(worker_id), True
                    else:
                        data = ExceptionWrapper(where=where)
                except Exception:
                    data = ExceptionWrapper(where=where)
            _put(data_queue, task, data, worker_id)
            del data, task, index, r  # do not hold a batch while waiting for the next task
    except KeyboardInterrupt:
        pass  # the main process gets it too and shuts the workers down
    if done_event.is_set():
        data_queue.cancel_join_thread()  # nobody will read what is still buffered: exit without waiting
        data_queue.close()

