"""fukaku.utils.data against torch.utils.data: batching, shuffling, drop_last, samplers, collate,
random_split, Subset, ConcatDataset; the TensorDataset fast path (one fancy index per tensor); the
DataLoader's arguments; worker processes (batches, seeds, get_worker_info, stream sharding, errors,
timeouts, prefetching, clean shutdown)."""
import copy
import gc
import multiprocessing
import os
import random
import sys
import time
import warnings
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud
from torch.utils.data._utils.worker import _generate_state

import fukaku as fk
from fukaku.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                               SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate,
                               default_convert, get_worker_info, random_split)

from test_random import chi_square_fits

Point = namedtuple("Point", "x y")


def _pair(n):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    return (TensorDataset(fk.tensor(x), fk.tensor(y)),
            tud.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))


def _as_numpy(obj):
    """Nested batch -> same nesting with NumPy arrays (both frameworks), for comparison."""
    if isinstance(obj, (fk.Tensor, torch.Tensor)):
        return obj.detach().numpy() if isinstance(obj, torch.Tensor) else obj.numpy()
    if isinstance(obj, dict):  # keeps the mapping type (and a defaultdict's factory)
        out = copy.copy(obj)
        out.update({k: _as_numpy(v) for k, v in obj.items()})
        return out
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_as_numpy(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_as_numpy(v) for v in obj)
    return obj


def _assert_same(ours, theirs):
    ours, theirs = _as_numpy(ours), _as_numpy(theirs)
    assert type(ours) is type(theirs), (type(ours), type(theirs))
    if isinstance(ours, np.ndarray):
        assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)
    elif isinstance(ours, dict):
        assert list(ours) == list(theirs)
        assert getattr(ours, "default_factory", None) is getattr(theirs, "default_factory", None)
        for k in ours:
            _assert_same(ours[k], theirs[k])
    elif isinstance(ours, (list, tuple)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _assert_same(a, b)
    else:
        assert ours == theirs


# ------------------------------------------------------------------ batching like torch
@pytest.mark.parametrize("n, bs, drop_last", [(10, 3, False), (10, 3, True), (10, 5, False), (10, 5, True),
                                              (7, 10, False), (7, 10, True), (1, 1, False), (0, 4, False)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batch_sizes_and_len_match_torch(n, bs, drop_last, shuffle):
    ours, theirs = _pair(n)
    if n == 0 and shuffle:  # PyTorch refuses to shuffle an empty dataset; so does fukaku
        with pytest.raises(ValueError, match="num_samples"):
            tud.DataLoader(theirs, batch_size=bs, shuffle=True)
        with pytest.raises(ValueError, match="num_samples"):
            DataLoader(ours, batch_size=bs, shuffle=True)
        return
    dl = DataLoader(ours, batch_size=bs, shuffle=shuffle, drop_last=drop_last, generator=0)
    tl = tud.DataLoader(theirs, batch_size=bs, shuffle=shuffle, drop_last=drop_last)
    assert len(dl) == len(tl)
    assert [len(b[1]) for b in dl] == [len(b[1]) for b in tl]


def test_sequential_batches_equal_torch_batches():
    ours, theirs = _pair(11)
    for a, b in zip(DataLoader(ours, batch_size=4), tud.DataLoader(theirs, batch_size=4), strict=True):
        _assert_same(a, b)


def test_shuffle_covers_every_index_once_per_epoch_and_changes_order():
    ds, _ = _pair(103)
    dl = DataLoader(ds, batch_size=10, shuffle=True, generator=np.random.default_rng(1))
    orders = []
    for _ in range(3):
        batches = list(dl)
        seen = np.concatenate([b[1].numpy() for b in batches])
        assert sorted(seen.tolist()) == list(range(103))
        for x, y in batches:  # x rows travel with their y
            np.testing.assert_array_equal(x.numpy()[:, 0], 3 * y.numpy())
        orders.append(seen)
    assert not np.array_equal(orders[0], orders[1]) and not np.array_equal(orders[1], orders[2])
    assert not np.array_equal(orders[0], np.arange(103))


def test_drop_last_shuffle_sees_each_index_at_most_once():
    ds, _ = _pair(103)
    seen = np.concatenate([b[1].numpy() for b in DataLoader(ds, batch_size=10, shuffle=True, drop_last=True,
                                                            generator=3)])
    assert len(seen) == 100 and len(set(seen.tolist())) == 100


def test_shuffle_is_deterministic_under_a_seed():
    ds, _ = _pair(50)

    def epochs(loader, k=2):
        return [np.concatenate([b[1].numpy() for b in loader]) for _ in range(k)]

    a = epochs(DataLoader(ds, batch_size=7, shuffle=True, generator=123))
    b = epochs(DataLoader(ds, batch_size=7, shuffle=True, generator=123))
    c = epochs(DataLoader(ds, batch_size=7, shuffle=True, generator=124))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    # generator=None draws from fukaku's default generator at iteration time: manual_seed repeats it
    loader = DataLoader(ds, batch_size=7, shuffle=True)
    fk.manual_seed(5)
    d = epochs(loader)
    fk.manual_seed(5)
    e = epochs(loader)
    for x, y in zip(d, e):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------ the shuffle's distribution
# Over many epochs of a fixed seed, a uniform shuffle puts every index in every position equally
# often. Coverage and "the order changed" cannot see a shuffle that, say, never moves the last index;
# these counts can: chi-square against the uniform counts, with the generous bound of
# tests/test_random.py (a correct shuffle passes with any seed, and the fixed seed makes the test
# deterministic), which one position that never moves exceeds a hundredfold.
_EPOCHS = 1500


def _position_counts(orders, n):
    """counts[p, i]: how many of the orders put index i at position p."""
    rows = np.broadcast_to(np.arange(orders.shape[1]), orders.shape)
    counts = np.zeros((orders.shape[1], n), dtype=np.int64)
    np.add.at(counts, (rows, orders), 1)
    return counts


def _epochs(loader, epochs=_EPOCHS):
    return np.stack([np.concatenate([b[1].numpy() for b in loader]) for _ in range(epochs)])


def _assert_uniform_positions(orders, n):
    counts = _position_counts(orders, n)
    assert chi_square_fits(counts, np.full(counts.shape, len(orders) / n)), counts


def _assert_uniform_pairs(orders, n):
    """The first two positions jointly: every ordered pair of distinct indices equally often (a random
    rotation of 0..n-1 would pass the per-position check, not this one)."""
    pairs = np.zeros((n, n), dtype=np.int64)
    np.add.at(pairs, (orders[:, 0], orders[:, 1]), 1)
    assert chi_square_fits(pairs, (1 - np.eye(n)) * len(orders) / (n * (n - 1))), pairs


@pytest.mark.parametrize("n, bs", [(10, 3), (10, 5), (7, 10)])
def test_shuffle_puts_every_index_in_every_position_equally_often(n, bs):
    ds, _ = _pair(n)
    orders = _epochs(DataLoader(ds, batch_size=bs, shuffle=True, generator=fk.Generator().manual_seed(n * bs)))
    assert orders.shape == (_EPOCHS, n) and (np.sort(orders, axis=1) == np.arange(n)).all()
    _assert_uniform_positions(orders, n)
    _assert_uniform_pairs(orders, n)


@pytest.mark.parametrize("n, bs", [(10, 3), (11, 4)])
def test_shuffle_with_drop_last_drops_every_index_equally_often(n, bs):
    ds, _ = _pair(n)
    seen = _epochs(DataLoader(ds, batch_size=bs, shuffle=True, drop_last=True, generator=n + bs))
    kept = n - n % bs
    assert seen.shape == (_EPOCHS, kept)
    # the indices an epoch did not show: with the ones it showed, each epoch is a permutation
    missing = np.stack([np.setdiff1d(np.arange(n), row) for row in seen])
    full = np.concatenate([seen, missing], axis=1)
    assert (np.sort(full, axis=1) == np.arange(n)).all()
    _assert_uniform_positions(seen, n)
    # every index is dropped with frequency (n % bs) / n
    dropped = np.bincount(missing.ravel(), minlength=n)
    assert chi_square_fits(dropped, np.full(n, _EPOCHS * (n % bs) / n)), dropped


def test_random_sampler_positions_are_uniform_also_beyond_one_permutation_and_with_replacement():
    n = 6
    sampler = RandomSampler(range(n), num_samples=15, generator=fk.Generator().manual_seed(1))
    orders = np.stack([np.fromiter(sampler, dtype=np.int64) for _ in range(_EPOCHS)])  # __iter__, not the fast path
    for start in (0, 6):  # two whole permutations, then the first 3 of a third
        assert (np.sort(orders[:, start:start + n], axis=1) == np.arange(n)).all()
    assert (np.diff(np.sort(orders[:, 12:], axis=1), axis=1) > 0).all()  # distinct within a permutation
    _assert_uniform_positions(orders, n)
    with_replacement = RandomSampler(range(n), replacement=True, num_samples=15, generator=2)
    draws = np.stack([np.fromiter(with_replacement, np.int64) for _ in range(_EPOCHS)])
    _assert_uniform_positions(draws, n)
    assert any(len(set(row.tolist())) < n for row in draws)  # with replacement: repeats happen


def test_a_one_element_dataset_shuffles_like_torch():
    ds, tds = _pair(1)
    ours = [b[1].tolist() for b in DataLoader(ds, batch_size=2, shuffle=True)]
    assert ours == [b[1].tolist() for b in tud.DataLoader(tds, batch_size=2, shuffle=True)] == [[0]]
    for replacement in (False, True):
        ours = list(RandomSampler(range(1), replacement=replacement, num_samples=3, generator=0))
        assert ours == list(tud.RandomSampler(range(1), replacement=replacement, num_samples=3)) == [0, 0, 0]


def test_a_generator_object_makes_the_order_repeatable_and_leaves_the_global_stream_alone():
    ds, _ = _pair(20)

    def loader(seed):
        return DataLoader(ds, batch_size=6, shuffle=True, generator=fk.Generator().manual_seed(seed))

    fk.manual_seed(0)
    before = fk.get_rng_state().numpy().copy()
    first = _epochs(loader(3), 4)
    np.testing.assert_array_equal(fk.get_rng_state().numpy(), before)  # drew only from its own generator
    np.testing.assert_array_equal(_epochs(loader(3), 4), first)
    assert len({row.tobytes() for row in first}) == 4  # each epoch a new order
    assert not np.array_equal(_epochs(loader(4), 1)[0], first[0])
    # the generator's state is the whole of the order: restored, the same epochs follow again
    again = loader(3)
    _epochs(again, 2)
    state = again.generator.bit_generator.state
    third = _epochs(again, 1)
    again.generator.bit_generator.state = state
    np.testing.assert_array_equal(_epochs(again, 1), third)
    np.testing.assert_array_equal(third[0], first[2])


# ------------------------------------------------------------------ fast path
def test_tensor_dataset_batches_use_one_fancy_index_per_tensor(monkeypatch):
    ds, _ = _pair(1000)
    calls = []
    original = fk.Tensor.__getitem__

    def counting(self, key):
        calls.append(key)
        return original(self, key)

    monkeypatch.setattr(fk.Tensor, "__getitem__", counting)
    fast = list(DataLoader(ds, batch_size=100, shuffle=True, generator=7))
    assert len(calls) == 10 * 2  # 10 batches x 2 tensors, not 1000 samples x 2
    calls.clear()
    slow = list(DataLoader(ds, batch_size=100, shuffle=True, generator=7, collate_fn=lambda b: default_collate(b)))
    assert len(calls) == 1000 * 2
    for a, b in zip(fast, slow, strict=True):
        _assert_same(a, b)


def test_fast_path_through_random_split_subsets_gives_the_subset_samples(monkeypatch):
    ds, _ = _pair(60)
    train, test = random_split(ds, [0.75, 0.25], generator=0)
    calls = []
    original = fk.Tensor.__getitem__
    monkeypatch.setattr(fk.Tensor, "__getitem__", lambda self, key: (calls.append(1), original(self, key))[1])
    got = np.concatenate([b[1].numpy() for b in DataLoader(train, batch_size=8)])
    assert len(calls) == 2 * 6
    np.testing.assert_array_equal(got, np.asarray(train.indices))
    nested = Subset(train, [4, 0, 2])
    x, y = next(iter(DataLoader(nested, batch_size=3)))
    np.testing.assert_array_equal(y.numpy(), np.asarray(train.indices)[[4, 0, 2]])
    np.testing.assert_array_equal(x.numpy()[:, 1], 3 * y.numpy() + 1)


def test_subclass_overriding_getitem_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, i):
            x, y = super().__getitem__(i)
            return x * 2, y

    x = fk.arange(12, dtype=fk.float32).reshape(6, 2)
    batch = next(iter(DataLoader(Doubled(x, fk.arange(6)), batch_size=6)))
    np.testing.assert_array_equal(batch[0].numpy(), 2 * x.numpy())


def test_batches_keep_the_graph_of_tensors_that_require_grad():
    x = fk.randn(8, 2, requires_grad=True)
    for ds_collate in (None, lambda b: default_collate(b)):
        xb, = next(iter(DataLoader(TensorDataset(x), batch_size=8, collate_fn=ds_collate)))
        x.grad = None
        xb.sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.ones((8, 2), np.float32))


# ------------------------------------------------------------------ collate against torch
class _ListDataset(Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


_SAMPLES = {
    "floats": [1.5, 2.0, -3.25],
    "ints": [1, 2, 3],
    "bools": [True, False, True],
    "strings": ["a", "bb", "c"],
    "numpy": [np.arange(3, dtype=np.float64) + i for i in range(3)],
    "numpy_scalars": [np.float32(i) for i in range(3)],
    "tuples": [(np.ones(2, np.float32) * i, i) for i in range(3)],
    "lists": [[i, float(i)] for i in range(3)],
    "dicts": [{"x": np.full(2, i, np.int32), "y": float(i), "name": str(i)} for i in range(3)],
    "namedtuples": [Point(float(i), i) for i in range(3)],
    "nested": [{"pair": (i, [i, i + 1]), "p": Point(np.zeros(1), "s")} for i in range(3)],
    "ints_and_floats": [1, 2.5, 3],  # torch.tensor infers float32
    "bools_and_ints": [True, 2, False],
    "bytes": [b"a", b"b", b"c"],
    "numpy_bools": [np.bool_(i % 2) for i in range(3)],
    "numpy_int32": [np.int32(i) for i in range(3)],
    "defaultdict": [defaultdict(list, a=i, b=[i, 2 * i]) for i in range(3)],  # keeps its factory
    "ordered": [OrderedDict([("z", float(i)), ("a", np.full((2, 2), i))]) for i in range(3)],
    "strings_in_tuples": [("x", i) for i in range(3)],
}


@pytest.mark.parametrize("kind", list(_SAMPLES))
def test_default_collate_matches_torch(kind):
    samples = _SAMPLES[kind]
    _assert_same(default_collate(samples), tud.default_collate(samples))
    ours = list(DataLoader(_ListDataset(samples), batch_size=2))
    theirs = list(tud.DataLoader(_ListDataset(samples), batch_size=2))
    _assert_same(ours, theirs)


def test_default_collate_stacks_tensors_and_reports_bad_batches():
    _assert_same(default_collate([fk.ones(2, 3), fk.zeros(2, 3)]),
                 tud.default_collate([torch.ones(2, 3), torch.zeros(2, 3)]))
    with pytest.raises(fk.ShapeError, match=r"sample 1 has shape \(2,\) but sample 0 has \(3,\)"):
        default_collate([fk.ones(3), fk.ones(2)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object(), object()])


def test_batch_size_none_converts_single_samples_like_torch():
    samples = [(np.arange(2) + i, float(i)) for i in range(3)]
    ours = list(DataLoader(_ListDataset(samples), batch_size=None))
    theirs = list(tud.DataLoader(_ListDataset(samples), batch_size=None))
    _assert_same(ours, theirs)
    assert len(DataLoader(_ListDataset(samples), batch_size=None)) == 3


# ------------------------------------------------------------------ samplers
def test_batch_sampler_matches_torch():
    for drop_last in (False, True):
        ours = list(BatchSampler(SequentialSampler(range(10)), 4, drop_last))
        theirs = list(tud.BatchSampler(tud.SequentialSampler(range(10)), 4, drop_last))
        assert ours == theirs
        assert len(BatchSampler(range(10), 4, drop_last)) == len(tud.BatchSampler(range(10), 4, drop_last))
        assert list(BatchSampler(range(10), 4, drop_last)) == theirs  # plain iterable sampler: generic path
    with pytest.raises(ValueError, match="batch_size should be a positive integer"):
        BatchSampler(range(3), 0, False)


def test_random_sampler_num_samples_and_replacement():
    data = range(10)
    s = RandomSampler(data, num_samples=25, generator=0)
    idx = list(s)
    assert len(s) == len(tud.RandomSampler(data, num_samples=25)) == 25
    counts = np.bincount(idx, minlength=10)
    assert counts.min() >= 2 and counts.max() <= 3  # two full permutations, then 5 of a third
    assert sorted(idx[:10]) == list(range(10)) and sorted(idx[10:20]) == list(range(10))
    r = list(RandomSampler(data, replacement=True, num_samples=1000, generator=0))
    assert len(r) == 1000 and set(r) == set(range(10)) and max(np.bincount(r)) > 100
    sub = list(SubsetRandomSampler([3, 5, 7, 9], generator=1))
    assert sorted(sub) == [3, 5, 7, 9]


def test_custom_sampler_and_batch_sampler():
    ds, tds = _pair(9)
    order = [8, 1, 4, 0, 7]
    ours = [b[1].tolist() for b in DataLoader(ds, batch_size=2, sampler=order)]
    theirs = [b[1].tolist() for b in tud.DataLoader(tds, batch_size=2, sampler=order)]
    assert ours == theirs == [[8, 1], [4, 0], [7]]
    groups = [[0, 2], [5, 6, 7], [1]]
    assert [b[1].tolist() for b in DataLoader(ds, batch_sampler=groups)] == groups
    assert len(DataLoader(ds, batch_sampler=groups)) == 3


# ------------------------------------------------------------------ iterable datasets
class _Stream(IterableDataset):
    def __init__(self, n, with_len=True):
        self.n, self.with_len = n, with_len

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        if not self.with_len:
            raise TypeError("no len")
        return self.n


class _TorchStream(tud.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


@pytest.mark.parametrize("drop_last", [False, True])
def test_iterable_dataset_batches_match_torch(drop_last):
    ours = DataLoader(_Stream(10), batch_size=4, drop_last=drop_last)
    theirs = tud.DataLoader(_TorchStream(10), batch_size=4, drop_last=drop_last)
    _assert_same(list(ours), list(theirs))
    assert len(ours) == len(theirs)
    with pytest.raises(ValueError, match="shuffle"):
        DataLoader(_Stream(3), shuffle=True)
    with pytest.raises(TypeError):
        len(DataLoader(_Stream(3, with_len=False)))


# ------------------------------------------------------------------ argument checks
_BAD_ARGUMENTS = [  # (kwargs, on an IterableDataset?, a phrase both messages contain)
    (dict(sampler=[0, 1], shuffle=True), False, "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), False, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], shuffle=True), False, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], sampler=[0]), False, "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), False, "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), False, "mutually exclusive with drop_last"),
    (dict(batch_size=0), False, "batch_size should be a positive integer"),
    (dict(num_workers=-1), False, "num_workers option should be non-negative"),
    (dict(timeout=-1), False, "timeout option should be non-negative"),
    (dict(prefetch_factor=2), False, "prefetch_factor option could only be specified in multiprocessing"),
    (dict(num_workers=2, prefetch_factor=-1), False, "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), False, "persistent_workers option needs num_workers > 0"),
    (dict(multiprocessing_context="fork"), False, "multiprocessing_context can only be used with multi-process"),
    (dict(num_workers=2, multiprocessing_context="bogus"), False, "should specify a valid start method in"),
    (dict(num_workers=2, multiprocessing_context=3), False, "should be a valid context object or a string"),
    (dict(shuffle=True), True, "expected unspecified shuffle option, but got shuffle=True"),
    (dict(sampler=[0]), True, "expected unspecified sampler option, but got sampler=[0]"),
    (dict(batch_sampler=[[0]]), True, "expected unspecified batch_sampler option, but got batch_sampler=[[0]]"),
]


@pytest.mark.parametrize("kwargs, stream, phrase", _BAD_ARGUMENTS, ids=[str(c[0]) for c in _BAD_ARGUMENTS])
def test_invalid_loader_arguments_raise_like_torch(kwargs, stream, phrase):
    ours, theirs = (_Stream(4), _TorchStream(4)) if stream else _pair(5)
    with pytest.raises(Exception) as torch_error:
        tud.DataLoader(theirs, **kwargs)
    with pytest.raises(type(torch_error.value)) as our_error:
        DataLoader(ours, **kwargs)
    assert phrase in str(torch_error.value) and phrase in str(our_error.value)


def test_loader_arguments_torch_accepts_are_accepted_and_frozen_after_init():
    ds, tds = _pair(5)
    options = dict(pin_memory=True, pin_memory_device="", timeout=0, worker_init_fn=None, in_order=True,
                   persistent_workers=False, multiprocessing_context=None)
    _assert_same(list(DataLoader(ds, batch_size=2, **options)), list(tud.DataLoader(tds, batch_size=2, **options)))
    loader, torch_loader = DataLoader(ds), tud.DataLoader(tds)
    for name in ("batch_size", "sampler", "batch_sampler", "drop_last", "dataset", "persistent_workers"):
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(torch_loader, name, None)
        with pytest.raises(ValueError, match=f"{name} attribute should not be set after DataLoader is initialized"):
            setattr(loader, name, None)
    loader.num_workers = 0  # others may change, as in torch
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, shuffle=True, generator="seed")
    with pytest.raises(ValueError, match="timeout"):  # timeouts are for workers (torch: an assertion)
        iter(DataLoader(ds, timeout=1))
    context = DataLoader(ds, num_workers=1, multiprocessing_context="spawn").multiprocessing_context
    assert context.get_start_method() == "spawn"


def test_more_workers_than_cpus_warn_like_torch():
    ds, tds = _pair(4)
    n = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()) + 1
    with pytest.warns(UserWarning, match=f"This DataLoader will create {n} worker processes in total"):
        tud.DataLoader(tds, num_workers=n)
    with pytest.warns(UserWarning, match=f"This DataLoader will create {n} worker processes in total"):
        DataLoader(ds, num_workers=n)


def test_tensor_dataset_checks_sizes():
    with pytest.raises(fk.ShapeError, match=r"first dimensions \[3, 4\]"):
        TensorDataset(fk.zeros(3, 2), fk.zeros(4))
    ds = TensorDataset(np.zeros((3, 2), np.float32), np.arange(3))  # arrays are wrapped
    assert len(ds) == 3 and isinstance(ds[1][0], fk.Tensor)


# ------------------------------------------------------------------ random_split, Subset, ConcatDataset
@pytest.mark.parametrize("n, lengths", [(10, [0.5, 0.5]), (11, [0.8, 0.2]), (7, [0.3, 0.3, 0.4]),
                                        (100, [0.33, 0.33, 0.34]), (10, [3, 7]), (5, [0.1, 0.9]), (3, [1.0]),
                                        (3, [0.1, 0.1, 0.8])])
def test_random_split_lengths_match_torch_and_are_disjoint(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty splits warn in both; checked below
        ours = random_split(range(n), lengths, generator=0)
        theirs = tud.random_split(range(n), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    flat = [i for s in ours for i in s.indices]
    assert sorted(flat) == list(range(n))
    assert [s[0] for s in ours if len(s)] == [s.indices[0] for s in ours if len(s)]


def test_random_split_determinism_and_errors():
    a = [s.indices for s in random_split(range(20), [15, 5], generator=4)]
    b = [s.indices for s in random_split(range(20), [15, 5], generator=np.random.default_rng(4))]
    assert a == b
    with pytest.warns(UserWarning, match="index 1 is 0"):  # floors 0, 0, 2; the leftover 1 goes to split 0
        random_split(range(3), [0.1, 0.1, 0.8], generator=0)
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(range(10), [3, 3])
    with pytest.raises(ValueError, match="not between 0 and 1"):
        random_split(range(10), [1.5, -0.5])


def test_concat_dataset_matches_torch():
    parts = [list(range(3)), list(range(10, 15)), [], list(range(20, 22))]
    ours = ConcatDataset([_ListDataset(p) for p in parts])
    theirs = tud.ConcatDataset([_ListDataset(p) for p in parts])
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    assert [ours[i] for i in range(-len(ours), len(ours))] == [theirs[i] for i in range(-len(theirs), len(theirs))]
    with pytest.raises(IndexError):
        ours[len(ours)]
    both = _ListDataset([1]) + _ListDataset([2, 3])
    assert isinstance(both, ConcatDataset) and [both[i] for i in range(3)] == [1, 2, 3]


def test_default_convert_matches_torch():
    samples = [np.arange(3, dtype=np.int32), np.float32(2.5), np.array(["a", "b"]), "text", 3, 1.5,
               {"x": np.ones(2), "n": 1}, Point(np.zeros(2), 1), (np.ones(1), "s"), [np.zeros(1), 2],
               defaultdict(int, k=np.arange(2)), OrderedDict(v=np.eye(2))]
    for sample in samples:
        _assert_same(default_convert(sample), tud.default_convert(sample))


class _Batched(Dataset):
    """A dataset that fetches whole batches (``__getitems__``) and records the calls."""

    def __init__(self, n):
        self.n, self.calls = n, []

    def __getitem__(self, i):
        return np.float32(i)

    def __getitems__(self, indices):
        self.calls.append(indices)
        return [np.float32(i) * 10 for i in indices]

    def __len__(self):
        return self.n


def test_getitems_is_used_for_batches_like_torch():
    for wrap in (lambda d: d, lambda d: Subset(d, [5, 3, 1, 0, 2])):
        ours, theirs = _Batched(6), _Batched(6)
        a = list(DataLoader(wrap(ours), batch_size=2))
        b = list(tud.DataLoader(wrap(theirs), batch_size=2))
        _assert_same(a, b)
        assert ours.calls == theirs.calls and all(type(i) is int for c in ours.calls for i in c)


def test_samplers_may_yield_keys_that_are_not_ints():
    table = _ListDataset({"a": 1.0, "b": 2.0, "c": 3.0})
    for kwargs in (dict(sampler=["c", "a", "b"], batch_size=2), dict(batch_sampler=[["b"], ["a", "c"]])):
        _assert_same(list(DataLoader(table, **kwargs)), list(tud.DataLoader(table, **kwargs)))


# ------------------------------------------------------------------ worker processes
# Each test starts two worker processes ('fork' on Linux: milliseconds) on a tiny dataset.
def _running(pid):
    """True while the process exists, zombies included (a zombie keeps its /proc entry)."""
    return os.path.exists(f"/proc/{pid}")


needs_proc = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find zombies")


class _Probe(Dataset):
    """Sample i: its index, and what the process that fetched it knows (pid, worker info, random draws)."""

    def __init__(self, n, fail_at=(), exit_at=(), sleep_at=(), sleep=0.4):
        self.n, self.fail_at, self.exit_at, self.sleep_at, self.sleep = n, fail_at, exit_at, sleep_at, sleep

    def __getitem__(self, i):
        if i in self.fail_at:
            raise ValueError(f"bad sample {i}")
        if i in self.exit_at:
            os._exit(3)
        if i in self.sleep_at:
            time.sleep(self.sleep)
        return {"i": i, "pid": os.getpid()}

    def __len__(self):
        return self.n


def _pids(batches):
    return sorted({int(p) for b in batches for p in b["pid"].tolist()})


class _Squares(Dataset):
    def __getitem__(self, i):
        return {"x": np.full(2, i * i, np.float32), "label": i % 3, "name": f"s{i}", "p": Point(float(i), i)}

    def __len__(self):
        return 11


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                    dict(batch_size=None), dict(batch_sampler=[[4, 1], [0], [10, 9, 8]]),
                                    dict(batch_size=4, collate_fn=lambda b: [s["x"] for s in b]),
                                    dict(batch_size=2, pin_memory=True, prefetch_factor=1)],
                         ids=["batched", "drop_last", "unbatched", "batch_sampler", "collate_fn", "pin_prefetch"])
def test_worker_batches_equal_in_process_batches_and_torch(kwargs):
    worker_kwargs = {k: v for k, v in kwargs.items() if k != "prefetch_factor"}
    expected = list(tud.DataLoader(_Squares(), **worker_kwargs))
    _assert_same(list(DataLoader(_Squares(), **worker_kwargs)), expected)
    _assert_same(list(DataLoader(_Squares(), num_workers=2, **kwargs)), expected)


def test_worker_shuffle_follows_the_generator_like_in_process_loading():
    ds, _ = _pair(23)  # the TensorDataset fast path runs in the workers too
    for generator in (0, 1):
        ours = list(DataLoader(ds, batch_size=4, shuffle=True, num_workers=2, generator=generator))
        in_process = list(DataLoader(ds, batch_size=4, shuffle=True, generator=generator))
        _assert_same(ours, in_process)
        assert isinstance(ours[0][0], fk.Tensor) and ours[0][0].dtype == fk.float32
    fk.manual_seed(11)  # generator=None: fukaku's default generator, as with num_workers=0
    a = [b[1].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True, num_workers=2)]
    fk.manual_seed(11)
    assert a == [b[1].tolist() for b in DataLoader(ds, batch_size=5, shuffle=True)]


class _SeedProbe(Dataset):
    """What each worker knows and draws: get_worker_info(), the worker_init_fn's mark, one draw from
    NumPy's, Python's and fukaku's generators."""

    def __getitem__(self, i):
        info = get_worker_info()
        try:
            info.id = 7
            frozen = False
        except RuntimeError:
            frozen = True
        return dict(i=i, id=info.id, num_workers=info.num_workers, seed=info.seed, same_dataset=info.dataset is self,
                    frozen=frozen, init=_INIT_MARK[0], np=np.random.random(), py=random.random(),
                    fk=fk.rand(1).item())

    def __len__(self):
        return 4


_INIT_MARK = [None]


def _mark_init(worker_id):
    _INIT_MARK[0] = 100 + worker_id


def test_worker_seeds_worker_info_and_worker_init_fn_follow_torch():
    def run(generator):
        return list(DataLoader(_SeedProbe(), batch_size=None, num_workers=2, worker_init_fn=_mark_init,
                               generator=generator))

    samples = run(7)
    assert get_worker_info() is None and _INIT_MARK[0] is None  # in the main process
    assert [s["i"] for s in samples] == [0, 1, 2, 3] and [s["id"] for s in samples] == [0, 1, 0, 1]
    base = samples[0]["seed"]
    for worker in (0, 1):
        mine = [s for s in samples if s["id"] == worker]
        assert all(s["seed"] == base + worker and s["num_workers"] == 2 and s["init"] == 100 + worker
                   and s["same_dataset"] and s["frozen"] for s in mine)
        # NumPy's global generator: seeded with torch's own _generate_state(base_seed, worker_id)
        np.testing.assert_array_equal([s["np"] for s in mine],
                                      np.random.RandomState(_generate_state(base, worker)).random_sample(2))
        python = random.Random(base + worker)
        assert [s["py"] for s in mine] == [python.random(), python.random()]
        fukaku_draws = np.random.default_rng(base + worker).random((2, 1)).astype(np.float32)  # fk.manual_seed(seed)
        np.testing.assert_array_equal([s["fk"] for s in mine], fukaku_draws[:, 0])
    again, other = run(7), run(8)
    assert [s["np"] for s in again] == [s["np"] for s in samples] and again[0]["seed"] == base
    assert other[0]["seed"] != base


def _shard(worker_info, n, sharded):
    """range(n), split between workers as in torch's IterableDataset docs (or, unsharded, whole in each)."""
    if worker_info is None or not sharded:
        return iter(range(n))
    return iter(range(worker_info.id, n, worker_info.num_workers))


class _Shards(IterableDataset):
    def __init__(self, n, sharded=True):
        self.n, self.sharded = n, sharded

    def __iter__(self):
        return _shard(get_worker_info(), self.n, self.sharded)

    def __len__(self):
        return self.n


class _TorchShards(tud.IterableDataset):
    def __init__(self, n, sharded=True):
        self.n, self.sharded = n, sharded

    def __iter__(self):
        return _shard(tud.get_worker_info(), self.n, self.sharded)

    def __len__(self):
        return self.n


@pytest.mark.parametrize("n, kwargs", [(7, dict(batch_size=None)), (9, dict(batch_size=2)),
                                       (9, dict(batch_size=2, drop_last=True)), (3, dict(batch_size=4))])
def test_iterable_dataset_sharding_matches_torch(n, kwargs):
    ours = list(DataLoader(_Shards(n), num_workers=2, **kwargs))
    theirs = list(tud.DataLoader(_TorchShards(n), num_workers=2, **kwargs))
    _assert_same(ours, theirs)


def test_unsharded_stream_repeats_per_worker_and_warns_about_its_length_like_torch():
    loader, torch_loader = DataLoader(_Shards(3, False), num_workers=2), tud.DataLoader(_TorchShards(3, False),
                                                                                        num_workers=2)
    assert len(loader) == len(torch_loader) == 3
    with pytest.warns(UserWarning, match="was reported to be 3"):
        theirs = list(torch_loader)
    with pytest.warns(UserWarning, match="was reported to be 3"):
        ours = list(loader)
    _assert_same(ours, theirs)
    assert [int(t) for t in ours] == [0, 0, 1, 1, 2, 2]


def test_worker_exception_is_reraised_with_the_worker_traceback_like_torch():
    it = iter(DataLoader(_Probe(8, fail_at=(3,)), batch_size=2, num_workers=2))
    torch_it = iter(tud.DataLoader(_Probe(8, fail_at=(3,)), batch_size=2, num_workers=2))
    assert next(it)["i"].tolist() == next(torch_it)["i"].tolist() == [0, 1]
    with pytest.raises(ValueError) as torch_error:
        next(torch_it)
    with pytest.raises(ValueError) as our_error:
        next(it)
    ours, theirs = str(our_error.value).splitlines(), str(torch_error.value).splitlines()
    assert ours[:2] == theirs[:2] == ["Caught ValueError in DataLoader worker process 1.",
                                      "Original Traceback (most recent call last):"]
    assert ours[-1] == theirs[-1] == "ValueError: bad sample 3"
    assert 'raise ValueError(f"bad sample {i}")' in str(our_error.value)  # the worker's source line
    # as in torch, the epoch goes on after a failed batch
    assert next(it)["i"].tolist() == next(torch_it)["i"].tolist() == [4, 5]
    # (ending both epochs stops the workers now: torch's, collected later in a reference cycle with
    # the exception info, would each wait 5 s for a final signal that never comes)
    assert [b["i"].tolist() for b in it] == [b["i"].tolist() for b in torch_it] == [[6, 7]]


class _NeedsTwoArguments(Exception):
    def __init__(self, a, b):
        super().__init__(a, b)


class _Failing(Dataset):
    def __init__(self, local_error):
        self.local_error = local_error

    def __getitem__(self, i):
        raise [KeyError("missing"), _NeedsTwoArguments(1, 2), self.local_error("local")][i]

    def __len__(self):
        return 3


def test_worker_exceptions_of_every_kind_reach_the_main_process():
    class LocalError(Exception):  # cannot be pickled by reference: re-raised as a RuntimeError
        pass

    it = iter(DataLoader(_Failing(LocalError), batch_size=None, num_workers=2))
    with pytest.raises(KeyError) as error:
        next(it)
    assert str(error.value).startswith("Caught KeyError in DataLoader worker process 0.\nOriginal Traceback")
    with pytest.raises(RuntimeError, match="Caught _NeedsTwoArguments in DataLoader worker process 1"):
        next(it)
    with pytest.raises(RuntimeError, match="(?s)Caught LocalError in DataLoader worker process 0.*LocalError: local"):
        next(it)

    def bad_init(worker_id):
        raise ZeroDivisionError(f"init {worker_id}")

    with pytest.raises(ZeroDivisionError, match="(?s)worker process 0.*ZeroDivisionError: init 0"):
        list(DataLoader(_Probe(4), num_workers=2, worker_init_fn=bad_init))


class _Payload(Dataset):
    def __getitem__(self, i):
        w = fk.ones(2, requires_grad=True)
        if i == 1:
            return w * 2  # a non-leaf that requires grad cannot leave its process
        return {"array": np.arange(3) + i, "tensor": fk.full((2,), float(i)), "leaf": w}

    def __len__(self):
        return 2


def test_batches_travel_as_arrays_and_become_tensors_in_the_main_process():
    it = iter(DataLoader(_Payload(), batch_size=None, num_workers=2, collate_fn=lambda sample: sample))
    first = next(it)
    assert type(first["array"]) is np.ndarray and first["array"].tolist() == [0, 1, 2]
    assert isinstance(first["tensor"], fk.Tensor) and first["tensor"].tolist() == [0.0, 0.0]
    assert first["leaf"].requires_grad and first["leaf"].is_leaf
    with pytest.raises(RuntimeError, match="(?s)worker process 1.*autograd does not support crossing process"):
        next(it)


def _children():
    return {p.pid for p in multiprocessing.active_children()}


@needs_proc
def test_workers_are_shut_down_on_break_exhaustion_errors_and_collection():
    loader = DataLoader(_Probe(12), batch_size=2, num_workers=2)
    before = _children()
    for batch in loader:  # early break
        pids = _children() - before
        break
    assert len(pids) == 2 and not any(_running(p) for p in pids)
    pids = _pids(list(loader))  # exhaustion
    assert len(pids) == 2 and not any(_running(p) for p in pids)
    with pytest.raises(KeyError):  # an exception in the loop body
        for batch in loader:
            pids = _children() - before
            raise KeyError("stop")
    assert len(pids) == 2 and not any(_running(p) for p in pids)
    it = iter(loader)  # garbage collection of an iterator in a reference cycle
    pids = _children() - before
    next(it)
    cycle = [it]
    cycle.append(cycle)
    del it, cycle
    start = time.monotonic()
    gc.collect()  # the queues' own finalizers run first and drop the final None: the workers must not need it
    assert time.monotonic() - start < 4  # not the 5 s a worker waiting for None would take to be terminated
    assert len(pids) == 2 and not any(_running(p) for p in pids)
    with pytest.raises(ValueError) as kept:  # a worker's exception, kept by the caller
        for batch in DataLoader(_Probe(12, fail_at=(5,)), batch_size=2, num_workers=2):
            pids = _children() - before
    assert kept.value is not None and len(pids) == 2 and not any(_running(p) for p in pids)


@needs_proc
def test_persistent_workers_serve_every_epoch_and_stop_with_the_loader():
    loader = DataLoader(_Probe(6), batch_size=2, num_workers=2, persistent_workers=True)
    first = list(loader)
    for batch in loader:  # a partial epoch: its leftovers must not leak into the next one
        break
    third = list(loader)
    assert [b["i"].tolist() for b in first] == [b["i"].tolist() for b in third] == [[0, 1], [2, 3], [4, 5]]
    pids = _pids(first)
    assert _pids(third) == pids and len(pids) == 2 and all(_running(p) for p in pids)
    streams = DataLoader(_Shards(5), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in streams] == [b.tolist() for b in streams] == [[0, 2], [1, 3], [4]]
    del loader, streams
    assert not any(_running(p) for p in pids)


def test_a_worker_that_dies_is_reported():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited unexpectedly.*exit code\(s\) 3"):
        list(DataLoader(_Probe(4, exit_at=(1,)), batch_size=None, num_workers=2))


def test_timeout_raises_when_a_batch_is_late():
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.1 seconds"):
        list(DataLoader(_Probe(2, sleep_at=(0,)), batch_size=None, num_workers=2, timeout=0.1))


class _Counting(Dataset):
    def __init__(self, counter):
        self.counter = counter

    def __getitem__(self, i):
        with self.counter.get_lock():
            self.counter.value += 1
        return i

    def __len__(self):
        return 20


@pytest.mark.parametrize("prefetch_factor", [1, 2])
def test_prefetch_factor_bounds_the_batches_asked_for(prefetch_factor):
    counter = multiprocessing.get_context("fork").Value("i", 0)
    it = iter(DataLoader(_Counting(counter), batch_size=None, num_workers=2, prefetch_factor=prefetch_factor))
    assert next(it) == 0
    time.sleep(0.2)  # let the workers fetch whatever they were asked for
    # asked for: 2 * prefetch_factor at the start, one more after the first batch (not all 20)
    assert 1 <= counter.value <= 2 * prefetch_factor + 1
    assert [int(x) for x in it] == list(range(1, 20))


def test_in_order_false_yields_batches_as_they_are_ready():
    batches = [int(b["i"]) for b in DataLoader(_Probe(4, sleep_at=(0,), sleep=0.8), batch_size=None, num_workers=2,
                                               in_order=False)]
    assert sorted(batches) == [0, 1, 2, 3] and batches[0] != 0


def test_spawned_workers_give_the_same_batches():
    ds, _ = _pair(10)  # a TensorDataset pickles (tensors as arrays) into the spawned processes
    spawned = list(DataLoader(ds, batch_size=3, shuffle=True, generator=5, num_workers=2,
                              multiprocessing_context="spawn"))
    _assert_same(spawned, list(DataLoader(ds, batch_size=3, shuffle=True, generator=5)))
