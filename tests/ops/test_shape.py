"""Conformance of the shape and indexing ops (fukaku/ops/shape.py, fukaku/ops/index.py) with PyTorch:
forward values, reverse mode, forward mode and second order (vjp of vjp), float32 and float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku
import fukaku.nn.functional as FF
from conformance import FLOATS, check_random, randn, shape_error_raised, torch_dtype_to_numpy

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


@pytest.mark.parametrize("shape,sizes", [((3,), (2, 1)), ((1, 3), (4, 1)), ((2, 3), (2, 2)), ((3,), (1,))])
def test_repeat_returns_a_new_writable_tensor(shape, sizes):
    """As torch: writing into the result changes one element, never the input or another repeat."""
    x = fukaku.arange(float(np.prod(shape))).reshape(shape)
    t = torch.arange(float(np.prod(shape))).reshape(shape)
    y, ty = x.repeat(*sizes), t.repeat(*sizes)
    y[(0,) * y.ndim] = 5.0
    ty[(0,) * ty.ndim] = 5.0
    np.testing.assert_array_equal(y.numpy(), ty.numpy())
    np.testing.assert_array_equal(x.numpy(), t.numpy())


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


# ----------------------------------------------------------------------------- movedim / swapaxes / H / mH
@dtypes
@pytest.mark.parametrize("shape,src,dst", [((2, 3, 4), 0, -1), ((2, 3, 4), -1, 0), ((2, 3, 4), (0, 1), (2, 0)),
                                           ((2, 3, 4, 5), [3, 1], [0, 1]), ((2, 3), 1, 1), ((), 0, -1),
                                           ((0, 3, 2), (0,), (2,))])
def test_movedim(shape, src, dst, dtype):
    check_random(lambda x: fukaku.movedim(x, src, dst), lambda x: torch.movedim(x, src, dst), [shape], dtype, second=True)
    check_random(lambda x: x.moveaxis(src, dst), lambda x: x.moveaxis(src, dst), [shape], dtype, jvp=False)
    check_random(lambda x: fukaku.moveaxis(x, src, dst), lambda x: torch.moveaxis(x, src, dst), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("name", ["swapaxes", "swapdims"])
@pytest.mark.parametrize("shape,d0,d1", [((2, 3, 4), 0, 2), ((2, 3), -1, 0), ((3,), 0, 0)])
def test_swapaxes(name, shape, d0, d1, dtype):
    check_random(lambda x: getattr(fukaku, name)(x, d0, d1), lambda x: getattr(torch, name)(x, d0, d1), [shape], dtype,
                 second=True)
    check_random(lambda x: getattr(x, name)(d0, d1), lambda x: getattr(x, name)(d0, d1), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape", [(2, 3), (0, 4)])
def test_H(shape, dtype):
    check_random(lambda x: x.H, lambda x: x.H, [shape], dtype, second=True)


@dtypes
@pytest.mark.parametrize("shape", [(2, 3), (4, 2, 3), (2, 0, 3)])
def test_mH(shape, dtype):
    check_random(lambda x: x.mH, lambda x: x.mH, [shape], dtype, second=True)


# ----------------------------------------------------------------------------- narrow / select / ravel / unflatten
@dtypes
@pytest.mark.parametrize("shape,dim,start,length", [((5, 3), 0, 1, 3), ((5, 3), -1, -2, 2), ((5, 3), 1, 3, 0),
                                                    ((4,), 0, 0, 4), ((2, 5, 3), 1, 4, 1), ((4,), 0, 4, 0)])
def test_narrow(shape, dim, start, length, dtype):
    check_random(lambda x: fukaku.narrow(x, dim, start, length), lambda x: torch.narrow(x, dim, start, length), [shape],
                 dtype, second=True)
    check_random(lambda x: x.narrow(dim, fukaku.tensor(start), length), lambda x: x.narrow(dim, torch.tensor(start), length),
                 [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape,dim,index", [((5, 3), 0, 2), ((5, 3), -1, -1), ((4,), 0, 3), ((2, 5, 3), 1, -5),
                                             ((0, 3), 1, 2)])
def test_select(shape, dim, index, dtype):
    check_random(lambda x: fukaku.select(x, dim, index), lambda x: torch.select(x, dim, index), [shape], dtype,
                 second=True)
    check_random(lambda x: x.select(dim, index), lambda x: x.select(dim, index), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape", [(2, 3, 4), (), (0, 3)])
def test_ravel(shape, dtype):
    check_random(fukaku.ravel, torch.ravel, [shape], dtype, second=True)
    check_random(lambda x: x.T.ravel(), lambda x: x.T.ravel(), [shape], dtype, jvp=False)  # not contiguous


@dtypes
@pytest.mark.parametrize("shape,dim,sizes", [((2, 6), 1, (2, 3)), ((2, 6), -1, (-1, 2)), ((6,), 0, (1, 6, 1)),
                                             ((2, 6, 3), 1, [3, -1]), ((2, 0), 1, (0, 5))])
def test_unflatten(shape, dim, sizes, dtype):
    check_random(lambda x: fukaku.unflatten(x, dim, sizes), lambda x: torch.unflatten(x, dim, sizes), [shape], dtype,
                 second=True)
    check_random(lambda x: x.unflatten(dim, sizes), lambda x: x.unflatten(dim, sizes), [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- tile / rot90 / fliplr / flipud
@dtypes
@pytest.mark.parametrize("shape,dims", [((2, 3), (2,)), ((2, 3), (2, 1, 1)), ((3,), (2, 2)), ((), (3,)), ((2, 3), (0, 1)),
                                        ((2, 3), ())])
def test_tile(shape, dims, dtype):
    check_random(lambda x: fukaku.tile(x, dims), lambda x: torch.tile(x, dims), [shape], dtype, second=True)
    if dims:
        check_random(lambda x: x.tile(*dims), lambda x: x.tile(*dims), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("k", [1, 2, 3, 0, -1, 5])
@pytest.mark.parametrize("shape,dims", [((2, 3), (0, 1)), ((2, 3), (1, 0)), ((2, 3, 4), (-1, 0)), ((2, 3, 4), [2, 1])])
def test_rot90(shape, k, dims, dtype):
    check_random(lambda x: fukaku.rot90(x, k, dims), lambda x: torch.rot90(x, k, dims), [shape], dtype, second=True)
    check_random(lambda x: x.rot90(k, dims), lambda x: x.rot90(k, dims), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shape", [(2, 3), (2, 3, 4), (0, 2)])
def test_fliplr_flipud(shape, dtype):
    check_random(fukaku.fliplr, torch.fliplr, [shape], dtype, second=True)
    check_random(fukaku.flipud, torch.flipud, [shape], dtype, second=True)
    check_random(fukaku.flipud, torch.flipud, [shape[1:]], dtype)
    check_random(lambda x: x.fliplr(), lambda x: x.fliplr(), [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- hstack / vstack / dstack / column_stack
STACKING = {
    "hstack": [[(3,), (2,)], [(2, 3), (2, 1)], [(), (2,)], [(2, 3, 1), (2, 2, 1)]],
    "vstack": [[(3,), (3,)], [(2, 3), (3,)], [(), ()], [(1, 2, 2), (3, 2, 2)]],
    "dstack": [[(3,), (3,)], [(2, 3), (2, 3)], [(2, 3, 1), (2, 3, 2)], [(), ()]],
    "column_stack": [[(3,), (3,)], [(3,), (3, 2)], [(), (1,)], [(2, 1), (2,)]],
}


@dtypes
@pytest.mark.parametrize("name,shapes", [(n, s) for n, cases in STACKING.items() for s in cases])
def test_stacking(name, shapes, dtype):
    check_random(lambda *xs: getattr(fukaku, name)(xs), lambda *xs: getattr(torch, name)(xs), shapes, dtype, second=True)
    check_random(lambda *xs: getattr(fukaku, name)(list(xs)), lambda *xs: getattr(torch, name)(list(xs)), shapes, dtype,
                 jvp=False)


# ----------------------------------------------------------------------------- atleast_nd / broadcast_tensors / meshgrid
@dtypes
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_atleast(n, shape, dtype):
    name = f"atleast_{n}d"
    check_random(getattr(fukaku, name), getattr(torch, name), [shape], dtype, second=True)
    check_random(lambda x, y: getattr(fukaku, name)(x, y), lambda x, y: getattr(torch, name)(x, y), [shape, (2,)], dtype,
                 jvp=False)
    check_random(lambda x: getattr(fukaku, name)([x]), lambda x: getattr(torch, name)([x]), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("shapes", [[(2, 1), (3,)], [(), (2, 3), (1, 3)], [(4,)], [(0, 1), (1, 3)]])
def test_broadcast_tensors(shapes, dtype):
    check_random(fukaku.broadcast_tensors, torch.broadcast_tensors, shapes, dtype, second=True)
    assert fukaku.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))


def test_broadcast_shapes():
    for shapes in [((2, 1), 3, (1,)), ((5, 1, 4), [3, 1]), (), ((0,), 1)]:
        assert fukaku.broadcast_shapes(*shapes) == tuple(torch.broadcast_shapes(*shapes))


@dtypes
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("shapes", [[(3,), (2,)], [(3,), (), (4,)], [(2,)], [(0,), (3,)]])
def test_meshgrid(shapes, indexing, dtype):
    check_random(lambda *xs: fukaku.meshgrid(*xs, indexing=indexing), lambda *xs: torch.meshgrid(*xs, indexing=indexing),
                 shapes, dtype, second=True)
    check_random(lambda *xs: fukaku.meshgrid(list(xs), indexing=indexing),
                 lambda *xs: torch.meshgrid(list(xs), indexing=indexing), shapes, dtype, jvp=False)


def test_meshgrid_default_is_ij():
    a, b = fukaku.arange(3), fukaku.arange(2)
    with pytest.warns(UserWarning, match="indexing"):
        grids = fukaku.meshgrid(a, b)
    assert [g.shape for g in grids] == [(3, 2), (3, 2)]


# ----------------------------------------------------------------------------- tril_indices / triu_indices / diag_embed
@pytest.mark.parametrize("row,col,offset", [(3, 3, 0), (3, 4, 1), (4, 3, -1), (3, 4, 5), (3, 4, -5), (0, 4, 0), (1, 1, 0)])
def test_triangle_indices(row, col, offset):
    for name in ["tril_indices", "triu_indices"]:
        got, want = getattr(fukaku, name)(row, col, offset), getattr(torch, name)(row, col, offset)
        assert got.dtype == fukaku.int64 and got.shape == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())


@dtypes
@pytest.mark.parametrize("shape,offset,d1,d2", [((3,), 0, -2, -1), ((2, 3), 1, -2, -1), ((2, 3), -2, 0, 2),
                                                ((2, 3), 1, 2, 0), ((2, 2, 3), 0, 1, -1), ((0,), 1, 0, 1), ((2, 0), 0, 0, 1)])
def test_diag_embed(shape, offset, d1, d2, dtype):
    check_random(lambda x: fukaku.diag_embed(x, offset, d1, d2), lambda x: torch.diag_embed(x, offset, d1, d2), [shape],
                 dtype, second=True)
    check_random(lambda x: x.diag_embed(offset, dim1=d1, dim2=d2), lambda x: x.diag_embed(offset, dim1=d1, dim2=d2),
                 [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- views share memory where torch's do
def _shares(view_of, copy_expected: bool = False) -> None:
    x = fukaku.arange(24.0).reshape(2, 3, 4)
    y = view_of(x)
    assert np.shares_memory(y.numpy(), x.numpy()) != copy_expected
    if not copy_expected:
        assert y._version is x._version


@pytest.mark.parametrize("view", [
    lambda x: fukaku.narrow(x, 1, 1, 2), lambda x: fukaku.select(x, 2, -1), lambda x: x.select(0, 1)[1, 2],
    lambda x: fukaku.movedim(x, 0, -1), lambda x: fukaku.swapaxes(x, 0, 2), lambda x: x[0].H, lambda x: x.mH,
    lambda x: fukaku.diagonal(x, 1, 1, 2), lambda x: fukaku.diagonal(x, 0, 2, 0), lambda x: fukaku.ravel(x),
    lambda x: fukaku.unflatten(x, 2, (2, 2)), lambda x: fukaku.meshgrid(x[0, 0], indexing="ij")[0],
    lambda x: fukaku.broadcast_tensors(x[:1], x)[0], lambda x: fukaku.atleast_3d(x[0]), lambda x: x.unfold(2, 2, 1),
], ids=["narrow", "select", "select_0d", "movedim", "swapaxes", "H", "mH", "diagonal", "diagonal_swapped_dims",
        "ravel", "unflatten", "meshgrid", "broadcast_tensors", "atleast_3d", "unfold"])
def test_views_share_memory(view):
    _shares(view)


@pytest.mark.parametrize("copy", [lambda x: fukaku.diag(x[0]), lambda x: fukaku.diag_embed(x), lambda x: fukaku.rot90(x, 0),
                                  lambda x: fukaku.tile(x, (1,)), lambda x: fukaku.fliplr(x)],
                         ids=["diag", "diag_embed", "rot90_k0", "tile", "fliplr"])
def test_copies_do_not_share_memory(copy):
    _shares(copy, copy_expected=True)


def test_writing_through_views():
    """A write to a view is seen in its base and the other way round, as in PyTorch."""
    x = fukaku.zeros(3, 3)
    fukaku.diagonal(x).fill_(1.0)
    fukaku.narrow(x, 0, 2, 1).add_(5.0)
    x.select(1, 0)[0] = -1.0
    want = torch.zeros(3, 3)
    torch.diagonal(want).fill_(1.0)
    torch.narrow(want, 0, 2, 1).add_(5.0)
    want.select(1, 0)[0] = -1.0
    np.testing.assert_array_equal(x.numpy(), want.numpy())


def test_diagonal_view_in_the_graph():
    """An in-place op on a diagonal view of a tensor in the graph: the gradient of the base sees it (CopySlices)."""
    def f(lib):
        def fn(a):
            b = a * 1.0
            lib.diagonal(b).mul_(3.0)
            return b
        return fn
    check_random(f(fukaku), f(torch), [(3, 3)], np.float64, second=True)


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
        assert got.dtype == torch_dtype_to_numpy(want.dtype)
        np.testing.assert_array_equal(got.data.numpy(), want.numpy())


def test_cat_promotes_dtypes():
    a, b = np.ones((2, 2), np.float32), np.ones((1, 2), np.float64)
    got = fukaku.cat([fukaku.tensor(a), fukaku.tensor(b)])
    want = torch.cat([torch.from_numpy(a), torch.from_numpy(b)])
    assert got.dtype == torch_dtype_to_numpy(want.dtype)
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


def test_new_shape_function_errors():
    x = fukaku.zeros(2, 3)
    for call, kind, words in [
        (lambda: fukaku.movedim(x, (0, 1), (1,)), ValueError, "same number"),
        (lambda: fukaku.movedim(x, (0, 0), (0, 1)), ValueError, "repeated"),
        (lambda: fukaku.movedim(x, 2, 0), IndexError, "out of range"),
        (lambda: fukaku.narrow(x, 1, 4, 0), IndexError, "start out of range"),
        (lambda: fukaku.narrow(x, 1, 2, 2), ValueError, "exceeds"),
        (lambda: fukaku.narrow(x, 1, 0, -1), ValueError, "non-negative"),
        (lambda: fukaku.narrow(fukaku.tensor(1.0), 0, 0, 1), ValueError, "0-dim"),
        (lambda: fukaku.select(x, 1, 3), IndexError, "out of range"),
        (lambda: fukaku.select(fukaku.tensor(1.0), 0, 0), IndexError, "0-dim"),
        (lambda: fukaku.unflatten(x, 1, ()), RuntimeError, "non-empty"),
        (lambda: fukaku.rot90(x, 1, (0,)), ValueError, "rotation dims == 2"),
        (lambda: fukaku.rot90(fukaku.zeros(3)), ValueError, "total dims >= 2"),
        (lambda: fukaku.rot90(x, 1, (0, -2)), ValueError, "different"),
        (lambda: fukaku.fliplr(fukaku.zeros(3)), ValueError, ">= 2-d"),
        (lambda: fukaku.flipud(fukaku.tensor(1.0)), ValueError, ">= 1-d"),
        (lambda: fukaku.hstack([]), ValueError, "non-empty"),
        (lambda: fukaku.meshgrid(), ValueError, "non-empty"),
        (lambda: fukaku.meshgrid(x, indexing="ij"), ValueError, "0D or 1D"),
        (lambda: fukaku.meshgrid(fukaku.zeros(2), fukaku.arange(2), indexing="ij"), TypeError, "same dtype"),
        (lambda: fukaku.meshgrid(fukaku.zeros(2), indexing="ab"), ValueError, "indexing"),
        (lambda: fukaku.tril_indices(-1, 2), ValueError, "non-negative"),
        (lambda: fukaku.diag_embed(x, 0, 1, 1), ValueError, "identical"),
        (lambda: fukaku.diag_embed(fukaku.tensor(1.0)), IndexError, "at least 1"),
        (lambda: fukaku.zeros(2, 3, 4).H, ValueError, "mH"),
        (lambda: fukaku.zeros(3).mH, ValueError, "mT"),
    ]:
        with pytest.raises(kind, match=words):
            call()
    shape_error_raised(lambda: fukaku.unflatten(x, 1, (2, 2)), "unflatten", (2, 3))
    shape_error_raised(lambda: fukaku.unflatten(x, 1, (-1, -1)), "unflatten", (2, 3))
    shape_error_raised(lambda: fukaku.broadcast_shapes((2, 1), (3, 2)), "broadcast_shapes", (2, 1), (3, 2))
    shape_error_raised(lambda: fukaku.broadcast_tensors(x, fukaku.zeros(3, 1)), "broadcast_tensors", (2, 3), (3, 1))


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
