"""The pooling graph nodes (fukaku/ops/pooling.py) against PyTorch: max pooling (WindowGather /
WindowScatter), average pooling (AvgPool / AvgPoolTranspose), adaptive average (AdaptiveAvgPool) and
max (windows laid side by side, then max-pooled), and MaxUnpool — forward values, indices exactly,
reverse mode, forward mode and both second-order modes, over kernel, stride, padding, dilation,
ceil_mode, odd sizes, non-square kernels, a batch of one and unbatched inputs. Then what the
conformance grid does not reach: ties, NaN and −inf windows (torch's indices), non-finite upstream
gradients, integer inputs, and the geometry itself against float64 finite differences.

Inputs for gradients are standard normal, so windows have no ties; ties are tested on their own
(both libraries send the gradient to the first largest element)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, assert_close, check, randn
from fukaku.autograd import gradcheck, gradgradcheck
from fukaku.ops.pooling import Windows, adaptive_windows

dtypes = pytest.mark.parametrize("dtype", FLOATS)


def _both(fn_name: str, *args, **kwargs):
    """The fukaku and the torch function of the same name, with the same trailing arguments."""
    return (lambda x: getattr(F, fn_name)(x, *args, **kwargs)), (lambda x: getattr(TF, fn_name)(x, *args, **kwargs))


# ----------------------------------------------------------------------------- max pooling
# (shape, kernel_size, stride, padding, dilation, ceil_mode)
MAX2D = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),               # the common 2×2 tiling
    ((1, 2, 7, 9), 3, 2, 1, 1, False),                  # overlapping, padded, odd sizes, batch of one
    ((2, 2, 7, 9), 3, 2, 1, 1, True),                   # ceil_mode: a last partial window
    ((1, 2, 9, 8), (3, 2), (2, 1), (1, 0), 1, False),   # non-square kernel, stride and padding
    ((2, 1, 10, 11), 3, 1, 1, 2, False),                # dilation
    ((2, 1, 10, 11), (2, 3), 3, 1, (2, 1), True),       # dilation, gaps between windows, ceil_mode
    ((3, 7, 7), 2, 2, 0, 1, True),                      # unbatched, ceil_mode
    ((3, 7, 7), 2, 2, 0, 1, False),                     # unbatched, the last row and column left out
    ((1, 1, 5, 5), 5, None, 2, 1, False),               # kernel as large as the input, padded
    ((2, 3, 6, 6), 4, 1, 2, 1, False),                  # many overlapping windows
    ((2, 3, 5, 7), 1, 2, 0, 1, False),                  # kernel 1: subsampling
    ((0, 2, 4, 4), 2, None, 0, 1, False),               # an empty batch
]


@dtypes
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil", MAX2D)
def test_max_pool2d_with_indices_matches_torch(shape, kernel, stride, padding, dilation, ceil, dtype):
    fk_fn, th_fn = _both("max_pool2d", kernel, stride, padding, dilation, ceil, True)
    check(fk_fn, th_fn, [randn(shape, seed=sum(shape))], dtype)


MAX1D = [
    ((2, 3, 9), 2, None, 0, 1, False),
    ((2, 3, 9), 3, 2, 1, 1, True),
    ((1, 2, 12), 3, 1, 1, 3, False),
    ((4, 11), 4, 3, 2, 1, True),                        # unbatched
    ((2, 2, 5), 5, 1, 2, 1, False),
]


@dtypes
@pytest.mark.parametrize("shape,kernel,stride,padding,dilation,ceil", MAX1D)
def test_max_pool1d_with_indices_matches_torch(shape, kernel, stride, padding, dilation, ceil, dtype):
    fk_fn, th_fn = _both("max_pool1d", kernel, stride, padding, dilation, ceil, True)
    check(fk_fn, th_fn, [randn(shape, seed=sum(shape))], dtype)


@pytest.mark.parametrize("fn_name,args", [("max_pool2d", (3, 2, 1, 1, False, True)), ("max_pool2d", (2,)),
                                          ("avg_pool2d", (3, 2, 1, True, False)), ("adaptive_max_pool2d", ((3, 2),))])
def test_channels_last_views_pool_as_contiguous_inputs(fn_name, args):
    """A permuted (channels-last) view, as a convolution may hand over, pools like a contiguous input."""
    def on_view(lib_fn):
        return lambda x: lib_fn(x.permute(0, 3, 1, 2), *args)
    check(on_view(getattr(F, fn_name)), on_view(getattr(TF, fn_name)), [randn(2, 7, 6, 3, seed=11)], np.float32)


def test_max_pool_without_indices_is_the_same_graph():
    """return_indices=False (indices not computed unless a gradient needs them) gives the same values
    and gradients, with and without grad mode."""
    fk_fn, th_fn = _both("max_pool2d", 3, 2, 1)
    check(fk_fn, th_fn, [randn(2, 3, 9, 8, seed=1)], np.float64)
    x = randn(2, 3, 9, 8, seed=1)
    with fk.no_grad():
        assert_close(F.max_pool2d(fk.tensor(x), 3, 2, 1), TF.max_pool2d(torch.tensor(x), 3, 2, 1))


def test_ties_pick_the_first_largest_element():
    """Where a window holds its maximum more than once, the index is the first in row-major order and
    the whole gradient goes there, in both libraries; overlapping windows that share the picked
    element add their gradients on it."""
    x = np.array([[[[1., 3., 3.], [3., 2., 3.], [0., 3., 1.]]]])
    for args in [(2, 1), (2, 1, 1), (3, 1, 1), (2, 2, 0, 1, True)]:
        check(lambda t: F.max_pool2d(t, *args, return_indices=True),
              lambda t: TF.max_pool2d(t, *args, return_indices=True), [x], np.float64)
    ones = np.ones((1, 1, 4, 4))
    check(lambda t: F.max_pool2d(t, 2, return_indices=True), lambda t: TF.max_pool2d(t, 2, return_indices=True),
          [ones], np.float32)


def test_nan_and_minus_infinity_windows_report_torchs_indices():
    """A NaN is a window's maximum (the last NaN, by torch's rule ``v > best or isnan(v)``); a window
    whose elements are all −inf reports its first element inside the input, never the padding."""
    nan, inf = float("nan"), float("inf")
    cases = [
        (np.array([[[nan, 1., nan, 2., 1., nan, 3., 4.]]]), (4,)),
        (np.array([[[-inf, -inf, -inf, -inf]]]), (3, 1, 1)),
        (np.array([[[-inf, -inf, -inf, -inf]]]), (2, 1, 1, 2)),
        (np.array([[[1., nan, 2., -inf, -inf]]]), (2, 1, 1, 1, True)),
    ]
    for x, args in cases:
        got = F.max_pool1d(fk.tensor(x), *args, return_indices=True)
        want = TF.max_pool1d(torch.tensor(x), *args, return_indices=True)
        assert_close(got[0], want[0])
        assert_close(got[1], want[1])
    x = np.full((1, 1, 3, 3), -inf)
    got, want = F.max_pool2d(fk.tensor(x), 3, 1, 1, return_indices=True), TF.max_pool2d(torch.tensor(x), 3, 1, 1,
                                                                                      return_indices=True)
    assert_close(got[1], want[1])
    x = np.array([[[1., nan, 3., nan, 2., 5., nan]]])  # adaptive windows of varying length, some overlapping
    for out in (3, 2):
        got, want = F.adaptive_max_pool1d(fk.tensor(x), out, True), TF.adaptive_max_pool1d(torch.tensor(x), out, True)
        assert_close(got[0], want[0])
        assert_close(got[1], want[1])


def test_integer_max_pool_pads_with_the_lowest_integer():
    x = np.array([[[-128, -128, 5, -3, 7]]], dtype=np.int8)
    for args in [(2, 1, 1), (3, 2, 1, 1, True), (2,)]:
        got = F.max_pool1d(fk.tensor(x), *args, return_indices=True)
        want = TF.max_pool1d(torch.tensor(x), *args, return_indices=True)
        assert_close(got[0], want[0])
        assert_close(got[1], want[1])
    x = np.arange(-20, 16, dtype=np.int64).reshape(1, 1, 6, 6) * np.array([1, -1, 1, -1, 1, -1])
    assert_close(F.max_pool2d(fk.tensor(x), 3, 2, 1), TF.max_pool2d(torch.tensor(x), 3, 2, 1))


@pytest.mark.parametrize("overlap", [False, True])
def test_non_finite_upstream_gradients_stay_in_their_windows(overlap):
    """An inf or NaN upstream gradient reaches only its window's maximum: the other elements get 0,
    not 0·inf = NaN (the scatter and the gather select, they do not multiply by a mask)."""
    x = randn(1, 2, 6, 6, seed=3)
    up = randn(1, 2, 3, 3, seed=4) if not overlap else randn(1, 2, 5, 5, seed=4)
    up[0, 0, 1, 1], up[0, 1, 2, 0] = np.inf, np.nan
    args = (2,) if not overlap else (2, 1)
    xf, xt = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    F.max_pool2d(xf, *args).backward(fk.tensor(up))
    TF.max_pool2d(xt, *args).backward(torch.tensor(up))
    assert_close(xf.grad, xt.grad)
    # the tangent of x is gathered at the maxima: an inf tangent elsewhere must not leak either
    dx = np.zeros_like(x)
    dx[0, 0, 0, 0] = np.inf
    dx[0, 0, 5, 5] = 1.0
    _, got = fk.autograd.functional.jvp(lambda t: F.max_pool2d(t, *args), (fk.tensor(x),), (fk.tensor(dx),))
    _, want = torch.func.jvp(lambda t: TF.max_pool2d(t, *args), (torch.tensor(x),), (torch.tensor(dx),))
    assert_close(got, want)


def test_max_pool_gradients_against_finite_differences():
    """An oracle independent of torch: float64 central differences of the reverse and forward rules,
    and of the second-order ones (the gradient's own derivative w.r.t. the upstream gradient)."""
    x = fk.tensor(randn(1, 2, 5, 6, seed=5), requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, (3, 2), (2, 1), 1, (1, 2), True), (x,))
    assert gradgradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), (x,))


# ----------------------------------------------------------------------------- average pooling
# (shape, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override)
AVG2D = [
    ((2, 3, 8, 8), 2, None, 0, False, True, None),
    ((1, 2, 7, 9), 3, 2, 1, False, True, None),
    ((1, 2, 7, 9), 3, 2, 1, True, False, None),
    ((2, 2, 7, 9), (3, 2), (2, 1), (1, 0), True, True, None),
    ((2, 2, 6, 5), 3, 2, 1, True, False, None),
    ((3, 5, 5), 2, 1, 1, False, True, 3),               # unbatched, divisor_override
    ((1, 1, 5, 5), 5, 3, 2, True, True, None),
    ((2, 3, 7, 7), 2, 3, 0, False, True, None),         # gaps between windows
]


@dtypes
@pytest.mark.parametrize("shape,kernel,stride,padding,ceil,include_pad,divisor", AVG2D)
def test_avg_pool2d_matches_torch(shape, kernel, stride, padding, ceil, include_pad, divisor, dtype):
    fk_fn, th_fn = _both("avg_pool2d", kernel, stride, padding, ceil, include_pad, divisor)
    check(fk_fn, th_fn, [randn(shape, seed=sum(shape))], dtype)


AVG1D = [
    ((2, 3, 9), 2, None, 0, False, True),
    ((2, 3, 9), 3, 2, 1, True, False),
    ((4, 10), 4, 3, 2, True, True),                     # unbatched
    ((1, 2, 5), 3, 1, 1, False, False),
]


@dtypes
@pytest.mark.parametrize("shape,kernel,stride,padding,ceil,include_pad", AVG1D)
def test_avg_pool1d_matches_torch(shape, kernel, stride, padding, ceil, include_pad, dtype):
    fk_fn, th_fn = _both("avg_pool1d", kernel, stride, padding, ceil, include_pad)
    check(fk_fn, th_fn, [randn(shape, seed=sum(shape))], dtype)


def test_integer_average_rounds_toward_zero():
    x = np.array([[[-3, -5, 1, -7, 2, 4, 9]]], dtype=np.int64)
    for args in [(2,), (3, 2, 1, True, False), (3, 1, 1)]:
        assert_close(F.avg_pool1d(fk.tensor(x), *args), TF.avg_pool1d(torch.tensor(x), *args))
    x2 = np.arange(-12, 13, dtype=np.int64).reshape(1, 1, 5, 5)
    assert_close(F.avg_pool2d(fk.tensor(x2), 2, 2, 1, False, True, 3), TF.avg_pool2d(torch.tensor(x2), 2, 2, 1,
                                                                                        False, True, 3))


def test_avg_pool_gradients_against_finite_differences():
    x = fk.tensor(randn(1, 2, 5, 6, seed=6), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, True, False), (x,))
    assert gradgradcheck(lambda t: F.avg_pool2d(t, (2, 3), 1, (1, 1)), (x,))


# ----------------------------------------------------------------------------- adaptive pooling
ADAPTIVE2D = [
    ((2, 3, 8, 8), 4),              # divides: plain pooling
    ((2, 3, 7, 9), (3, 4)),         # windows of varying length, overlapping
    ((1, 2, 6, 6), (None, 4)),      # None keeps H
    ((2, 2, 5, 4), 1),              # global pooling
    ((1, 2, 17, 16), 1),            # a window of 272 elements: offsets beyond one byte
    ((1, 2, 3, 5), (5, 7)),         # more outputs than inputs: windows repeat elements
    ((3, 7, 5), (2, 3)),            # unbatched
]


@dtypes
@pytest.mark.parametrize("shape,out", ADAPTIVE2D)
def test_adaptive_avg_pool2d_matches_torch(shape, out, dtype):
    check(*_both("adaptive_avg_pool2d", out), [randn(shape, seed=sum(shape))], dtype)


@dtypes
@pytest.mark.parametrize("shape,out", ADAPTIVE2D)
def test_adaptive_max_pool2d_with_indices_matches_torch(shape, out, dtype):
    check(*_both("adaptive_max_pool2d", out, True), [randn(shape, seed=sum(shape))], dtype)


@dtypes
@pytest.mark.parametrize("shape,out", [((2, 3, 9), 4), ((2, 3, 8), 4), ((3, 10), 7), ((1, 2, 3), 5)])
def test_adaptive_pool1d_matches_torch(shape, out, dtype):
    x = randn(shape, seed=sum(shape))
    check(*_both("adaptive_avg_pool1d", out), [x], dtype)
    check(*_both("adaptive_max_pool1d", out, True), [x], dtype)


def test_adaptive_windows_are_torchs():
    """Window o along a dim of ``size`` covers [⌊o·size/out⌋, ⌈(o+1)·size/out⌉): checked against
    averaging one-hot inputs in torch (each window's membership, one element at a time)."""
    for size, out in [(7, 3), (5, 7), (10, 4), (1, 3)]:
        start, end = adaptive_windows(size, out)
        member = TF.adaptive_avg_pool1d(torch.eye(size).unsqueeze(1), out)[:, 0, :].numpy().T > 0  # (out, size)
        cols = np.arange(size)
        np.testing.assert_array_equal(member, (cols >= start[:, None]) & (cols < end[:, None]))


def test_adaptive_gradients_against_finite_differences():
    x = fk.tensor(randn(1, 2, 5, 7, seed=7), requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), (x,))
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (3, 4)), (x,))
    assert gradgradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), (x,))


# ----------------------------------------------------------------------------- max unpooling
UNPOOL2D = [
    ((2, 3, 8, 8), 2, None, 0, None),
    ((1, 2, 7, 9), 3, 2, 1, None),
    ((1, 2, 7, 9), 3, 2, 1, (7, 9)),                   # output_size recovers the odd input size
    ((3, 7, 6), 2, 2, 0, (1, 3, 7, 6)),                # unbatched, output_size with the leading dims
]


@dtypes
@pytest.mark.parametrize("shape,kernel,stride,padding,output_size", UNPOOL2D)
def test_max_unpool2d_matches_torch(shape, kernel, stride, padding, output_size, dtype):
    x = torch.tensor(randn(shape, seed=sum(shape)))
    pooled, idx = TF.max_pool2d(x, kernel, stride, padding, return_indices=True)
    fk_idx = fk.tensor(idx.numpy())
    check(lambda y: F.max_unpool2d(y, fk_idx, kernel, stride, padding, output_size),
          lambda y: TF.max_unpool2d(y, idx, kernel, stride, padding, output_size), [pooled.numpy()], dtype)


@dtypes
def test_max_unpool1d_matches_torch(dtype):
    x = torch.tensor(randn(2, 3, 11, seed=8))
    pooled, idx = TF.max_pool1d(x, 3, 2, 1, return_indices=True)
    fk_idx = fk.tensor(idx.numpy())
    for size in (None, (11,)):
        check(lambda y: F.max_unpool1d(y, fk_idx, 3, 2, 1, size), lambda y: TF.max_unpool1d(y, idx, 3, 2, 1, size),
              [pooled.numpy()], dtype)


def test_unpooling_our_own_indices_restores_the_maxima():
    x = fk.tensor(randn(2, 3, 6, 8, seed=9))
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    back = F.max_unpool2d(y, idx, 2).numpy()
    kept = back != 0
    np.testing.assert_array_equal(back[kept], x.numpy()[kept])
    assert kept.reshape(2, 3, 3, 2, 4, 2).sum(axis=(3, 5)).min() == 1  # one element kept per window


# ----------------------------------------------------------------------------- geometry
def test_windows_geometry():
    tiles = Windows((8, 8), (2, 2), (2, 2), (0, 0), (1, 1), (4, 4))
    assert tiles.tiling and not tiles.overlapping and not tiles.padded
    left_over = Windows((7, 7), (2, 2), (2, 2), (0, 0), (1, 1), (3, 3))
    assert not left_over.tiling and not left_over.padded
    ceil = Windows((7,), (2,), (2,), (0,), (1,), (4,))
    assert ceil.padded and ceil.extent == (8,)
    overlap = Windows((7, 9), (3, 3), (2, 2), (1, 1), (1, 1), (4, 5))
    assert overlap.overlapping and overlap.padded and overlap.extent == (9, 11)
    dilated = Windows((10,), (2,), (3,), (0,), (2,), (3,))
    assert not dilated.overlapping and not dilated.tiling and dilated.span == (3,)
    np.testing.assert_array_equal(dilated.positions()[0], [[0, 2], [3, 5], [6, 8]])
    # first offsets inside the input: k = 3, dilation 2, padding 2 → window starts −2, 0, 2
    assert Windows((6,), (3,), (2,), (2,), (2,), (3,)).first_inside().tolist() == [1, 0, 0]
