"""Fetchers: what a sampler yields (one index, a batch of indices) becomes a collated batch, in the
calling process or in a worker (``torch.utils.data._utils.fetch``).

For the common case, a :class:`TensorDataset` (possibly inside :class:`Subset` s, as
:func:`random_split` makes) with the default collate, a batch is gathered with one fancy index per
tensor, ``t[idx]``, instead of indexing sample by sample and stacking: the loader then costs little
next to the model's step.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np

from ._collate import default_collate
from .dataset import Dataset, IterableDataset, Subset, TensorDataset


def _batch_gatherer(dataset) -> Callable[[np.ndarray], list] | None:
    """A function mapping an index array to the collated batch with one fancy index per tensor, or
    None when ``dataset`` is not a plain TensorDataset (or Subsets of one): then samples are
    fetched one by one, so subclasses that override ``__getitem__`` keep their behaviour."""
    kind = type(dataset)
    if kind.__getitem__ is TensorDataset.__getitem__ and getattr(kind, "__getitems__", None) is None:
        tensors = dataset.tensors
        return lambda idx: [t[idx] for t in tensors]
    if kind.__getitem__ is Subset.__getitem__ and kind.__getitems__ is Subset.__getitems__:
        inner = _batch_gatherer(dataset.dataset)
        if inner is not None:
            # compose the index maps once per epoch, so nested Subsets cost one lookup per batch
            base = np.asarray(dataset.indices, dtype=np.int64)
            return lambda idx: inner(base[idx])
    return None


class _MapDatasetFetcher:
    """Batches of a map-style dataset: ``collate_fn([dataset[i] for i in batch])`` (through the
    dataset's ``__getitems__`` when it has one), or ``collate_fn(dataset[i])`` without auto-batching."""

    def __init__(self, dataset: Dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.gather = _batch_gatherer(dataset) if auto_collation and collate_fn is default_collate else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.gather is not None:
            return self.gather(np.asarray(index, dtype=np.int64))
        keys = index.tolist() if isinstance(index, np.ndarray) else index
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(keys) if getitems else [self.dataset[i] for i in keys]
        return self.collate_fn(samples)


class _IterableDatasetFetcher:
    """Batches of a stream: the next ``len(index)`` samples, collated; ``StopIteration`` once the
    stream is spent (or when only a short last batch is left and ``drop_last``)."""

    def __init__(self, dataset: IterableDataset, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.dataset_iter = iter(dataset)
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.dataset_iter))
        samples = list(itertools.islice(self.dataset_iter, len(index)))
        if len(samples) < len(index):
            self.ended = True
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


def create_fetcher(dataset: Dataset, auto_collation: bool, collate_fn: Callable, drop_last: bool):
    """The fetcher for ``dataset``'s kind (a stream or a map-style dataset)."""
    kind = _IterableDatasetFetcher if isinstance(dataset, IterableDataset) else _MapDatasetFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)
