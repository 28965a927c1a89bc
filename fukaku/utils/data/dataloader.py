"""``DataLoader``: mini-batches over a dataset, one epoch per ``for batch in loader`` (seed 003:
"shuffle every epoch, split into mini-batches"; 10,000 samples at batch 1,000 = 10 steps an epoch).

With ``num_workers=0`` batches are made in the calling process. With ``num_workers > 0`` they are
made by worker processes (``multiprocessing``; 'fork' on Linux, else 'spawn', or the
``multiprocessing_context`` given), as in ``torch.utils.data``: the main process draws the indices
from the sampler and hands batch k to worker k mod num_workers (at most ``prefetch_factor`` tasks
per worker ahead), the workers fetch and collate (see :mod:`._worker`), and the main process yields
the batches in sampler order, so the batches are those of ``num_workers=0``. Every epoch first draws
a base seed from the loader's generator (as PyTorch does, with or without workers); worker k seeds
fukaku's and Python's generators with ``base_seed + k`` and NumPy's global one as PyTorch does, so
random transforms in a dataset repeat given the loader's generator. Workers stop when the epoch
ends, when the iterator is garbage-collected (an early ``break``, an exception) or, with
``persistent_workers=True``, when the loader is.
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.context
import numbers
import os
import pickle
import queue
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from ._collate import default_collate, default_convert
from ._fetch import create_fetcher
from ._generator import GeneratorLike, as_generator, draw_from
from ._worker import (STATUS_CHECK_INTERVAL, ExceptionWrapper, IterableDatasetStopIteration, ResumeIteration,
                      worker_loop)
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

# how long (seconds) shutting down waits for a worker to finish its task before terminating it
_SHUTDOWN_TIMEOUT = 5.0

_python_exiting = False


def _note_python_exiting() -> None:
    # at interpreter exit multiprocessing terminates the (daemonic) workers itself; the queues and
    # modules an orderly shutdown needs may already be gone
    global _python_exiting
    _python_exiting = True


atexit.register(_note_python_exiting)


class _InfiniteConstantSampler(Sampler):
    """The sampler of an :class:`IterableDataset`: ``None`` forever (the stream decides when to stop)."""

    def __iter__(self) -> Iterator[None]:
        return itertools.repeat(None)


def _index_iter(sampler) -> Iterator:
    """An epoch of ``sampler``: a built-in :class:`BatchSampler` hands over index arrays (sliced
    from one array, no Python loop over samples); any other sampler is iterated as it is."""
    if isinstance(sampler, BatchSampler) and type(sampler).__iter__ is BatchSampler.__iter__:
        return sampler._batches()
    return iter(sampler)


def _default_context() -> multiprocessing.context.BaseContext:
    fork = sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if fork else "spawn")


def _usable_cpus() -> int | None:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on this platform
        return os.cpu_count()


class DataLoader:
    """Iterate over ``dataset`` in mini-batches (``torch.utils.data.DataLoader``).

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__`` and ``__len__``; a ``__getitems__``
            is used for whole batches when it has one) or an :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` turns batching off (each sample converted alone
            with :func:`default_convert`).
        shuffle: a new random order every epoch (a :class:`RandomSampler`).
        sampler: the order of indices (excludes ``shuffle``).
        batch_sampler: yields lists of indices, one per batch (excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: how many worker processes make batches; 0 makes them in the calling process.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        pin_memory: accepted for PyTorch programs; fukaku runs on the CPU, so it changes nothing.
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        timeout: with workers, seconds to wait for a batch before raising ``RuntimeError`` (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding,
            before any data is loaded.
        multiprocessing_context: a start method name ('fork', 'spawn', 'forkserver') or a
            ``multiprocessing`` context; default 'fork' on Linux, else 'spawn'. With 'spawn' the
            dataset, collate_fn and worker_init_fn must pickle (no lambdas or local classes).
        generator: for the shuffle and the workers' base seed: a ``numpy.random.Generator``, an int
            seed, or None for fukaku's default generator (so ``fukaku.manual_seed`` makes the order
            and the workers' random numbers repeatable).
        prefetch_factor: with workers, batches each worker may be asked for in advance (default 2).
        persistent_workers: keep the workers (and their dataset copies and random states) from one
            epoch to the next instead of starting new ones.
        pin_memory_device: accepted for PyTorch programs; no effect.
        in_order: with workers, ``False`` yields each batch as soon as it is ready instead of in
            sampler order.

    Yields:
        batches: for a TensorDataset of ``x (N, D)`` and ``y (N,)``, lists ``[x_b (B, D), y_b (B,)]``.

    Examples:
        >>> loader = DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, num_workers=2)
        >>> for xb, yb in loader:   # the same batches as num_workers=0, made in two processes
        ...     ...
    """

    _initialized = False
    _FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable[list] | None = None,
                 num_workers: int = 0, collate_fn: Callable[[list], object] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, multiprocessing_context=None,
                 generator: GeneratorLike = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True) -> None:
        if not isinstance(num_workers, numbers.Integral) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers option should be non-negative; use num_workers=0 to disable "
                             f"multiprocessing (got num_workers={num_workers!r})")
        if not isinstance(timeout, numbers.Real) or timeout < 0:
            raise ValueError(f"DataLoader: timeout option should be non-negative, got timeout={timeout!r}")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor option could only be specified in multiprocessing; let "
                             "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError(f"DataLoader: prefetch_factor option should be non-negative, got {prefetch_factor!r}")
        if persistent_workers and num_workers == 0:
            raise ValueError("DataLoader: persistent_workers option needs num_workers > 0")
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"DataLoader: drop_last should be a boolean value, got {drop_last!r}")
        self.dataset = dataset
        self.num_workers = int(num_workers)
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.generator = as_generator(generator, "DataLoader")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}; shuffle inside the dataset's __iter__")
            if sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}; a stream has no indices to sample")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}; a stream has no indices to sample")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle (a sampler fixes the "
                             "order; use a RandomSampler to shuffle)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None:
            if self._iterable:
                sampler = _InfiniteConstantSampler()
            else:
                sampler = RandomSampler(dataset, generator=self.generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._IterableDataset_len_called: int | None = None
        self._iterator: _BaseDataLoaderIter | None = None
        self._initialized = True
        self.check_worker_number_rationality()

    # ----------------------------------------------------------------------------- attributes
    @property
    def multiprocessing_context(self) -> multiprocessing.context.BaseContext | None:
        return self._multiprocessing_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context) -> None:
        if context is not None:
            if self.num_workers == 0:
                raise ValueError("DataLoader: multiprocessing_context can only be used with multi-process loading "
                                 f"(num_workers > 0), but got num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"DataLoader: multiprocessing_context option should specify a valid start method "
                                     f"in {methods!r}, but got multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError("DataLoader: multiprocessing_context option should be a valid context object or a "
                                f"string specifying the start method, but got multiprocessing_context={context}")
        self._multiprocessing_context = context

    def __setattr__(self, name: str, value) -> None:
        if self._initialized and name in self._FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} is initialized; "
                             "build a new DataLoader instead")
        super().__setattr__(name, value)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    # ----------------------------------------------------------------------------- iteration
    def _get_iterator(self) -> _BaseDataLoaderIter:
        if self.num_workers == 0:
            return _SingleProcessDataLoaderIter(self)
        self.check_worker_number_rationality()
        return _MultiProcessingDataLoaderIter(self)

    def __iter__(self) -> _BaseDataLoaderIter:
        if self.persistent_workers and self.num_workers > 0:
            if self._iterator is None:
                self._iterator = self._get_iterator()
            else:
                self._iterator._reset(self)
            return self._iterator
        return self._get_iterator()

    def __len__(self) -> int:
        if self._iterable:
            n = self._IterableDataset_len_called = len(self.dataset)  # TypeError, as in PyTorch, without a length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self._index_sampler)

    def check_worker_number_rationality(self) -> None:
        """Warn, as PyTorch does, when more workers are asked for than this process may use CPUs."""
        cpus = _usable_cpus()
        if self.num_workers and (cpus is None or self.num_workers > cpus):
            suggestion = (f"Our suggested max number of worker in current system is {cpus}, which is smaller than "
                          "what this DataLoader is going to create." if cpus is not None else
                          "DataLoader is not able to compute a suggested max number of worker in current system.")
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in total. {suggestion} "
                          "Please be aware that excessive worker creation might get DataLoader running slow or even "
                          "freeze, lower the worker number to avoid potential slowness/freeze if necessary.",
                          stacklevel=3)


# ----------------------------------------------------------------------------- iterators
class _BaseDataLoaderIter:
    """One epoch of a loader: the sampler's iterator, the epoch's base seed, what was yielded."""

    def __init__(self, loader: DataLoader) -> None:
        self._dataset = loader.dataset
        self._iterable = loader._iterable
        self._auto_collation = loader._auto_collation
        self._drop_last = loader.drop_last
        self._index_sampler = loader._index_sampler
        self._num_workers = loader.num_workers
        self._timeout = loader.timeout
        self._collate_fn = loader.collate_fn
        self._persistent_workers = loader.persistent_workers
        self._sampler_iter = _index_iter(self._index_sampler)
        # drawn with or without workers, after the (lazy) sampler iterator and before its first
        # draw, as PyTorch does: the shuffle order does not depend on num_workers
        self._base_seed = int(draw_from(loader.generator).integers(0, np.iinfo(np.int64).max, endpoint=True))
        self._num_yielded = 0
        self._len_reported = loader._IterableDataset_len_called

    def __iter__(self) -> _BaseDataLoaderIter:
        return self

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        self._sampler_iter = _index_iter(self._index_sampler)
        self._num_yielded = 0
        self._len_reported = loader._IterableDataset_len_called

    def _next_data(self):
        raise NotImplementedError

    def __next__(self):
        data = self._next_data()
        if isinstance(data, ExceptionWrapper):
            # The traceback of the exception keeps this frame; without `self` in it, the iterator
            # (and its workers) can still be collected while the caller holds on to the exception.
            del self
            data.reraise()
        self._num_yielded += 1
        if self._iterable and self._len_reported is not None and self._num_yielded > self._len_reported:
            hint = (" For multiprocessing data-loading, this could be caused by not properly configuring the "
                    "IterableDataset replica at each worker (shard the stream with get_worker_info())."
                    if self._num_workers > 0 else "")
            warnings.warn(f"Length of IterableDataset {self._dataset} was reported to be {self._len_reported} (when "
                          f"accessing len(dataloader)), but {self._num_yielded} samples have been fetched.{hint}",
                          stacklevel=2)
        return data

    def __len__(self) -> int:
        return len(self._index_sampler)

    def __getstate__(self):
        raise NotImplementedError(f"{type(self).__name__} cannot be pickled")


class _SingleProcessDataLoaderIter(_BaseDataLoaderIter):
    """Batches made in the calling process."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        if self._timeout != 0:
            raise ValueError(f"DataLoader: timeout={self._timeout} applies to worker processes; with num_workers=0 "
                             "it must be 0")
        self._fetcher = create_fetcher(self._dataset, self._auto_collation, self._collate_fn, self._drop_last)

    def _next_data(self):
        return self._fetcher.fetch(next(self._sampler_iter))  # StopIteration ends the epoch


class _MultiProcessingDataLoaderIter(_BaseDataLoaderIter):
    """Batches made by ``num_workers`` worker processes, yielded in sampler order.

    Task k (the k-th index of the epoch) goes to the next active worker in turn; ``_task_info[k]``
    holds ``(worker,)`` while it is out and ``(worker, data)`` once it has come back before its turn.
    At most ``prefetch_factor * num_workers`` tasks are out at a time.
    """

    _shutdown = True  # what __del__ sees when __init__ failed before starting any worker

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        if loader.prefetch_factor <= 0:
            raise ValueError(f"DataLoader: prefetch_factor must be greater than 0 for multi-process loading, got "
                             f"{loader.prefetch_factor}")
        self._prefetch_factor = loader.prefetch_factor
        self._in_order = loader.in_order
        context = loader.multiprocessing_context or _default_context()
        self._data_queue = context.Queue()
        self._workers_done_event = context.Event()
        self._index_queues: list = []
        self._workers: list = []
        self._workers_status: list[bool] = []
        self._shutdown = False
        try:
            for worker_id in range(self._num_workers):
                index_queue = context.Queue()
                index_queue.cancel_join_thread()
                w = context.Process(target=worker_loop, daemon=True,
                                    args=(self._dataset, index_queue, self._data_queue,
                                          self._workers_done_event, self._auto_collation, self._collate_fn,
                                          self._drop_last, self._base_seed, loader.worker_init_fn, worker_id,
                                          self._num_workers))
                w.start()
                self._index_queues.append(index_queue)
                self._workers.append(w)
                self._workers_status.append(True)
        except BaseException as e:
            if isinstance(e, (TypeError, AttributeError, pickle.PicklingError)):
                e.add_note(f"DataLoader: starting a worker process with the {context.get_start_method()!r} start "
                           "method pickles the dataset, collate_fn and worker_init_fn; define them at module level "
                           "(no lambdas or local classes), or use multiprocessing_context='fork' where available")
            self._shutdown_workers()
            raise
        self._reset(loader, first_iter=True)

    def _reset(self, loader: DataLoader, first_iter: bool = False) -> None:
        if not first_iter:  # the first epoch's sampler iterator was made (lazily) with the base seed
            super()._reset(loader)
        self._send_idx = 0  # the next task to send
        self._rcvd_idx = 0  # the next task to yield
        self._task_info: dict[int, tuple] = {}
        self._workers_status = [True] * self._num_workers
        self._workers_num_tasks = [0] * self._num_workers
        self._worker_queue_idx_cycle = itertools.cycle(range(self._num_workers))
        if not first_iter:  # persistent workers: start their streams again, drop the last epoch's leftovers
            for index_queue in self._index_queues:
                index_queue.put(ResumeIteration())
            waiting = self._num_workers
            while waiting > 0:
                task, _ = self._get_data()
                if isinstance(task, ResumeIteration):
                    waiting -= 1
        for _ in range(self._prefetch_factor * self._num_workers):
            self._try_put_index()

    def _try_get_data(self, timeout: float) -> tuple[bool, object]:
        try:
            payload = self._data_queue.get(timeout=timeout)
        except Exception as e:
            failed = [i for i, w in enumerate(self._workers) if self._workers_status[i] and not w.is_alive()]
            if failed:
                for i in failed:
                    self._mark_worker_as_unavailable(i)
                pids = ", ".join(str(self._workers[i].pid) for i in failed)
                codes = ", ".join(str(self._workers[i].exitcode) for i in failed)
                raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited unexpectedly (exit code(s) {codes}; a "
                                   "negative code is the signal that ended it)") from e
            if isinstance(e, queue.Empty):
                return False, None
            raise
        return True, pickle.loads(payload)

    def _get_data(self):
        deadline = time.monotonic() + self._timeout if self._timeout > 0 else None
        while True:
            wait = STATUS_CHECK_INTERVAL if deadline is None else min(STATUS_CHECK_INTERVAL,
                                                                        max(deadline - time.monotonic(), 0))
            ok, data = self._try_get_data(wait)
            if ok:
                return data
            if deadline is not None and time.monotonic() >= deadline:
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def _next_data(self):
        while True:
            # skip the tasks of workers whose stream ended before they could answer them
            while self._rcvd_idx < self._send_idx:
                info = self._task_info.get(self._rcvd_idx)
                if info is not None:
                    if len(info) == 2 or self._workers_status[info[0]]:  # has data, or is still coming
                        break
                    del self._task_info[self._rcvd_idx]
                self._rcvd_idx += 1
            else:
                if not self._persistent_workers:
                    self._shutdown_workers()
                raise StopIteration
            if len(self._task_info[self._rcvd_idx]) == 2:  # it came back before its turn
                worker_id, data = self._task_info.pop(self._rcvd_idx)
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)
            task, data = self._get_data()
            if isinstance(data, IterableDatasetStopIteration):
                if self._persistent_workers:
                    self._workers_status[data.worker_id] = False
                else:
                    self._mark_worker_as_unavailable(data.worker_id)
                self._try_put_index()
                continue
            if task != self._rcvd_idx:
                if not self._in_order:
                    return self._process_data(data, self._task_info.pop(task)[0])
                self._task_info[task] += (data,)
            else:
                worker_id = self._task_info.pop(task)[0]
                self._rcvd_idx += 1
                return self._process_data(data, worker_id)

    def _try_put_index(self) -> None:
        max_tasks = self._prefetch_factor * self._num_workers
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, if any
            worker_id = next(self._worker_queue_idx_cycle)
            if self._workers_status[worker_id] and (
                    self._in_order or self._workers_num_tasks[worker_id] < max_tasks // sum(self._workers_status)):
                break
        else:
            return
        self._index_queues[worker_id].put((self._send_idx, index))
        self._task_info[self._send_idx] = (worker_id,)
        self._workers_num_tasks[worker_id] += 1
        self._send_idx += 1

    def _process_data(self, data, worker_id: int):
        self._workers_num_tasks[worker_id] -= 1
        self._try_put_index()
        return data  # an ExceptionWrapper is raised by __next__

    def _mark_worker_as_unavailable(self, worker_id: int) -> None:
        self._index_queues[worker_id].put(None)
        self._workers_status[worker_id] = False

    def _shutdown_workers(self) -> None:
        """Stop the workers: the final signal, a wait for each, then terminate what is still running;
        every worker is joined (no zombie processes). Idempotent."""
        if _python_exiting is not False or self._shutdown:  # None: module globals cleared at exit
            return
        self._shutdown = True
        try:
            self._data_queue.cancel_join_thread()
            self._data_queue.close()
            self._workers_done_event.set()
            for index_queue in self._index_queues:
                index_queue.put(None)
            for w in self._workers:
                w.join(timeout=_SHUTDOWN_TIMEOUT)
            for index_queue in self._index_queues:
                index_queue.cancel_join_thread()
                index_queue.close()
        finally:
            for w in self._workers:
                if w.is_alive():
                    w.terminate()
                    w.join(timeout=_SHUTDOWN_TIMEOUT)

    def __del__(self) -> None:
        self._shutdown_workers()
