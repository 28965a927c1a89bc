"""fukaku.utils.data against torch.utils.data: batching, shuffling, drop_last, samplers, collate,
random_split, Subset, ConcatDataset; the TensorDataset fast path (one fancy index per tensor)."""
import warnings
from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import fukaku as fk
from fukaku.utils.data import (BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler,
                               SequentialSampler, Subset, SubsetRandomSampler, TensorDataset, default_collate,
                               random_split)

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
    if isinstance(obj, dict):
        return {k: _as_numpy(v) for k, v in obj.items()}
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
def test_invalid_loader_arguments_raise_like_torch():
    ds, _ = _pair(5)
    cases = [dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
             dict(batch_sampler=[[0]], drop_last=True), dict(batch_size=None, drop_last=True),
             dict(batch_size=0), dict(num_workers=2)]
    for kwargs in cases:
        with pytest.raises(ValueError):
            DataLoader(ds, **kwargs)
    with pytest.raises(TypeError, match="generator"):
        DataLoader(ds, shuffle=True, generator="seed")


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
