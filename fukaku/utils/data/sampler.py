"""Samplers: which dataset indices an epoch visits, and in which order (``torch.utils.data`` names).

A sampler yields indices; a :class:`BatchSampler` groups them into mini-batches (seed 003: "shuffle
every epoch, split into mini-batches"). The built-in samplers also hand the whole epoch over as one
NumPy index array (``_index_array``), so that :class:`BatchSampler` cuts batches by slicing and the
DataLoader gathers a :class:`TensorDataset` batch with one fancy index per tensor instead of a
Python loop over samples.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator, Sequence, Sized

import numpy as np

from ._generator import GeneratorLike, as_generator, draw_from


class Sampler:
    """Base class: subclasses define ``__iter__`` (indices) and, where finite, ``__len__``."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler):
    """Indices 0, 1, …, len(data_source) − 1 in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def _index_array(self) -> np.ndarray:
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _check_count(value, name: str, where: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{where}: {name} should be a positive integer, got {name}={value!r}")
    return int(value)


class RandomSampler(Sampler):
    """A random order of the indices, new each epoch (``torch.utils.data.RandomSampler``).

    Without replacement an epoch is a permutation; ``num_samples`` larger than the dataset
    concatenates fresh permutations (as PyTorch does). With ``replacement=True`` indices are drawn
    independently and uniformly. ``generator``: see :mod:`fukaku.utils.data._generator`; its state
    (``sampler.generator.bit_generator.state``) is what a checkpoint must keep to resume the order.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: GeneratorLike = None) -> None:
        if not isinstance(replacement, bool):
            raise TypeError(f"RandomSampler: replacement should be a boolean value, got {replacement!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = None if num_samples is None else _check_count(num_samples, "num_samples",
                                                                          "RandomSampler")
        self.generator = as_generator(generator, "RandomSampler")
        if self.num_samples <= 0:  # as PyTorch: an empty dataset cannot be shuffled
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got {self.num_samples} "
                             "(the dataset is empty)")

    @property
    def num_samples(self) -> int:
        # the dataset may change size between construction and iteration, as in PyTorch
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self) -> np.ndarray:
        n, k = len(self.data_source), self.num_samples
        rng = draw_from(self.generator)
        if self.replacement:
            if n == 0:
                raise ValueError("RandomSampler: cannot draw with replacement from an empty dataset")
            return rng.integers(0, n, size=k, dtype=np.int64)
        if n == 0:
            raise ValueError("RandomSampler: the dataset became empty; there is nothing to shuffle")
        rounds = -(-k // n)
        return np.concatenate([rng.permutation(n) for _ in range(rounds)])[:k].astype(np.int64, copy=False)

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, new each epoch."""

    def __init__(self, indices: Sequence[int], generator: GeneratorLike = None) -> None:
        self.indices = indices
        self.generator = as_generator(generator, "SubsetRandomSampler")

    def _index_array(self) -> np.ndarray:
        idx = np.asarray(self.indices, dtype=np.int64)
        return idx[draw_from(self.generator).permutation(len(idx))]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups a sampler's indices into lists of ``batch_size`` (the last one shorter unless
    ``drop_last``), like ``torch.utils.data.BatchSampler``."""

    def __init__(self, sampler: Sampler | Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.batch_size = _check_count(batch_size, "batch_size", "BatchSampler")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, got drop_last={drop_last!r}")
        self.sampler = sampler
        self.drop_last = drop_last

    def _batches(self) -> Iterator[np.ndarray | list]:
        """The epoch's batches: int64 arrays sliced from one index array when the sampler has one,
        else lists of what the sampler yields (any keys, or the ``None`` s of a stream's sampler)."""
        bs = self.batch_size
        index_array = getattr(self.sampler, "_index_array", None)
        if index_array is not None:
            idx = index_array()
            stop = len(idx) - len(idx) % bs if self.drop_last else len(idx)
            for start in range(0, stop, bs):
                yield idx[start:start + bs]
            return
        batch: list = []
        for i in self.sampler:
            batch.append(i)
            if len(batch) == bs:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __iter__(self) -> Iterator[list[int]]:
        return (b.tolist() if isinstance(b, np.ndarray) else b for b in self._batches())

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
