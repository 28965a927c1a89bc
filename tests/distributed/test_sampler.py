"""``fukaku.utils.data.distributed.DistributedSampler`` against ``torch.utils.data.distributed.DistributedSampler``:
the same arguments, seed and epoch give the same indices on every rank."""
import itertools

import numpy as np
import pytest
import torch
import torch.utils.data.distributed as torch_dist

import fukaku as fk
from fukaku.utils.data import DataLoader, DistributedSampler, TensorDataset
from fukaku.utils.data.distributed import _torch_randperm


@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 33])
def test_randperm_is_torchs(n):
    for seed in (0, 1, 12345, 2 ** 40 + 3, -5):
        g = torch.Generator().manual_seed(seed)
        assert _torch_randperm(n, seed).tolist() == torch.randperm(n, generator=g).tolist()


@pytest.mark.parametrize("n,replicas", [(10, 2), (10, 3), (11, 4), (3, 5), (1, 3), (64, 8), (1000, 3)])
@pytest.mark.parametrize("shuffle,drop_last", list(itertools.product([True, False], repeat=2)))
def test_indices_equal_torchs(n, replicas, shuffle, drop_last):
    data = range(n)
    for rank, (seed, epoch) in itertools.product(range(replicas), [(0, 0), (7, 3)]):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                  drop_last=drop_last)
        theirs = torch_dist.DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=shuffle, seed=seed,
                                               drop_last=drop_last)
        ours.set_epoch(epoch)
        theirs.set_epoch(epoch)
        assert list(ours) == list(theirs), (rank, seed, epoch)
        assert len(ours) == len(theirs) and ours.total_size == theirs.total_size


def test_ranks_partition_one_shuffled_epoch_and_epochs_differ():
    parts = [list(DistributedSampler(range(12), 3, r, seed=4)) for r in range(3)]
    assert sorted(sum(parts, [])) == list(range(12))
    s = DistributedSampler(range(12), 3, 0, seed=4)
    first = list(s)
    s.set_epoch(1)
    assert list(s) != first


def test_dataloader_batches_a_ranks_share():
    x = fk.arange(10.0).reshape(10, 1)
    sampler = DistributedSampler(TensorDataset(x), num_replicas=2, rank=1, shuffle=False)
    batches = [b[0].flatten().tolist() for b in DataLoader(TensorDataset(x), batch_size=2, sampler=sampler)]
    assert batches == [[1.0, 3.0], [5.0, 7.0], [9.0]]


def test_arguments_checked_as_pytorch():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="num_replicas"):
        DistributedSampler(range(4), num_replicas=0, rank=0)


def test_defaults_come_from_the_process_group(mpi4py_world):
    dist = mpi4py_world
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(range(4))
    dist.init_process_group("mpi")
    s = DistributedSampler(range(5))
    assert (s.num_replicas, s.rank, len(s)) == (1, 0, 5)
    assert np.array_equal(sorted(s), np.arange(5))
