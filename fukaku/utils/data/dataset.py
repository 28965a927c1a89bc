"""Datasets: anything indexable that has a length (``torch.utils.data`` names and semantics).

A map-style :class:`Dataset` answers ``dataset[i]`` and ``len(dataset)``; an
:class:`IterableDataset` is a stream. :class:`TensorDataset` pairs tensors along their first
dimension, :class:`Subset` views some indices of another dataset, :func:`random_split` cuts a
dataset into disjoint random subsets (seed 003: train/test splits), :class:`ConcatDataset` chains
datasets end to end.
"""
from __future__ import annotations

import bisect
import math
import numbers
import warnings
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from ...errors import ShapeError
from ...tensor import Tensor, from_numpy
from ._generator import GeneratorLike, as_generator, draw_from


class Dataset:
    """Map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A stream of samples: subclasses define ``__iter__``. A DataLoader groups consecutive samples
    into batches; it cannot shuffle or sample a stream (shuffle inside ``__iter__`` instead)."""

    def __iter__(self) -> Iterator:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")

    def __add__(self, other: Dataset):
        raise TypeError("IterableDataset: cannot concatenate streams with +; chain them in your own __iter__")


class TensorDataset(Dataset):
    """Samples are rows of the given tensors: ``dataset[i] == (t[i] for t in tensors)``.

    Args:
        *tensors: tensors (or NumPy arrays, wrapped without copying) with the same first dimension
            N, e.g. inputs ``(N, D)`` and targets ``(N,)``.
    """

    def __init__(self, *tensors: Tensor | np.ndarray) -> None:
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor, e.g. TensorDataset(x, y)")
        wrapped = []
        for i, t in enumerate(tensors):
            if isinstance(t, np.ndarray):
                t = from_numpy(t)
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {i} is a {type(t).__name__}; expected a Tensor or "
                                "numpy.ndarray (convert with fukaku.tensor(...))")
            if t.ndim == 0:
                raise ShapeError(f"TensorDataset: argument {i} is 0-d; every tensor needs a first (sample) "
                                 "dimension")
            wrapped.append(t)
        sizes = [t.shape[0] for t in wrapped]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(tuple(t.shape)) for t in wrapped)
            raise ShapeError(f"TensorDataset: size mismatch between tensors: first dimensions {sizes} "
                             f"(shapes {shapes}); every tensor needs the same number of samples")
        self.tensors: tuple[Tensor, ...] = tuple(wrapped)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i] == dataset[indices[i]]``."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list[int]) -> list:
        """The samples at ``indices`` (the DataLoader's batched fetch), through the inner dataset's own
        ``__getitems__`` when it has one, as in PyTorch."""
        inner = getattr(self.dataset, "__getitems__", None)
        if callable(inner):
            return inner([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    """Datasets one after another; ``cumulative_sizes[k]`` is the length of the first k + 1."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise TypeError("ConcatDataset does not support IterableDataset (it has no length or index)")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx: int):
        n = len(self)
        if idx < 0:
            if -idx > n:
                raise ValueError(f"ConcatDataset: absolute value of index {idx} should not exceed dataset length {n}")
            idx += n
        if idx >= n:
            raise IndexError(f"ConcatDataset: index {idx} is out of range for a dataset of length {n}")
        k = bisect.bisect_right(self.cumulative_sizes, idx)
        return self.datasets[k][idx - (self.cumulative_sizes[k - 1] if k else 0)]


def _split_lengths(n: int, lengths: Sequence[float]) -> list[int]:
    """Counts from ``lengths``: ints are kept; fractions summing to 1 become floor(n·f), and the
    remainder goes one by one to the first splits (PyTorch's rule)."""
    total = sum(lengths)
    if math.isclose(total, 1) and total <= 1:
        counts = []
        for i, frac in enumerate(lengths):
            if not 0 <= frac <= 1:
                raise ValueError(f"random_split: fraction at index {i} is {frac}, not between 0 and 1")
            counts.append(int(math.floor(n * frac)))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this will result in an empty "
                              "dataset", stacklevel=3)
        return counts
    counts = []
    for i, c in enumerate(lengths):
        if not isinstance(c, numbers.Integral) or c < 0:
            raise ValueError(f"random_split: lengths must be non-negative ints or fractions summing to 1; "
                             f"got {c!r} at index {i}")
        counts.append(int(c))
    return counts


def random_split(dataset: Dataset, lengths: Sequence[float], generator: GeneratorLike = None) -> list[Subset]:
    """Split ``dataset`` into disjoint random subsets of the given sizes.

    Args:
        dataset: a map-style dataset of length N.
        lengths: sizes that sum to N, or fractions that sum to 1 (``[0.8, 0.2]``): each split gets
            floor(N·f) and the leftover samples go one each to the first splits, as in PyTorch.
        generator: a ``numpy.random.Generator``, an int seed, or None for fukaku's default generator.

    Returns:
        a list of :class:`Subset`, one per length, together covering every index exactly once.
    """
    n = len(dataset)
    counts = _split_lengths(n, lengths)
    if sum(counts) != n:
        raise ValueError(f"random_split: sum of input lengths {counts} is {sum(counts)}, which does not equal the "
                         f"length of the input dataset ({n})")
    perm = draw_from(as_generator(generator, "random_split")).permutation(n).tolist()
    offsets = np.cumsum(counts).tolist()
    return [Subset(dataset, perm[end - c:end]) for end, c in zip(offsets, counts)]
