"""Conformance of the indexing ops (fukaku/ops/index.py) with PyTorch: forward values (indices
exactly), reverse mode, forward mode and second order, float32 and float64. ``x[key]``, gather,
take, take_along_dim, index_select, masked_select, nonzero, repeat_interleave, ``x.unfold``, and the
out-of-place writes (scatter, scatter_add, scatter_reduce, index_add, index_copy, index_fill,
index_put, put, masked_fill, masked_scatter), which must leave their input untouched."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku
from conformance import FLOATS, check, check_random, randn, shape_error_raised

dtypes = pytest.mark.parametrize("dtype", FLOATS)


def forward_only(fk_fn, th_fn, inputs, dtype=None):
    check(fk_fn, th_fn, inputs, dtype, backward=False, jvp=False)


def both(index: np.ndarray):
    """The same index array as a fukaku and a torch tensor."""
    return fukaku.tensor(index), torch.from_numpy(np.asarray(index))


# ----------------------------------------------------------------------------- __getitem__
BASIC_KEYS = [
    1, -1, slice(None), slice(1, None), slice(None, None, 2), slice(-3, -1), slice(3, 1), slice(None, 10),
    (0, 1), (-1, -2, -3), (slice(None), 1), (1, slice(None, None, 2)), (Ellipsis, 1), (Ellipsis, slice(1, 3)),
    (None,), (None, 1), (slice(None), None, slice(1, None)), (1, Ellipsis, None), (Ellipsis, None),
    (slice(None, None, 3), slice(None), slice(1, 4, 2)), (), Ellipsis, (0, 0, 0), (slice(1, 2), -1, None),
]


@dtypes
@pytest.mark.parametrize("key", BASIC_KEYS, ids=[repr(k) for k in BASIC_KEYS])
def test_getitem_basic(key, dtype):
    check_random(lambda x: x[key], lambda x: x[key], [(4, 3, 5)], dtype, second=True)


def _adv(key, lib):
    """The key with index arrays turned into the library's tensors."""
    def conv(k):
        if isinstance(k, np.ndarray):
            return fukaku.tensor(k) if lib == "fk" else torch.from_numpy(k)
        return k
    return tuple(conv(k) for k in key) if isinstance(key, tuple) else conv(key)


ADV_KEYS = [
    np.array([0, 2, 2, 0, 3]),                                       # repeats: backward must accumulate
    np.array([-1, 0, -1]),
    np.array([[0, 1], [1, 1]]),                                       # 2-d index tensor
    (np.array([0, 1, 1]), np.array([2, 2, 0])),                       # two index tensors (zip)
    (np.array([[0], [3]]), np.array([1, 2, 1])),                     # broadcasting index tensors
    (slice(None), np.array([2, 0, 2])),                               # mixed basic + advanced
    (1, np.array([0, 0, 2])),
    (np.array([3, 3]), slice(1, None, 2), np.array([4, 4])),         # separated advanced -> front
    (Ellipsis, np.array([1, 1, 4])),
    (np.array([0, 0]), Ellipsis, np.array([1, 1])),
    (slice(None, None, -1) if False else slice(1, 3), np.array([0, 2]), slice(None)),
    (None, np.array([1, 1])),
    np.array([True, False, True, True]),                              # bool mask over dim 0
    (slice(None), np.array([True, False, True])),
    np.zeros((4, 3, 5), dtype=bool),                                   # empty selection
    np.array([], dtype=np.int64),
]


@dtypes
@pytest.mark.parametrize("key", ADV_KEYS, ids=[f"adv{i}" for i in range(len(ADV_KEYS))])
def test_getitem_advanced(key, dtype):
    check_random(lambda x: x[_adv(key, "fk")], lambda x: x[_adv(key, "th")], [(4, 3, 5)], dtype, second=True)


@dtypes
def test_getitem_full_bool_mask(dtype):
    mask = randn((4, 3), dtype=np.float64, seed=7) > 0
    check_random(lambda x: x[fukaku.tensor(mask)], lambda x: x[torch.from_numpy(mask)], [(4, 3)], dtype, second=True)
    check_random(lambda x: x[mask.tolist()], lambda x: x[torch.from_numpy(mask)], [(4, 3)], dtype, jvp=False)


@dtypes
def test_getitem_list_index(dtype):
    check_random(lambda x: x[[0, 2, 2]], lambda x: x[[0, 2, 2]], [(4, 3)], dtype, second=True)
    check_random(lambda x: x[:, [1, 1, 0]], lambda x: x[:, [1, 1, 0]], [(4, 3)], dtype, second=True)


@dtypes
def test_getitem_tensor_scalar_index(dtype):
    check_random(lambda x: x[fukaku.tensor(2)], lambda x: x[torch.tensor(2)], [(4, 3)], dtype)


@dtypes
def test_getitem_twice_accumulates(dtype):
    """The same element read by two indexing expressions: the gradients add up."""
    check_random(lambda x: x[1] * x[1:3].sum(0), lambda x: x[1] * x[1:3].sum(0), [(4, 3)], dtype, second=True)


# ----------------------------------------------------------------------------- gather / scatter_add / index_select
GATHER = [
    ((3, 4), 1, np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]])),
    ((3, 4), 0, np.array([[0, 1, 2, 0], [2, 2, 2, 2]])),
    ((3, 4), -1, np.array([[1], [0], [-1]])),
    ((2, 3, 4), 2, np.array([[[0, 1], [3, 3], [2, 0]], [[1, 1], [0, 0], [3, 2]]])),
    ((2, 3, 4), 1, np.zeros((2, 5, 4), np.int64)),
    ((4, 5), 1, np.array([[0, 1], [2, 3]])),                          # index smaller than input in dim 0
    ((3, 4), 1, np.zeros((3, 0), np.int64)),
]


@dtypes
@pytest.mark.parametrize("shape,dim,index", GATHER, ids=[f"g{i}" for i in range(len(GATHER))])
def test_gather(shape, dim, index, dtype):
    t_index = torch.from_numpy(np.where(index < 0, index + shape[dim], index))  # torch rejects negative indices
    check_random(lambda x: fukaku.gather(x, dim, fukaku.tensor(index)), lambda x: torch.gather(x, dim, t_index),
        [shape], dtype, second=True)
    check_random(lambda x: x.gather(dim, fukaku.tensor(index)), lambda x: x.gather(dim, t_index), [shape], dtype, jvp=False)


@dtypes
def test_gather_0d(dtype):
    i = np.array(0)
    check_random(lambda x: fukaku.gather(x, 0, fukaku.tensor(i)), lambda x: torch.gather(x, 0, torch.from_numpy(i)),
        [()], dtype, second=True)
    check_random(lambda x, s: fukaku.scatter_add(x, 0, fukaku.tensor(i), s),
        lambda x, s: torch.scatter_add(x, 0, torch.from_numpy(i), s), [(), ()], dtype, second=True)


SCATTER = [
    ((3, 4), (3, 3), 1, np.array([[0, 0, 3], [1, 2, 1], [3, 3, 3]])),
    ((3, 4), (2, 4), 0, np.array([[0, 1, 2, 0], [2, 2, 2, 2]])),
    ((5,), (4,), 0, np.array([1, 1, 1, 4])),
    ((3, 4), (3, 5), 1, np.array([[1, 1], [0, 0], [-1, 2]])),        # src larger than index
    ((2, 3, 4), (2, 3, 4), -1, np.array([[[0, 1], [3, 3], [2, 0]], [[1, 1], [0, 0], [3, 2]]])),
    ((4, 5), (3, 3), 0, np.array([[0, 1], [2, 3]])),
]


@dtypes
@pytest.mark.parametrize("shape,src_shape,dim,index", SCATTER, ids=[f"s{i}" for i in range(len(SCATTER))])
def test_scatter_add(shape, src_shape, dim, index, dtype):
    t_index = torch.from_numpy(np.where(index < 0, index + shape[dim], index))
    if src_shape == index.shape:
        check_random(lambda x, s: fukaku.scatter_add(x, dim, fukaku.tensor(index), s),
            lambda x, s: torch.scatter_add(x, dim, t_index, s), [shape, src_shape], dtype, second=True)
        check_random(lambda x, s: x.scatter_add(dim, fukaku.tensor(index), s),
            lambda x, s: x.scatter_add(dim, t_index, s), [shape, src_shape], dtype, jvp=False)
        return
    # torch implements the src gradient only for src.shape == index.shape: compare the rest with torch,
    # and the src gradient with its definition (gather of the upstream gradient, zero where src is unused)
    src = randn(src_shape, dtype=dtype, seed=9)
    check_random(lambda x: fukaku.scatter_add(x, dim, fukaku.tensor(index), fukaku.tensor(src)),
        lambda x: torch.scatter_add(x, dim, t_index, torch.from_numpy(src)), [shape], dtype, second=True)
    check_random(lambda s: fukaku.scatter_add(fukaku.zeros(shape, dtype=dtype), dim, fukaku.tensor(index), s),
        lambda s: torch.scatter_add(torch.zeros(shape, dtype=s.dtype), dim, t_index, s), [src_shape], dtype, backward=False)
    s_fk = fukaku.tensor(src, requires_grad=True)
    u = randn(shape, dtype=dtype, seed=10)
    fukaku.scatter_add(fukaku.zeros(shape, dtype=dtype), dim, fukaku.tensor(index), s_fk).backward(fukaku.tensor(u))
    want = np.zeros(src_shape, dtype)
    want[tuple(slice(0, k) for k in index.shape)] = torch.gather(torch.from_numpy(u), dim, t_index).numpy()
    np.testing.assert_allclose(s_fk.grad.data.numpy(), want)


@dtypes
def test_scatter_add_src_only(dtype):
    base = randn((3, 4), dtype=dtype, seed=5)
    index = np.array([[0, 0], [3, 1], [2, 2]])
    check_random(lambda s: fukaku.scatter_add(fukaku.tensor(base), 1, fukaku.tensor(index), s),
        lambda s: torch.scatter_add(torch.from_numpy(base), 1, torch.from_numpy(index), s), [(3, 2)], dtype, second=True)
    check_random(lambda x: fukaku.scatter_add(x, 1, fukaku.tensor(index), fukaku.tensor(base[:, :2].copy())),
        lambda x: torch.scatter_add(x, 1, torch.from_numpy(index), torch.from_numpy(base[:, :2].copy())),
        [(3, 4)], dtype, second=True)


@dtypes
@pytest.mark.parametrize("shape,dim,index", [((4, 3), 0, [0, 2, 2, 0, 3]), ((4, 3), 1, [2, 2]), ((4, 3), -1, [1]),
                                             ((2, 3, 4), 1, [2, 0, 2, 1]), ((5,), 0, [4, 4, 4]), ((4, 3), 0, []),
                                             ((4, 3), 0, [-1, 0])])
def test_index_select(shape, dim, index, dtype):
    idx = np.array(index, dtype=np.int64)
    if (idx < 0).any():  # torch rejects negative indices; fukaku wraps them like __getitem__
        idx_t = np.where(idx < 0, idx + shape[dim], idx)
    else:
        idx_t = idx
    check_random(lambda x: fukaku.index_select(x, dim, fukaku.tensor(idx)),
        lambda x: torch.index_select(x, dim, torch.from_numpy(idx_t)), [shape], dtype, second=True)
    check_random(lambda x: x.index_select(dim, fukaku.tensor(idx)),
        lambda x: x.index_select(dim, torch.from_numpy(idx_t)), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,mask_shape,value", [((3, 4), (3, 4), 0.0), ((3, 4), (4,), -1.5), ((3, 4), (3, 1), 2.0),
                                                    ((2, 3, 4), (1, 3, 1), float("-inf")), ((3, 4), (), 1.0),
                                                    ((0, 4), (4,), 1.0)])
def test_masked_fill(shape, mask_shape, value, dtype):
    mask = randn(mask_shape, dtype=np.float64, seed=11) > 0
    check_random(lambda x: fukaku.masked_fill(x, fukaku.tensor(mask), value),
        lambda x: torch.masked_fill(x, torch.from_numpy(np.asarray(mask)), value), [shape], dtype, second=True)
    check_random(lambda x: x.masked_fill(fukaku.tensor(mask), value),
        lambda x: x.masked_fill(torch.from_numpy(np.asarray(mask)), value), [shape], dtype, jvp=False)


@dtypes
def test_masked_fill_tensor_value(dtype):
    mask = randn((3, 4), dtype=np.float64, seed=11) > 0
    check_random(lambda x: fukaku.masked_fill(x, fukaku.tensor(mask), fukaku.tensor(np.asarray(3.0, dtype))),
        lambda x: torch.masked_fill(x, torch.from_numpy(mask), torch.tensor(3.0, dtype=x.dtype)), [(3, 4)], dtype)
    # the fill value as a differentiable 0-d tensor
    check_random(lambda x, v: fukaku.masked_fill(x, fukaku.tensor(mask), v),
        lambda x, v: torch.masked_fill(x, torch.from_numpy(mask), v), [(3, 4), ()], dtype, second=True)



# ----------------------------------------------------------------------------- nonzero, argwhere, masked_select
@pytest.mark.parametrize("a", [np.array([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]), np.array([True, False, True, True]),
                               np.array([[[0, 3], [0, 0]], [[1, 0], [0, 2]]]), np.array(5.0), np.array(0),
                               np.zeros((0, 3)), np.zeros((2, 3))])
def test_nonzero(a):
    forward_only(fukaku.nonzero, torch.nonzero, [a])
    forward_only(lambda x: x.nonzero(as_tuple=True), lambda x: x.nonzero(as_tuple=True), [a])
    forward_only(fukaku.argwhere, torch.argwhere, [a])


@dtypes
@pytest.mark.parametrize("shape,mask_shape", [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 1), (1, 4)),
                                              ((3, 4), ()), ((0, 4), (4,))])
def test_masked_select(shape, mask_shape, dtype):
    """The mask and the input broadcast together; the gradient goes back to the selected elements (summed over
    the broadcast)."""
    mask = randn(mask_shape, seed=3) > 0
    check_random(lambda x: fukaku.masked_select(x, fukaku.tensor(mask)),
                 lambda x: torch.masked_select(x, torch.from_numpy(np.asarray(mask))), [shape], dtype, second=True)
    check_random(lambda x: x.masked_select(fukaku.tensor(mask)), lambda x: x.masked_select(torch.from_numpy(np.asarray(mask))),
                 [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- take, take_along_dim
@dtypes
@pytest.mark.parametrize("shape,index", [((2, 3), [[0, -1], [5, 2]]), ((6,), [3, 3, 0]), ((2, 3), []), ((), [0, -1]),
                                         ((2, 3), 4)])
def test_take(shape, index, dtype):
    fi, ti = both(np.array(index, dtype=np.int64))
    check_random(lambda x: fukaku.take(x, fi), lambda x: torch.take(x, ti), [shape], dtype, second=True)
    check_random(lambda x: x.take(fi), lambda x: x.take(ti), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,index,dim", [((2, 3), [[0], [2]], 1), ((2, 3), [[0, 1, 1]], 0), ((2, 3), [[1, -1]], -1),
                                             ((2, 3, 4), [[[3, 0]], [[1, 1]]], 2), ((2, 3), [5, 1, 5], None),
                                             ((2, 1), [[0, 0, 0]], 1)])
def test_take_along_dim(shape, index, dim, dtype):
    fi, ti = both(np.array(index, dtype=np.int64))
    check_random(lambda x: fukaku.take_along_dim(x, fi, dim), lambda x: torch.take_along_dim(x, ti, dim), [shape], dtype,
                 second=True)
    check_random(lambda x: x.take_along_dim(fi, dim=dim), lambda x: x.take_along_dim(ti, dim=dim), [shape], dtype,
                 jvp=False)


# ----------------------------------------------------------------------------- repeat_interleave
@dtypes
@pytest.mark.parametrize("shape,repeats,dim", [((3,), 2, None), ((2, 3), 2, None), ((2, 3), 3, 1), ((2, 3), [1, 0, 2], -1),
                                               ((3, 2), [2, 1, 3], 0), ((2, 3), [2], 0), ((), 3, None), ((2, 3), 0, 0)])
def test_repeat_interleave(shape, repeats, dim, dtype):
    if isinstance(repeats, list):
        fr, tr = both(np.array(repeats, dtype=np.int64))
    else:
        fr = tr = repeats
    check_random(lambda x: fukaku.repeat_interleave(x, fr, dim), lambda x: torch.repeat_interleave(x, tr, dim), [shape],
                 dtype, second=True)
    check_random(lambda x: x.repeat_interleave(fr, dim=dim), lambda x: x.repeat_interleave(tr, dim=dim), [shape], dtype,
                 jvp=False)


def test_repeat_interleave_counts_only_and_output_size():
    forward_only(fukaku.repeat_interleave, torch.repeat_interleave, [np.array([1, 0, 3, 2])])
    forward_only(lambda x: fukaku.repeat_interleave(x, 2, 0, output_size=6),
                 lambda x: torch.repeat_interleave(x, 2, 0, output_size=6), [np.arange(3)])


# ----------------------------------------------------------------------------- unfold
@dtypes
@pytest.mark.parametrize("shape,dim,size,step", [((7,), 0, 3, 1), ((7,), 0, 3, 2), ((7,), -1, 2, 3), ((3, 6), 1, 4, 1),
                                                 ((5, 2, 3), 0, 2, 2), ((2, 5, 3), 1, 5, 1), ((6,), 0, 1, 1),
                                                 ((6,), 0, 0, 2), ((), 0, 1, 1), ((0, 4), 1, 2, 1)])
def test_unfold(shape, dim, size, step, dtype):
    """Overlapping windows (step < size) add their gradients up where they overlap."""
    check_random(lambda x: x.unfold(dim, size, step), lambda x: x.unfold(dim, size, step), [shape], dtype, second=True)


def test_unfold_is_a_view():
    x = fukaku.arange(8.0)
    windows = x.unfold(0, 3, 2)
    x.data[4] = 100.0
    assert windows[1, 2].item() == 100.0 and windows[2, 0].item() == 100.0
    assert windows._version is x._version


# ----------------------------------------------------------------------------- scatter
@dtypes
@pytest.mark.parametrize("shape,src_shape,dim,index", [
    ((3, 4), (3, 2), 1, [[0, 3], [2, 1], [1, 0]]),
    ((3, 4), (2, 4), 0, [[0, 1, 2, 0], [2, 2, 1, 1]]),
    ((3, 4), (3, 5), -1, [[3], [0], [-1]]),          # src larger than index; a negative index
    ((5,), (3,), 0, [4, 0, 2]),
    ((2, 3, 4), (2, 3, 1), 2, [[[0], [1], [3]], [[2], [2], [0]]]),
])
def test_scatter(shape, src_shape, dim, index, dtype):
    """Where no index repeats, the written places take src, their gradient goes to src, the rest to input."""
    index = np.array(index, dtype=np.int64)
    fi, ti = both(np.where(index < 0, index + shape[dim], index))
    fi = fukaku.tensor(index)
    if src_shape == index.shape:
        check_random(lambda x, s: fukaku.scatter(x, dim, fi, s), lambda x, s: torch.scatter(x, dim, ti, s),
                     [shape, src_shape], dtype, second=True)
    else:  # torch has no gradient for a src larger than index: compare the input's alone
        src = randn(src_shape, dtype=dtype, seed=5)
        check_random(lambda x: fukaku.scatter(x, dim, fi, fukaku.tensor(src)),
                     lambda x: torch.scatter(x, dim, ti, torch.from_numpy(src)), [shape], dtype, second=True)
    check_random(lambda x: fukaku.scatter(x, dim, fi, 2.5), lambda x: torch.scatter(x, dim, ti, 2.5), [shape], dtype,
                 second=True)
    check_random(lambda x: x.scatter(dim, fi, value=-1.0), lambda x: x.scatter(dim, ti, value=-1.0), [shape], dtype,
                 jvp=False)


@dtypes
@pytest.mark.parametrize("reduce,named", [("add", "sum"), ("multiply", "prod")])
def test_scatter_with_reduce(reduce, named, dtype):
    """``reduce=`` combines the values (repeated indices too); PyTorch gives no gradient for it, so fukaku's is
    compared with that of the scatter_reduce it runs as."""
    fi, ti = both(np.array([[0, 0, 3], [2, 1, 2]]))
    forward_only(lambda x, s: fukaku.scatter(x, 1, fi, s, reduce=reduce),
                 lambda x, s: torch.scatter(x, 1, ti, s, reduce=reduce), [randn(2, 4), randn(2, 3, seed=1)], dtype)
    forward_only(lambda x: fukaku.scatter(x, 1, fi, 1.5, reduce=reduce),
                 lambda x: torch.scatter(x, 1, ti, 1.5, reduce=reduce), [randn(2, 4)], dtype)
    check_random(lambda x, s: fukaku.scatter(x, 1, fi, s, reduce=reduce),
                 lambda x, s: torch.scatter_reduce(x, 1, ti, s, named), [(2, 4), (2, 3)], dtype, second=True,
                 jvp=reduce == "add")  # torch's forward mode of a product scatter is zero: see test_scatter_reduce


def _gradcheck(f, *arrays):
    """fukaku's reverse- and forward-mode Jacobians against central differences (float64)."""
    assert fukaku.autograd.gradcheck(f, tuple(fukaku.tensor(a, dtype=fukaku.float64, requires_grad=True) for a in arrays))


# ----------------------------------------------------------------------------- scatter_reduce
SCATTER_REDUCE = [
    ((3, 4), 1, [[0, 0, 3], [2, 1, 2], [1, 1, 1]]),   # repeats: several src elements per place
    ((4, 2), 0, [[0, 1], [0, 0], [3, 1]]),
    ((5,), -1, [4, 0, 4, 4, 2, 0]),
    ((2, 3, 2), 1, [[[0, 2], [0, 2]], [[1, 1], [2, 0]]]),
]


@dtypes
@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("shape,dim,index", SCATTER_REDUCE, ids=[f"r{i}" for i in range(len(SCATTER_REDUCE))])
def test_scatter_reduce(shape, dim, index, reduce, include_self, dtype):
    index = np.array(index, dtype=np.int64)
    fi, ti = both(index)
    # torch's forward mode gives a product scatter a zero tangent (wrong): fukaku's is checked with differences
    check_random(lambda x, s: fukaku.scatter_reduce(x, dim, fi, s, reduce, include_self=include_self),
                 lambda x, s: torch.scatter_reduce(x, dim, ti, s, reduce, include_self=include_self),
                 [shape, index.shape], dtype, second=True, jvp=reduce != "prod")
    if reduce == "prod" and dtype == np.float64:
        _gradcheck(lambda x, s: fukaku.scatter_reduce(x, dim, fi, s, reduce, include_self=include_self),
                   randn(shape, seed=1), randn(index.shape, seed=2))
    check_random(lambda x, s: x.scatter_reduce(dim, fi, s, reduce=reduce, include_self=include_self),
                 lambda x, s: x.scatter_reduce(dim, ti, s, reduce=reduce, include_self=include_self),
                 [shape, index.shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_prod_with_zeros(include_self, dtype):
    """A zero factor: the others get zero gradient, the zero gets the product of the others (no division by 0)."""
    fi, ti = both(np.array([0, 0, 1, 1, 2, 2, 2]))
    x = np.array([0.0, 1.5, -2.0, 0.7])
    src = np.array([0.0, 2.0, 1.2, -0.5, 0.0, 3.0, 0.8])
    check(lambda x, s: fukaku.scatter_reduce(x, 0, fi, s, "prod", include_self=include_self),
          lambda x, s: torch.scatter_reduce(x, 0, ti, s, "prod", include_self=include_self), [x, src], dtype, second=True,
          jvp=False)
    if dtype == np.float64:
        _gradcheck(lambda x, s: fukaku.scatter_reduce(x, 0, fi, s, "prod", include_self=include_self), x, src)


@dtypes
@pytest.mark.parametrize("reduce", ["amax", "amin"])
def test_scatter_reduce_ties_share_the_gradient(reduce, dtype):
    fi, ti = both(np.array([0, 0, 0, 2, 2]))
    check(lambda x, s: fukaku.scatter_reduce(x, 0, fi, s, reduce), lambda x, s: torch.scatter_reduce(x, 0, ti, s, reduce),
          [np.array([1.0, 5.0, 2.0]), np.array([1.0, 0.5, 1.0, 2.0, -1.0])], dtype, second=True)


def test_scatter_reduce_integers():
    index = np.array([0, 0, 2, 2, 2])
    for reduce in ["sum", "prod", "mean", "amax", "amin"]:
        for include_self in (True, False):
            forward_only(lambda x, i, s: fukaku.scatter_reduce(x, 0, i, s, reduce, include_self=include_self),
                         lambda x, i, s: torch.scatter_reduce(x, 0, i, s, reduce, include_self=include_self),
                         [np.array([7, -3, 4, 1]), index, np.array([2, 5, -4, 3, 6])])


# ----------------------------------------------------------------------------- index_add, index_copy, index_fill
@dtypes
@pytest.mark.parametrize("shape,dim,index,alpha", [((4, 3), 0, [0, 2, 0], 1), ((4, 3), 1, [2, 2, 0, 1], 2.5),
                                                   ((2, 3, 4), -1, [3], -1), ((5,), 0, [4, 4, 4], 1), ((4, 3), 0, [], 1),
                                                   ((), 0, [0], 3)])
def test_index_add(shape, dim, index, alpha, dtype):
    index = np.array(index, dtype=np.int64)
    fi, ti = both(index)
    src = list(shape)
    if shape:
        src[dim] = index.size
    check_random(lambda x, s: fukaku.index_add(x, dim, fi, s, alpha=alpha),
                 lambda x, s: torch.index_add(x, dim, ti, s, alpha=alpha), [shape, tuple(src)], dtype, second=True)
    check_random(lambda x, s: x.index_add(dim, fi, s), lambda x, s: x.index_add(dim, ti, s), [shape, tuple(src)], dtype,
                 jvp=False)


@dtypes
@pytest.mark.parametrize("shape,dim,index", [((4, 3), 0, [3, 0]), ((4, 3), 1, [1]), ((2, 3, 4), -1, [3, 0, 2]),
                                             ((5,), 0, [4, 1, 0, 2]), ((4, 3), 0, [])])
def test_index_copy(shape, dim, index, dtype):
    index = np.array(index, dtype=np.int64)
    fi, ti = both(index)
    src = list(shape)
    src[dim] = index.size
    check_random(lambda x, s: fukaku.index_copy(x, dim, fi, s), lambda x, s: torch.index_copy(x, dim, ti, s),
                 [shape, tuple(src)], dtype, second=True)
    check_random(lambda x, s: x.index_copy(dim, fi, s), lambda x, s: x.index_copy(dim, ti, s), [shape, tuple(src)],
                 dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,dim,index", [((4, 3), 0, [3, 0, 3]), ((4, 3), 1, [1, -1]), ((2, 3, 4), -2, [2]),
                                             ((5,), 0, [])])
def test_index_fill(shape, dim, index, dtype):
    """The value is a number, or a 0-d tensor whose gradient is the sum over the filled places (each once).
    Negative indices count from the end (torch's backward rejects them: it gets them wrapped)."""
    index = np.array(index, dtype=np.int64)
    fi, ti = fukaku.tensor(index), torch.from_numpy(np.where(index < 0, index + shape[dim], index))
    check_random(lambda x: fukaku.index_fill(x, dim, fi, -2.0), lambda x: torch.index_fill(x, dim, ti, -2.0), [shape],
                 dtype, second=True)
    check_random(lambda x, v: fukaku.index_fill(x, dim, fi, v), lambda x, v: torch.index_fill(x, dim, ti, v),
                 [shape, ()], dtype, second=True)
    check_random(lambda x: x.index_fill(dim, fi, 3), lambda x: x.index_fill(dim, ti, 3), [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- index_put, put
@dtypes
@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("indices,values_shape", [(([0, 2],), (2, 3)), (([0, 2],), (3,)), (([0, 0, 3],), (3, 3)),
                                                  (([1, 3], [2, 0]), (2,)), (([1, 3], [2, 0]), ()),
                                                  (([[0], [3]], [1, 2]), (2, 2)), (([True, False, True, False],), (1, 3))])
def test_index_put(indices, values_shape, accumulate, dtype):
    """Values broadcast to the indexed places; with ``accumulate`` repeated indices add up (without it PyTorch
    does not say which of repeated writes wins, so the cases here repeat none)."""
    if not accumulate and indices == ([0, 0, 3],):
        return
    f_idx = tuple(fukaku.tensor(np.array(i)) for i in indices)
    t_idx = tuple(torch.from_numpy(np.array(i)) for i in indices)
    check_random(lambda x, v: fukaku.index_put(x, f_idx, v, accumulate),
                 lambda x, v: torch.index_put(x, t_idx, v, accumulate), [(4, 3), values_shape], dtype, second=True)
    check_random(lambda x, v: x.index_put(f_idx, v, accumulate=accumulate),
                 lambda x, v: x.index_put(t_idx, v, accumulate=accumulate), [(4, 3), values_shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("accumulate", [False, True])
def test_put(accumulate, dtype):
    index = np.array([[5, 0], [-1, 2]]) if not accumulate else np.array([[5, 0], [5, -1]])
    fi, ti = both(index)
    check_random(lambda x, s: fukaku.put(x, fi, s, accumulate), lambda x, s: torch.put(x, ti, s, accumulate),
                 [(2, 3), (2, 2)], dtype, second=True)
    check_random(lambda x, s: x.put(fi, s, accumulate=accumulate), lambda x, s: x.put(ti, s, accumulate=accumulate),
                 [(2, 3), (4,)], dtype, jvp=False)


# ----------------------------------------------------------------------------- masked_fill (broadcast), masked_scatter
@dtypes
def test_masked_fill_broadcasts_input(dtype):
    """Out of place, the mask may be larger than the input: both broadcast, as in PyTorch."""
    mask = randn((2, 3, 4), seed=7) > 0
    check_random(lambda x: fukaku.masked_fill(x, fukaku.tensor(mask), 0.5),
                 lambda x: torch.masked_fill(x, torch.from_numpy(mask), 0.5), [(3, 1)], dtype, second=True)
    check_random(lambda x, v: fukaku.masked_fill(x, fukaku.tensor(mask), v),
                 lambda x, v: torch.masked_fill(x, torch.from_numpy(mask), v), [(4,), ()], dtype, second=True)


def test_masked_fill_integer_input_keeps_its_dtype():
    mask = np.array([True, False, True])
    forward_only(lambda x: fukaku.masked_fill(x, fukaku.tensor(mask), fukaku.tensor(2.7)),
                 lambda x: torch.masked_fill(x, torch.from_numpy(mask), torch.tensor(2.7)), [np.arange(3)])


@dtypes
@pytest.mark.parametrize("shape,mask_shape,source_shape", [((3, 4), (3, 4), (12,)), ((3, 4), (4,), (4, 5)),
                                                           ((4,), (3, 4), (3, 4)), ((3, 4), (3, 1), (20,)),
                                                           ((2, 3), (2, 3), (0,))])
def test_masked_scatter(shape, mask_shape, source_shape, dtype):
    """The True places take source's first elements in order; the unused rest of source gets no gradient."""
    mask = randn(mask_shape, seed=8) > 0.3 if source_shape != (0,) else np.zeros(mask_shape, bool)
    fm, tm = both(mask)
    check_random(lambda x, s: fukaku.masked_scatter(x, fm, s), lambda x, s: torch.masked_scatter(x, tm, s),
                 [shape, source_shape], dtype, second=True)
    check_random(lambda x, s: x.masked_scatter(fm, s), lambda x, s: x.masked_scatter(tm, s), [shape, source_shape],
                 dtype, jvp=False)


# ----------------------------------------------------------------------------- out of place: the input is untouched
def test_writes_leave_their_input_untouched():
    x = fukaku.arange(12.0).reshape(3, 4)
    before = x.numpy().copy()
    i2, i1 = fukaku.tensor([[0, 1], [2, 3], [1, 1]]), fukaku.tensor([0, 2])
    mask = fukaku.tensor([True, False, True, False])
    results = [fukaku.scatter(x, 1, i2, fukaku.ones(3, 2)), fukaku.scatter(x, 1, i2, 7.0, reduce="multiply"),
               fukaku.scatter_reduce(x, 1, i2, fukaku.ones(3, 2), "amax", include_self=False),
               fukaku.scatter_add(x, 1, i2, fukaku.ones(3, 2)), fukaku.index_add(x, 0, i1, fukaku.ones(2, 4)),
               fukaku.index_copy(x, 0, i1, fukaku.ones(2, 4)), fukaku.index_fill(x, 1, i1, 0.0),
               fukaku.index_put(x, (i1,), fukaku.ones(4)), fukaku.index_put(x, (i1,), fukaku.ones(4), True),
               fukaku.put(x, i1, fukaku.ones(2)), fukaku.masked_fill(x, mask, 0.0),
               fukaku.masked_scatter(x, mask, fukaku.zeros(6))]
    np.testing.assert_array_equal(x.numpy(), before)
    assert all(r.shape == (3, 4) and not np.shares_memory(r.numpy(), x.numpy()) for r in results)


# ----------------------------------------------------------------------------- errors
def test_index_errors():
    x = fukaku.zeros(3, 4)
    i = fukaku.tensor([[0, 1]])
    for call, kind, words in [
        (lambda: fukaku.take(x, fukaku.tensor([12])), IndexError, "out of bounds"),
        (lambda: fukaku.take(x, fukaku.tensor([1], dtype=fukaku.int32)), TypeError, "long"),
        (lambda: fukaku.take_along_dim(x, fukaku.tensor([0, 1]), 1), fukaku.ShapeError, "same number of dimensions"),
        (lambda: fukaku.take_along_dim(x, fukaku.tensor([[0, 1], [0, 1]]), 1), fukaku.ShapeError, "broadcast"),
        (lambda: fukaku.repeat_interleave(x, fukaku.tensor([1, 2]), 0), fukaku.ShapeError, "same size"),
        (lambda: fukaku.repeat_interleave(x, -1), ValueError, "negative"),
        (lambda: fukaku.repeat_interleave(x, fukaku.tensor([1.0, 2.0, 3.0]), 0), TypeError, "integer"),
        (lambda: fukaku.repeat_interleave(x, 2, 0, output_size=5), RuntimeError, "output_size"),
        (lambda: x.unfold(1, 5, 1), ValueError, "maximum size"),
        (lambda: x.unfold(1, 2, 0), ValueError, "step"),
        (lambda: fukaku.scatter(x, 1, i, 1.0, reduce="max"), ValueError, "add or multiply"),
        (lambda: fukaku.scatter(x, 1, i, fukaku.zeros(1, 2, dtype=fukaku.float64)), TypeError, "dtype"),
        (lambda: fukaku.scatter(x, 1, i, fukaku.zeros(1, 1)), fukaku.ShapeError, "larger than src"),
        (lambda: fukaku.scatter(x, 1, fukaku.tensor([[0, 4]]), 1.0), IndexError, "out of range"),
        (lambda: fukaku.scatter_reduce(x, 1, i, fukaku.zeros(1, 2), "max"), ValueError, "amax"),
        (lambda: fukaku.index_add(x, 0, fukaku.tensor([0, 3]), fukaku.ones(2, 4)), IndexError, "out of bounds"),
        (lambda: fukaku.index_add(x, 0, fukaku.tensor([0, -1]), fukaku.ones(2, 4)), IndexError, "out of bounds"),
        (lambda: fukaku.index_add(x, 0, fukaku.tensor([0, 2, 0]), fukaku.ones(2, 4)), fukaku.ShapeError, "len"),
        (lambda: fukaku.index_add(x, 0, fukaku.tensor([0]), fukaku.ones(1, 4, dtype=fukaku.float64)), TypeError,
         "scalar type"),
        (lambda: fukaku.index_copy(x, 1, fukaku.tensor([[0]]), fukaku.ones(3, 1)), IndexError, "vector"),
        (lambda: fukaku.index_fill(x, 1, fukaku.tensor([0]), fukaku.tensor([1.0])), RuntimeError, "0-dimensional"),
        (lambda: fukaku.masked_fill(x, fukaku.zeros(4, dtype=fukaku.bool), fukaku.ones(1)), RuntimeError,
         "0-dimensional"),
        (lambda: fukaku.masked_scatter(x, fukaku.ones(4, dtype=fukaku.bool), fukaku.ones(5)), RuntimeError,
         "Number of elements"),
        (lambda: fukaku.masked_scatter(x, fukaku.ones(4, dtype=fukaku.bool), fukaku.ones(12, dtype=fukaku.float64)),
         TypeError, "same dtypes"),
        (lambda: fukaku.masked_select(x, fukaku.ones(4)), TypeError, "bool"),
        (lambda: fukaku.index_put(x, (fukaku.tensor([0]),), fukaku.ones(4, dtype=fukaku.float64)), TypeError,
         "dtypes match"),
        (lambda: fukaku.index_put(x, (slice(None),), fukaku.ones(4)), TypeError, "tuple of tensors"),
        (lambda: fukaku.index_put(x, (fukaku.tensor([5]),), fukaku.ones(4)), IndexError, "invalid"),
        (lambda: fukaku.put(x, fukaku.tensor([0, 1]), fukaku.ones(3)), fukaku.ShapeError, "number of elements"),
    ]:
        with pytest.raises(kind, match=words):
            call()
    shape_error_raised(lambda: fukaku.masked_select(x, fukaku.zeros(2, dtype=fukaku.bool)), "masked_select", (3, 4), (2,))
    shape_error_raised(lambda: fukaku.index_put(x, (fukaku.tensor([0, 1]),), fukaku.ones(3)), "index_put", (2, 4), (3,))
