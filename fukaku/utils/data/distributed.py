"""``DistributedSampler``: each rank's share of the dataset, under PyTorch's file name
(torch/utils/data/distributed.py).

Every rank builds the same epoch order from ``seed + epoch`` and keeps every ``num_replicas``-th index
starting at its rank, so the ranks see disjoint parts of one shuffled epoch. The order is PyTorch's,
index for index: ``torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))``, which is
a Fisher–Yates shuffle driven by the Mersenne Twister (NumPy's MT19937 with its legacy seeding draws
the same 32-bit numbers). fukaku's own generator (PCG64) draws other numbers, so the sampler keeps
PyTorch's here: a program moved between the two frameworks sees the same batches on every rank.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Sized

import numpy as np

from ... import distributed as dist
from ..._checks import check_int
from .sampler import Sampler

__all__ = ["DistributedSampler"]

_MT_SMALL_N = 2 ** 32 // 20  # torch.randperm draws 32-bit numbers below this size (64-bit ones above)


def _torch_randperm(n: int, seed: int) -> np.ndarray:
    """``torch.randperm(n, generator=torch.Generator().manual_seed(seed))`` on the CPU, as an int64 array.

    PyTorch swaps position i with i + (u_i mod (n − i)) for i = 0 … n − 2, u_i the Mersenne Twister's 32-bit
    outputs for the seed (its low 32 bits). The draws and their reduction are vectorised; the swaps depend
    on each other and run in order, over a Python list (about 20 ms for 60,000 indices, once per epoch).
    """
    if n >= _MT_SMALL_N:
        raise ValueError(f"DistributedSampler: {n} indices is beyond the size whose order fukaku reproduces "
                         f"from PyTorch's randperm (fewer than {_MT_SMALL_N})")
    if n <= 1:
        return np.arange(n, dtype=np.int64)
    bits = np.random.MT19937()
    bits._legacy_seeding(int(seed) % 2 ** 64 & 0xFFFFFFFF)  # torch's mt19937 keeps the seed's low 32 bits
    targets = (bits.random_raw(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64)
    targets += np.arange(n - 1, dtype=np.int64)
    order = list(range(n))
    for i, j in enumerate(targets.tolist()):
        order[i], order[j] = order[j], order[i]
    return np.array(order, dtype=np.int64)


class DistributedSampler(Sampler):
    """The indices one rank visits in an epoch of data-parallel training (``torch.utils.data.distributed``).

    Args:
        dataset: the dataset (only its length is used).
        num_replicas: the number of ranks; default :func:`fukaku.distributed.get_world_size`.
        rank: this process's rank; default :func:`fukaku.distributed.get_rank`.
        shuffle: a new order each epoch, from ``seed + epoch`` (call :meth:`set_epoch` every epoch, or every
            epoch repeats the first one's order), as PyTorch's.
        seed: the same on every rank, so that the ranks cut one order.
        drop_last: drop the tail that does not divide evenly among the ranks; otherwise pad the order by
            repeating its first indices until it does (so a few samples are seen twice in the epoch).

    Each rank gets ``len(sampler)`` indices: ``ceil(n / num_replicas)``, or ``floor(n / num_replicas)``
    with ``drop_last``. Same ``seed`` and epoch give PyTorch's indices exactly.

    Example::

        >>> s = DistributedSampler(range(10), num_replicas=3, rank=1, shuffle=False)
        >>> list(s)
        [1, 4, 7, 0]
    """

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: pass num_replicas and rank, or call "
                                   "fukaku.distributed.init_process_group() first")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        num_replicas = check_int(num_replicas, "num_replicas", "DistributedSampler")
        if not isinstance(rank, numbers.Integral) or isinstance(rank, bool) or not 0 <= rank < num_replicas:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas, self.rank = num_replicas, int(rank)
        self.epoch = 0
        self.drop_last = bool(drop_last)
        n = len(dataset)
        if self.drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def _index_array(self) -> np.ndarray:
        n = len(self.dataset)
        order = _torch_randperm(n, self.seed + self.epoch) if self.shuffle else np.arange(n, dtype=np.int64)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:  # pad by repeating the order from its start (several times if it is short)
            order = np.resize(order, self.total_size) if n else order
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self._index_array().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the order of ``epoch`` (``seed + epoch``); call it at the start of every epoch on every rank."""
        self.epoch = epoch
