"""``DataLoader``: mini-batches over a dataset, one epoch per ``for batch in loader`` (seed 003:
"shuffle every epoch, split into mini-batches"; 10,000 samples at batch 1,000 = 10 steps an epoch).

Batches are made in the calling process (there are no worker processes). For the common case, a
:class:`TensorDataset` (possibly inside :class:`Subset` s, as :func:`random_split` makes) with the
default collate, a batch is gathered with one fancy index per tensor, ``t[idx]``, instead of
indexing sample by sample and stacking: the loader then costs little next to the model's step.
"""
from __future__ import annotations

import itertools
import numbers
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from ._collate import default_collate, default_convert
from ._generator import GeneratorLike, as_generator
from .dataset import Dataset, IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


def _batch_gatherer(dataset) -> Callable[[np.ndarray], list] | None:
    """A function mapping an index array to the collated batch with one fancy index per tensor, or
    None when ``dataset`` is not a plain TensorDataset (or Subsets of one): then samples are
    fetched one by one, so subclasses that override ``__getitem__`` keep their behaviour."""
    if type(dataset).__getitem__ is TensorDataset.__getitem__:
        tensors = dataset.tensors
        return lambda idx: [t[idx] for t in tensors]
    if type(dataset).__getitem__ is Subset.__getitem__:
        inner = _batch_gatherer(dataset.dataset)
        if inner is not None:
            # compose the index maps once per epoch, so nested Subsets cost one lookup per batch
            base = np.asarray(dataset.indices, dtype=np.int64)
            return lambda idx: inner(base[idx])
    return None


class DataLoader:
    """Iterate over ``dataset`` in mini-batches (``torch.utils.data.DataLoader``).

    Args:
        dataset: a map-style :class:`Dataset` (``__getitem__`` and ``__len__``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` turns batching off (each sample converted alone).
        shuffle: a new random order every epoch (a :class:`RandomSampler`).
        sampler: the order of indices (excludes ``shuffle``).
        batch_sampler: yields lists of indices, one per batch (excludes ``batch_size``, ``shuffle``,
            ``sampler`` and ``drop_last``).
        num_workers: must be 0: fukaku loads batches in the calling process.
        collate_fn: turns a list of samples into a batch (default :func:`default_collate`).
        drop_last: drop the last batch when it is smaller than ``batch_size``.
        generator: for the shuffle: a ``numpy.random.Generator``, an int seed, or None for
            fukaku's default generator (so ``fukaku.manual_seed`` makes the order repeatable).

    Yields:
        batches: for a TensorDataset of ``x (N, D)`` and ``y (N,)``, lists ``[x_b (B, D), y_b (B,)]``.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable[int] | None = None,
                 batch_sampler: Sampler | Iterable[list[int]] | None = None, num_workers: int = 0,
                 collate_fn: Callable[[list], object] | None = None, drop_last: bool = False,
                 generator: GeneratorLike = None) -> None:
        if num_workers != 0:
            raise ValueError(f"DataLoader: num_workers={num_workers!r} is not supported; fukaku makes batches in "
                             "the calling process, use num_workers=0")
        if batch_size is not None and (not isinstance(batch_size, numbers.Integral) or isinstance(batch_size, bool)
                                       or batch_size <= 0):
            raise ValueError(f"DataLoader: batch_size should be a positive integer or None, got {batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"DataLoader: drop_last should be a boolean value, got {drop_last!r}")
        self.dataset = dataset
        self.num_workers = 0
        self.generator = as_generator(generator, "DataLoader")
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle option, got "
                                 f"shuffle={shuffle}; shuffle inside the dataset's __iter__")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified sampler and batch_sampler "
                                 "options; a stream has no indices to sample")
        elif sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                 "sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is mutually exclusive "
                             "with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=self.generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self._auto_collation = batch_sampler is not None or (self._iterable and batch_size is not None)
        self._default_collate = collate_fn is None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator:
        if self._iterable:
            return self._iter_stream()
        if self.batch_sampler is None:  # batch_size=None: one converted sample at a time
            return (self.collate_fn(self.dataset[i]) for i in self.sampler)
        return self._iter_batches()

    def _iter_batches(self) -> Iterator:
        gather = _batch_gatherer(self.dataset) if self._default_collate else None
        batches = (self.batch_sampler._batches() if isinstance(self.batch_sampler, BatchSampler)
                   else (np.asarray(b, dtype=np.int64) for b in self.batch_sampler))
        dataset, collate = self.dataset, self.collate_fn
        for idx in batches:
            if gather is not None:
                yield gather(idx)
            else:
                yield collate([dataset[i] for i in idx.tolist()])

    def _iter_stream(self) -> Iterator:
        it = iter(self.dataset)
        if self.batch_size is None:
            yield from (self.collate_fn(s) for s in it)
            return
        while True:
            batch = list(itertools.islice(it, self.batch_size))
            if not batch or (self.drop_last and len(batch) < self.batch_size):
                return
            yield self.collate_fn(batch)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError, as in PyTorch, when the stream has no length
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)
