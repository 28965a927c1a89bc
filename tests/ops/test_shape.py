"""Conformance of the shape and indexing ops (fukaku/ops/shape.py, fukaku/ops/index.py) with PyTorch:
forward values, reverse mode, forward mode and second order (vjp of vjp), float32 and float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku
import fukaku.nn.functional as FF
from conformance import FLOATS, check_random, randn, shape_error_raised

dtypes = pytest.mark.parametrize("dtype", FLOATS)


# ----------------------------------------------------------------------------- reshape / view
RESHAPES = [
    ((2, 3, 4), (6, 4)),
    ((2, 3, 4), (-1,)),
    ((2, 3, 4), (4, -1, 2)),
    ((2, 3, 4), (2, 3, 4)),
    ((24,), (2, 1, 3, 1, 4)),
    ((), (1,)),
    ((1,), ()),
    ((0, 3), (3, 0)),
    ((0, 3), (-1, 3)),
    ((5, 1), (1, 5)),
]


@dtypes
@pytest.mark.parametrize("src,dst", RESHAPES)
def test_reshape(src, dst, dtype):
    check_random(lambda x: fukaku.reshape(x, dst), lambda x: torch.reshape(x, dst), [src], dtype, second=True)
    check_random(lambda x: x.reshape(dst), lambda x: x.reshape(dst), [src], dtype, jvp=False)
    if dst:
        check_random(lambda x: x.reshape(*dst), lambda x: x.reshape(*dst), [src], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("src,dst", RESHAPES)
def test_view(src, dst, dtype):
    check_random(lambda x: x.view(dst), lambda x: x.view(dst), [src], dtype)
    if dst:
        check_random(lambda x: fukaku.view(x, *dst), lambda x: x.view(*dst), [src], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,start,end", [((2, 3, 4), 0, -1), ((2, 3, 4), 1, -1), ((2, 3, 4, 5), 1, 2),
                                             ((2, 3, 4), -2, -1), ((2, 3, 4), 2, 2), ((), 0, -1), ((3,), 0, 0),
                                             ((0, 3, 2), 1, 2)])
def test_flatten(shape, start, end, dtype):
    check_random(lambda x: fukaku.flatten(x, start, end), lambda x: torch.flatten(x, start, end), [shape], dtype)
    check_random(lambda x: x.flatten(start, end), lambda x: x.flatten(start, end), [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- permutations
@dtypes
@pytest.mark.parametrize("shape,dims", [((2, 3, 4), (2, 0, 1)), ((2, 3, 4), (-1, 0, -2)), ((2, 3), (1, 0)),
                                        ((2, 3, 4, 5), (0, 2, 3, 1)), ((2, 3, 4), (0, 1, 2)), ((0, 3), (1, 0))])
def test_permute(shape, dims, dtype):
    check_random(lambda x: fukaku.permute(x, dims), lambda x: torch.permute(x, dims), [shape], dtype, second=True)
    check_random(lambda x: x.permute(*dims), lambda x: x.permute(*dims), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,d0,d1", [((2, 3, 4), 0, 2), ((2, 3, 4), -1, 0), ((2, 3), 0, 1), ((2, 3, 4), 1, 1),
                                         ((3,), 0, 0), ((0, 2, 3), -1, -3)])
def test_transpose(shape, d0, d1, dtype):
    check_random(lambda x: fukaku.transpose(x, d0, d1), lambda x: torch.transpose(x, d0, d1), [shape], dtype)
    check_random(lambda x: x.transpose(d0, d1), lambda x: x.transpose(d0, d1), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape", [(2, 3), (4,), (1, 5)])
def test_T(shape, dtype):
    check_random(lambda x: x.T, lambda x: x.T if x.ndim == 2 else x.permute(*reversed(range(x.ndim))), [shape], dtype,
        second=True)


@dtypes
def test_T_nd(dtype):
    check_random(lambda x: x.T, lambda x: x.permute(2, 1, 0), [(2, 3, 4)], dtype)


@dtypes
@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (2, 1, 3, 5), (0, 2, 3)])
def test_mT(shape, dtype):
    check_random(lambda x: x.mT, lambda x: x.mT, [shape], dtype, second=True)


# ----------------------------------------------------------------------------- broadcasting
@dtypes
@pytest.mark.parametrize("shape,sizes", [((3, 1), (3, 4)), ((1,), (2, 5)), ((3, 1), (2, -1, 4)), ((), (2, 3)),
                                         ((1, 3, 1), (2, 3, 4)), ((2, 3), (2, 3)), ((1, 3), (0, 3)),
                                         ((3, 1), (-1, 0))])
def test_expand(shape, sizes, dtype):
    check_random(lambda x: x.expand(*sizes), lambda x: x.expand(*sizes), [shape], dtype, second=True)
    check_random(lambda x: fukaku.expand(x, sizes), lambda x: x.expand(sizes), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,target", [((3, 1), (3, 4)), ((1,), (2, 5)), ((), (2, 3)), ((1, 3, 1), (2, 2, 3, 4)),
                                          ((1, 3), (0, 3)), ((3, 1), (-1, 4)), ((3, 1), (2, -1, -1))])
def test_broadcast_to(shape, target, dtype):
    check_random(lambda x: fukaku.broadcast_to(x, target), lambda x: torch.broadcast_to(x, target), [shape], dtype, second=True)


@dtypes
def test_expand_as(dtype):
    other = torch.zeros(2, 3, 4)
    check_random(lambda x: x.expand_as(fukaku.zeros(2, 3, 4)), lambda x: x.expand_as(other), [(3, 1)], dtype)


# ----------------------------------------------------------------------------- squeeze / unsqueeze
@dtypes
@pytest.mark.parametrize("shape,dim", [((1, 3, 1, 2), None), ((1, 3, 1, 2), 0), ((1, 3, 1, 2), 2), ((1, 3, 1, 2), -2),
                                       ((1, 3, 1, 2), 1), ((1, 3, 1, 2), (0, 2)), ((1, 3, 1, 2), (0, -1)),
                                       ((1,), None), ((1,), 0), ((), None), ((), 0), ((0, 1), None), ((0, 1), 0)])
def test_squeeze(shape, dim, dtype):
    if dim is None:
        check_random(fukaku.squeeze, torch.squeeze, [shape], dtype, second=True)
        check_random(lambda x: x.squeeze(), lambda x: x.squeeze(), [shape], dtype, jvp=False)
    else:
        check_random(lambda x: fukaku.squeeze(x, dim), lambda x: torch.squeeze(x, dim), [shape], dtype)
        check_random(lambda x: x.squeeze(dim), lambda x: x.squeeze(dim), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,dim", [((2, 3), 0), ((2, 3), 1), ((2, 3), 2), ((2, 3), -1), ((2, 3), -3),
                                       ((), 0), ((), -1), ((0, 3), 1)])
def test_unsqueeze(shape, dim, dtype):
    check_random(lambda x: fukaku.unsqueeze(x, dim), lambda x: torch.unsqueeze(x, dim), [shape], dtype, second=True)
    check_random(lambda x: x.unsqueeze(dim), lambda x: x.unsqueeze(dim), [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- cat / stack / split / chunk
@dtypes
@pytest.mark.parametrize("shapes,dim", [([(2, 3), (4, 3)], 0), ([(2, 3), (2, 1), (2, 5)], 1), ([(2, 3), (2, 4)], -1),
                                        ([(2, 3, 4), (2, 3, 4)], -2), ([(0, 3), (2, 3)], 0), ([(2, 3), (0, 3)], 0),
                                        ([(2, 0), (2, 3)], 1), ([(5,)], 0), ([(1,), (3,)], -1)])
def test_cat(shapes, dim, dtype):
    n = len(shapes)
    check_random(lambda *xs: fukaku.cat(list(xs), dim), lambda *xs: torch.cat(list(xs), dim), shapes, dtype, second=True)
    check_random(lambda *xs: fukaku.cat(xs, dim=dim), lambda *xs: torch.cat(xs, dim=dim), shapes, dtype, jvp=False)
    assert n == len(shapes)


@dtypes
def test_cat_legacy_empty(dtype):
    # torch skips 1-d tensors of shape (0,) when concatenating n-d tensors
    check_random(lambda a, b, c: fukaku.cat([a, b, c], 1), lambda a, b, c: torch.cat([a, b, c], 1), [(2, 3), (0,), (2, 2)], dtype)


@dtypes
def test_cat_partial_requires_grad(dtype):
    a, b = randn((2, 3), dtype=dtype), randn((1, 3), dtype=dtype, seed=1)
    check_random(lambda x: fukaku.cat([x, fukaku.tensor(b)]), lambda x: torch.cat([x, torch.from_numpy(b)]), [a.shape], dtype)
    check_random(lambda x: fukaku.cat([fukaku.tensor(b), x]), lambda x: torch.cat([torch.from_numpy(b), x]), [a.shape], dtype)


@dtypes
def test_cat_jvp_one_tangent(dtype):
    """Forward mode when only one of the inputs carries a tangent."""
    b = randn((1, 3), dtype=dtype, seed=3)
    check_random(lambda x: fukaku.cat([fukaku.tensor(b), x, fukaku.tensor(b)], 0),
        lambda x: torch.cat([torch.from_numpy(b), x, torch.from_numpy(b)], 0), [(2, 3)], dtype, second=True)


@dtypes
@pytest.mark.parametrize("shape,n,dim", [((2, 3), 3, 0), ((2, 3), 2, 1), ((2, 3), 2, 2), ((2, 3), 2, -1),
                                         ((2, 3), 2, -3), ((), 3, 0), ((0, 3), 2, 1)])
def test_stack(shape, n, dim, dtype):
    check_random(lambda *xs: fukaku.stack(xs, dim), lambda *xs: torch.stack(xs, dim), [shape] * n, dtype, second=True)


@dtypes
@pytest.mark.parametrize("shape,size,dim", [((7, 3), 2, 0), ((7, 3), 3, 0), ((2, 6), 2, 1), ((2, 6), 4, -1),
                                            ((5,), 10, 0), ((4, 3), [1, 3], 0), ((4, 6), [2, 0, 4], -1),
                                            ((4, 3), (4,), 0), ((0, 3), 2, 1), ((0, 3), 2, 0)])
def test_split(shape, size, dim, dtype):
    check_random(lambda x: fukaku.split(x, size, dim), lambda x: torch.split(x, size, dim), [shape], dtype, second=True)
    check_random(lambda x: x.split(size, dim), lambda x: x.split(size, dim), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,chunks,dim", [((6, 2), 3, 0), ((6, 2), 4, 0), ((5, 2), 3, 0), ((2, 7), 3, -1),
                                              ((2, 3), 5, 1), ((4,), 1, 0), ((9,), 4, 0), ((0, 2), 2, 0)])
def test_chunk(shape, chunks, dim, dtype):
    check_random(lambda x: fukaku.chunk(x, chunks, dim), lambda x: torch.chunk(x, chunks, dim), [shape], dtype, second=True)
    check_random(lambda x: x.chunk(chunks, dim), lambda x: x.chunk(chunks, dim), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,dim", [((3, 2), 0), ((3, 2), -1), ((3, 0), 0)])
def test_unbind(shape, dim, dtype):
    check_random(lambda x: fukaku.unbind(x, dim), lambda x: torch.unbind(x, dim), [shape], dtype)


@dtypes
def test_split_outputs_partially_used(dtype):
    """Only some pieces reach the loss: the others contribute zero gradient."""
    check_random(lambda x: fukaku.split(x, 2, 0)[1] * 2, lambda x: torch.split(x, 2, 0)[1] * 2, [(5, 3)], dtype)


# ----------------------------------------------------------------------------- repeat / flip / roll / pad
@dtypes
@pytest.mark.parametrize("shape,sizes", [((2, 3), (2, 1)), ((2, 3), (1, 3)), ((2, 3), (2, 2, 2)), ((3,), (4,)),
                                         ((3,), (2, 3)), ((), (3, 2)), ((2, 1), (1, 1)), ((2, 3), (0, 2)),
                                         ((0, 3), (2, 1))])
def test_repeat(shape, sizes, dtype):
    check_random(lambda x: x.repeat(*sizes), lambda x: x.repeat(*sizes), [shape], dtype, second=True)
    check_random(lambda x: fukaku.repeat(x, sizes), lambda x: x.repeat(sizes), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,dims", [((2, 3, 4), (0,)), ((2, 3, 4), (1, 2)), ((2, 3, 4), (-1,)), ((2, 3, 4), 1),
                                        ((2, 3), (0, 1)), ((5,), 0), ((0, 3), (0, 1))])
def test_flip(shape, dims, dtype):
    check_random(lambda x: fukaku.flip(x, dims), lambda x: torch.flip(x, dims if isinstance(dims, tuple) else (dims,)),
        [shape], dtype, second=True)
    check_random(lambda x: x.flip(dims), lambda x: x.flip(dims), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,shifts,dims", [((2, 3, 4), 1, None), ((2, 3, 4), -5, None), ((2, 3, 4), 2, 1),
                                               ((2, 3, 4), (1, -2), (0, 2)), ((2, 3, 4), 7, -1), ((5,), 3, 0),
                                               ((2, 3), (1, 1), (1, 1)), ((0, 3), 1, 1), ((0, 3), 1, None)])
def test_roll(shape, shifts, dims, dtype):
    check_random(lambda x: fukaku.roll(x, shifts, dims), lambda x: torch.roll(x, shifts, dims), [shape], dtype, second=True)
    check_random(lambda x: x.roll(shifts, dims), lambda x: x.roll(shifts, dims), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,pad,value", [((2, 3), (1, 2), 0.0), ((2, 3), (1, 0, 0, 2), 0.0), ((2, 3, 4), (1, 1, 2, 0, 0, 3), 1.5),
                                             ((2, 3, 4), (0, 0, 1, 1), -2.0), ((3,), (2, 1), 0.5), ((0, 3), (1, 1, 1, 0), 0.0),
                                             ((2, 3), (0, 0), 0.0), ((3, 4), (-1, 2, 0, -2), 0.0),
                                             ((3, 4), (-1, -1), 1.0), ((2, 3, 4), (1, -2, -1, 1), 0.5)])
def test_pad(shape, pad, value, dtype):
    check_random(lambda x: FF.pad(x, pad, value=value), lambda x: torch.nn.functional.pad(x, pad, value=value),
        [shape], dtype, second=True)
    check_random(lambda x: FF.pad(x, list(pad), "constant", value), lambda x: torch.nn.functional.pad(x, pad, "constant", value),
        [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- tril / triu / diag
@dtypes
@pytest.mark.parametrize("op", ["tril", "triu"])
@pytest.mark.parametrize("shape,k", [((4, 4), 0), ((4, 4), 1), ((4, 4), -1), ((3, 5), 2), ((5, 3), -2), ((2, 3, 4), 0),
                                     ((2, 3, 4), -1), ((4, 4), 10), ((4, 4), -10), ((0, 3), 0)])
def test_tril_triu(op, shape, k, dtype):
    check_random(lambda x: getattr(fukaku, op)(x, k), lambda x: getattr(torch, op)(x, k), [shape], dtype, second=True)
    check_random(lambda x: getattr(x, op)(k), lambda x: getattr(x, op)(k), [shape], dtype, jvp=False)
    check_random(lambda x: getattr(x, op)(diagonal=k), lambda x: getattr(x, op)(diagonal=k), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,k", [((4,), 0), ((4,), 1), ((4,), -2), ((1,), 0), ((0,), 0), ((0,), 2),
                                     ((3, 3), 0), ((3, 3), 1), ((3, 3), -2), ((3, 5), 0), ((3, 5), 2), ((3, 5), -1),
                                     ((5, 3), 1), ((5, 3), -3), ((3, 3), 5), ((3, 3), -5), ((0, 3), 0)])
def test_diag(shape, k, dtype):
    check_random(lambda x: fukaku.diag(x, k), lambda x: torch.diag(x, k), [shape], dtype, second=True)
    check_random(lambda x: x.diag(k), lambda x: x.diag(k), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,k,d1,d2", [((3, 3), 0, 0, 1), ((3, 5), 1, 0, 1), ((3, 5), -1, 1, 0),
                                           ((2, 5, 3), -1, -2, -1), ((2, 3, 4), 2, -2, -1), ((2, 3, 4), 0, 0, 1),
                                           ((2, 3, 4), 1, 2, 0), ((2, 3, 4, 5), -1, 1, 3), ((2, 3, 4), 9, 0, 1)])
def test_diagonal(shape, k, d1, d2, dtype):
    check_random(lambda x: fukaku.diagonal(x, k, d1, d2), lambda x: torch.diagonal(x, k, d1, d2), [shape], dtype, second=True)
    check_random(lambda x: x.diagonal(k, dim1=d1, dim2=d2), lambda x: x.diagonal(k, dim1=d1, dim2=d2), [shape], dtype, jvp=False)
    if (d1, d2) == (0, 1):
        check_random(lambda x: x.diagonal(k), lambda x: x.diagonal(k), [shape], dtype, jvp=False)


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


# ----------------------------------------------------------------------------- composition (views of views)
@dtypes
def test_chain_of_views(dtype):
    def f(lib):
        def fn(x):
            y = x.reshape(2, 3, 4).permute(2, 0, 1)[1:, :, ::2]
            return y.flip(0).unsqueeze(1).expand(3, 2, 2, 2).reshape(-1, 4).T
        return fn
    check_random(f(fukaku), f(torch), [(24,)], dtype, second=True)


# ----------------------------------------------------------------------------- output dtypes of integer inputs
def test_integer_inputs_keep_dtype():
    a = np.arange(12).reshape(3, 4)
    for fk_fn, th_fn in [
        (lambda x: x.reshape(4, 3), lambda x: x.reshape(4, 3)), (lambda x: x.T, lambda x: x.T),
        (lambda x: fukaku.cat([x, x], 1), lambda x: torch.cat([x, x], 1)), (lambda x: x[[0, 0]], lambda x: x[[0, 0]]),
        (lambda x: fukaku.flip(x, 0), lambda x: torch.flip(x, (0,))), (lambda x: fukaku.tril(x), torch.tril),
        (lambda x: fukaku.diag(x, 1), lambda x: torch.diag(x, 1)), (lambda x: x.repeat(2, 1), lambda x: x.repeat(2, 1)),
        (lambda x: FF.pad(x, (1, 1)), lambda x: torch.nn.functional.pad(x, (1, 1))),
    ]:
        got, want = fk_fn(fukaku.tensor(a)), th_fn(torch.from_numpy(a))
        assert str(got.dtype) == str(want.dtype).replace("torch.", "")
        np.testing.assert_array_equal(got.data.numpy(), want.numpy())


def test_cat_promotes_dtypes():
    a, b = np.ones((2, 2), np.float32), np.ones((1, 2), np.float64)
    got = fukaku.cat([fukaku.tensor(a), fukaku.tensor(b)])
    want = torch.cat([torch.from_numpy(a), torch.from_numpy(b)])
    assert str(got.dtype) == str(want.dtype).replace("torch.", "")
    i = fukaku.cat([fukaku.tensor(np.ones((1, 2), np.int64)), fukaku.tensor(a)])
    assert i.dtype == np.float32
    x = fukaku.tensor(a, requires_grad=True)
    fukaku.cat([fukaku.tensor(b), x]).sum().backward()
    assert x.grad.dtype == np.float32


# ----------------------------------------------------------------------------- views share the version counter
def test_view_outputs_are_views():
    x = fukaku.arange(6.0)
    y = x.reshape(2, 3)
    x.data.numpy()[0] = 7.0
    assert y.data.numpy()[0, 0] == 7.0
    assert x[1:]._version is x._version


# ----------------------------------------------------------------------------- errors
def test_shape_errors():
    x = fukaku.zeros(2, 3)
    shape_error_raised(lambda: x.reshape(4, 2), "reshape", (2, 3), (4, 2))
    shape_error_raised(lambda: fukaku.reshape(x, (5, -1)), "reshape", (2, 3), (5, -1))
    shape_error_raised(lambda: x.view(7), "view", (2, 3), (7,))
    shape_error_raised(lambda: x.view(-1, -1), "view", (2, 3))
    shape_error_raised(lambda: fukaku.cat([x, fukaku.zeros(2, 4)], 0), "cat", (2, 3), (2, 4))
    shape_error_raised(lambda: fukaku.cat([x, fukaku.zeros(3)], 0), "cat", (2, 3), (3,))
    shape_error_raised(lambda: fukaku.stack([x, fukaku.zeros(3, 2)]), "stack", (2, 3), (3, 2))
    shape_error_raised(lambda: fukaku.broadcast_to(x, (2, 4)), "broadcast_to", (2, 3), (2, 4))
    shape_error_raised(lambda: fukaku.broadcast_to(x, (3,)), "broadcast_to", (2, 3), (3,))
    shape_error_raised(lambda: x.expand(4, 3), "expand", (2, 3), (4, 3))
    shape_error_raised(lambda: x.expand(3), "expand", (2, 3), (3,))
    shape_error_raised(lambda: fukaku.split(x, [1, 1], 1), "split", (2, 3))
    shape_error_raised(lambda: x.permute(1, 0, 2), "permute", (2, 3))
    shape_error_raised(lambda: fukaku.gather(x, 1, fukaku.zeros(2, dtype=fukaku.int64)), "gather", (2, 3), (2,))
    shape_error_raised(lambda: fukaku.scatter_add(x, 1, fukaku.zeros(2, 2, dtype=fukaku.int64), fukaku.zeros(2, 1)),
                       "scatter_add", (2, 2), (2, 1))
    shape_error_raised(lambda: fukaku.masked_fill(x, fukaku.zeros(4, 3, dtype=fukaku.bool), 0.0), "masked_fill",
                       (2, 3), (4, 3))
    shape_error_raised(lambda: fukaku.masked_fill(x, fukaku.zeros(3, 2, 3, dtype=fukaku.bool), 0.0), "masked_fill",
                       (2, 3), (3, 2, 3))


def test_other_errors():
    x = fukaku.zeros(2, 3)
    with pytest.raises(IndexError):
        fukaku.squeeze(x, 2)
    with pytest.raises(IndexError):
        fukaku.unsqueeze(x, 3)
    with pytest.raises(IndexError):
        fukaku.cat([x, x], 2)
    with pytest.raises(IndexError):
        x[2]
    with pytest.raises(IndexError):
        x[fukaku.tensor([0, 5])]
    with pytest.raises(IndexError):
        x[0, 0, 0]
    with pytest.raises(IndexError):
        fukaku.gather(x, 1, fukaku.tensor([[0, 3]]))
    with pytest.raises(ValueError):
        fukaku.cat([])
    with pytest.raises(ValueError):
        fukaku.chunk(x, 0)
    with pytest.raises(ValueError):
        FF.pad(x, (1,))
    with pytest.raises(ValueError):
        x.repeat(2)
    with pytest.raises(ValueError):
        fukaku.roll(x, (1, 2), 0)
    with pytest.raises(ValueError):
        fukaku.diag(fukaku.zeros(2, 2, 2))
    with pytest.raises(TypeError):
        fukaku.masked_fill(x, fukaku.zeros(2, 3), 1.0)
    with pytest.raises(IndexError):
        x[fukaku.tensor([0.0])]
    with pytest.raises(ValueError):
        fukaku.flatten(fukaku.zeros(2, 3, 4), 2, 1)
    with pytest.raises(TypeError):
        fukaku.index_select(x, 0, fukaku.tensor([True, False]))
    with pytest.raises(ValueError):
        fukaku.tril(fukaku.zeros(3))
    with pytest.raises(ValueError):
        fukaku.triu(fukaku.zeros(()))
    with pytest.raises(ValueError):
        fukaku.diagonal(x, 0, 1, -1)
    with pytest.raises(ValueError):
        fukaku.diagonal(fukaku.zeros(3))
    with pytest.raises(fukaku.ShapeError):
        FF.pad(x, (-2, -2))
    with pytest.raises(fukaku.ShapeError):
        fukaku.broadcast_to(x, (-1, 2, 3))
