"""The pooling layers (fukaku/nn/modules/pooling.py) and their functions (fukaku/nn/functional/pooling.py)
against PyTorch: each module's output and input gradient, its ``repr`` and attributes, the tuple a
``return_indices`` layer returns, unpooling a pooled map; the functions' argument forms (ints and
tuples, ``stride=None``, the ``*_with_indices`` names); and bad input — a kernel larger than the
padded input, padding over half the kernel, the wrong number of dims — raising a ShapeError that
names the op, the shapes and the formula (torch raises RuntimeError there). The ops' conformance
grid is in tests/ops/test_pooling.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from conformance import FLOATS, assert_close, randn, shape_error_raised

LAYERS = [
    (lambda m: m.MaxPool2d(2), (2, 3, 8, 8)),
    (lambda m: m.MaxPool2d((3, 2), stride=(2, 1), padding=1, dilation=(1, 2), ceil_mode=True), (2, 3, 9, 8)),
    (lambda m: m.MaxPool2d(3, 2, 1), (3, 7, 7)),
    (lambda m: m.MaxPool1d(3, stride=2, padding=1), (2, 3, 10)),
    (lambda m: m.MaxPool1d(2, ceil_mode=True), (3, 7)),
    (lambda m: m.AvgPool2d(2), (2, 3, 8, 8)),
    (lambda m: m.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), (1, 2, 8, 7)),
    (lambda m: m.AvgPool2d((2, 3), divisor_override=4), (2, 6, 6)),
    (lambda m: m.AvgPool1d(3, stride=1, padding=1, count_include_pad=False), (2, 3, 6)),
    (lambda m: m.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    (lambda m: m.AdaptiveAvgPool2d(1), (2, 4, 5, 5)),
    (lambda m: m.AdaptiveAvgPool1d(4), (3, 9)),
    (lambda m: m.AdaptiveMaxPool2d((None, 3)), (2, 3, 4, 7)),
    (lambda m: m.AdaptiveMaxPool1d(3), (2, 3, 8)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("i", range(len(LAYERS)))
def test_layer_matches_torch(i, dtype):
    make, shape = LAYERS[i]
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert ours.state_dict() == {} and not list(ours.parameters())
    x = randn(shape, dtype=dtype, seed=i)
    xf, xt = fk.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out_f, out_t = ours(xf), theirs(xt)
    assert_close(out_f, out_t, dtype, "forward")
    up = randn(tuple(out_t.shape), dtype=dtype, seed=100 + i)
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.tensor(up))
    assert_close(xf.grad, xt.grad, dtype, "input gradient")


REPRS = [
    lambda m: m.MaxPool1d(3),
    lambda m: m.MaxPool2d((2, 3), 1, (1, 0), 2, True, True),
    lambda m: m.AvgPool1d(3, 2, 1),
    lambda m: m.AvgPool2d((2, 3), (1, 2), 1, True, False, 3),
    lambda m: m.MaxUnpool1d(2),
    lambda m: m.MaxUnpool2d((2, 3), 1, 1),
    lambda m: m.AdaptiveAvgPool2d((None, 3)),
    lambda m: m.AdaptiveMaxPool1d(3, True),
    lambda m: m.AdaptiveMaxPool2d(5),
]


@pytest.mark.parametrize("i", range(len(REPRS)))
def test_repr_and_settings_match_torch(i):
    ours, theirs = REPRS[i](nn), REPRS[i](torch.nn)
    assert repr(ours) == repr(theirs)
    for name in ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices", "count_include_pad",
                 "divisor_override", "output_size"):
        assert getattr(ours, name, None) == getattr(theirs, name, None), name


def test_return_indices_layers_feed_unpooling():
    """MaxPool2d(return_indices=True) → MaxUnpool2d(output_size=x.shape) puts each maximum back in
    place, as torch; gradients flow through both."""
    x = randn(2, 3, 7, 9, seed=1)
    results = []
    for lib, mod in ((fk, nn), (torch, torch.nn)):
        xt = lib.tensor(x, requires_grad=True)
        pool, unpool = mod.MaxPool2d(3, 2, 1, return_indices=True), mod.MaxUnpool2d(3, 2, 1)
        y, idx = pool(xt)
        back = unpool(y, idx, output_size=xt.shape)
        (back * back).sum().backward()
        results.append((y, idx, back, xt.grad))
    for got, want, what in zip(results[0], results[1], ("values", "indices", "unpooled", "gradient")):
        assert_close(got, want, what=what)
    y, idx = nn.AdaptiveMaxPool2d(2, return_indices=True)(fk.tensor(x))
    assert_close(idx, torch.nn.AdaptiveMaxPool2d(2, return_indices=True)(torch.tensor(x))[1])
    out1 = nn.MaxUnpool1d(2)(*nn.MaxPool1d(2, return_indices=True)(fk.tensor(x[0])))
    want1 = torch.nn.MaxUnpool1d(2)(*torch.nn.MaxPool1d(2, return_indices=True)(torch.tensor(x[0])))
    assert_close(out1, want1)


def test_argument_forms_and_with_indices_names():
    """Ints, 1-tuples and n-tuples name the same windows; stride None or () means kernel_size; the
    ``*_with_indices`` functions always return (values, indices)."""
    x = fk.tensor(randn(2, 3, 9, 8, seed=2))
    base = F.max_pool2d(x, 3, 3)
    for kernel, stride in [((3, 3), None), ([3], ()), (np.int64(3), (3,)), (fk.Size([3, 3]), [3, 3])]:
        assert_close(F.max_pool2d(x, kernel, stride), base)
    values, idx = F.max_pool2d_with_indices(x, 2)
    want = TF.max_pool2d_with_indices(torch.tensor(x.numpy()), 2)
    assert_close(values, want[0])
    assert_close(idx, want[1])
    x1 = fk.tensor(randn(2, 3, 9, seed=3))
    for ours, theirs in [(F.max_pool1d_with_indices(x1, 3, 2), TF.max_pool1d_with_indices(torch.tensor(x1.numpy()),
                                                                                         3, 2)),
                         (F.adaptive_max_pool1d_with_indices(x1, 4),
                          TF.adaptive_max_pool1d_with_indices(torch.tensor(x1.numpy()), 4)),
                         (F.adaptive_max_pool2d_with_indices(x, (4, 3)),
                          TF.adaptive_max_pool2d_with_indices(torch.tensor(x.numpy()), (4, 3)))]:
        assert_close(ours[0], theirs[0])
        assert_close(ours[1], theirs[1])


def test_two_by_two_pooling_halves_the_map_and_keeps_channels():
    """Seed 004 §3.3: 2×2 pooling with stride 2 halves H and W and leaves C alone, and the output does
    not change when a maximum moves inside its window (local translation invariance)."""
    x = np.zeros((1, 5, 8, 8), dtype=np.float32)
    x[0, :, 2, 2] = 1.0
    y = F.max_pool2d(fk.tensor(x), 2)
    assert tuple(y.shape) == (1, 5, 4, 4)
    moved = np.zeros_like(x)
    moved[0, :, 3, 3] = 1.0
    np.testing.assert_array_equal(F.max_pool2d(fk.tensor(moved), 2).numpy(), y.numpy())
    assert tuple(F.avg_pool2d(fk.tensor(x), 2).shape) == (1, 5, 4, 4)


# ----------------------------------------------------------------------------- bad input
def test_kernel_larger_than_the_padded_input_is_a_shape_error():
    x = fk.randn(1, 3, 4, 5)
    shape_error_raised(lambda: F.max_pool2d(x, 6), "max_pool2d", (1, 3, 4, 5), (6, 6))
    shape_error_raised(lambda: F.max_pool2d(x, 3, dilation=3), "max_pool2d", (1, 3, 4, 5), (7, 7))
    shape_error_raised(lambda: F.avg_pool1d(fk.randn(2, 3), 4), "avg_pool1d", (2, 3), (4,))
    shape_error_raised(lambda: nn.MaxPool2d(5, padding=1)(fk.randn(3, 2, 2)), "max_pool2d", (3, 2, 2), (4, 4))
    with pytest.raises(fk.ShapeError, match=r"⌊\(size \+ 2·padding − dilation·\(kernel_size − 1\) − 1\) / stride⌋"):
        F.max_pool2d(x, 6)
    with pytest.raises(RuntimeError):  # torch refuses the same inputs
        TF.max_pool2d(torch.randn(1, 3, 4, 5), 6)


def test_padding_over_half_the_kernel_is_a_shape_error():
    x = fk.randn(1, 1, 8, 8)
    shape_error_raised(lambda: F.max_pool2d(x, 3, padding=2), "max_pool2d", (1, 1, 8, 8), (2, 2), (3, 3))
    shape_error_raised(lambda: F.avg_pool2d(x, (2, 4), padding=(1, 3)), "avg_pool2d", (1, 3))
    # the rule is on kernel_size itself, dilation or not, as in torch
    shape_error_raised(lambda: F.max_pool2d(x, 3, padding=2, dilation=2), "max_pool2d", (2, 2), (3, 3))
    for dilation in (1, 2):
        with pytest.raises(RuntimeError):
            TF.max_pool2d(torch.randn(1, 1, 8, 8), 3, padding=2, dilation=dilation)
    F.max_pool2d(x, 4, padding=2, dilation=2)


def test_wrong_number_of_dims_or_empty_planes_is_a_shape_error():
    shape_error_raised(lambda: F.max_pool2d(fk.randn(4, 4), 2), "max_pool2d", (4, 4))
    shape_error_raised(lambda: F.max_pool1d(fk.randn(1, 2, 4, 4), 2), "max_pool1d", (1, 2, 4, 4))
    shape_error_raised(lambda: F.avg_pool2d(fk.randn(1, 0, 4, 4), 2), "avg_pool2d", (1, 0, 4, 4))
    shape_error_raised(lambda: F.adaptive_avg_pool2d(fk.randn(2, 3, 4, 4, 4), 2), "adaptive_avg_pool2d",
                       (2, 3, 4, 4, 4))
    shape_error_raised(lambda: F.adaptive_max_pool1d(fk.randn(2, 3, 4), 0), "adaptive_max_pool1d", (2, 3, 4))


def test_bad_settings_and_dtypes_are_refused():
    x = fk.randn(1, 1, 6, 6)
    for kwargs in (dict(kernel_size=0), dict(kernel_size=2, stride=0), dict(kernel_size=2, dilation=0),
                   dict(kernel_size=2, padding=-1)):
        with pytest.raises(ValueError, match="max_pool2d"):
            F.max_pool2d(x, **kwargs)
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(TypeError, match="kernel_size"):
        F.max_pool2d(x, 2.5)
    with pytest.raises(ValueError, match="divisor_override"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(TypeError, match="Bool|bool"):
        F.max_pool2d(fk.ones(1, 1, 4, 4, dtype=fk.bool), 2)
    with pytest.raises(TypeError, match="adaptive_avg_pool2d"):
        F.adaptive_avg_pool2d(fk.ones(1, 1, 4, 4, dtype=fk.int64), 2)
    with pytest.raises(TypeError, match="output_size"):
        F.adaptive_avg_pool2d(x, 2.5)


def test_unpooling_checks_its_indices_and_output_size():
    y, idx = F.max_pool2d(fk.randn(1, 2, 6, 6), 2, return_indices=True)
    shape_error_raised(lambda: F.max_unpool2d(y, idx[:, :1], 2), "max_unpool2d", (1, 1, 3, 3), (1, 2, 3, 3))
    with pytest.raises(TypeError, match="int64"):
        F.max_unpool2d(y, idx.int(), 2)
    with pytest.raises(IndexError, match="max_unpool2d"):
        F.max_unpool2d(y, idx + 36, 2)
    for size in ((8, 6), (6, 4)):  # the default 6 ± stride 2, bounds excluded
        with pytest.raises(ValueError, match="between 4 and 8"):
            F.max_unpool2d(y, idx, 2, output_size=size)
    with pytest.raises(ValueError, match="between 4 and 8"):  # torch's own rule
        TF.max_unpool2d(torch.randn(1, 2, 3, 3), torch.zeros(1, 2, 3, 3, dtype=torch.int64), 2, output_size=(8, 6))
    assert tuple(F.max_unpool2d(y, idx, 2, output_size=(7, 7)).shape) == (1, 2, 7, 7)
