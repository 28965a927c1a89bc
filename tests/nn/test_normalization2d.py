"""Normalisation of feature maps: batch (2-d, 3-d), group, instance and local response normalisation.

The functional forms go through the conformance harness against PyTorch 2.13 (forward, vjp, jvp,
both second orders); the layers are compared with torch's through their state dicts in
tests/nn/test_layers.py (running statistics step by step included). Here: the statistics each
layer normalises with (closed forms), how the four relate (GroupNorm with one group per channel is
instance normalisation, with one group it is layer normalisation over (C, H, W)), the running
statistics of instance normalisation, finite differences, and the errors.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from conformance import FLOATS, check, randn, shape_error_raised
from fukaku.autograd import gradcheck, gradgradcheck


# ----------------------------------------------------------------------------- conformance of the functions
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(3, 4, 2, 3), (2, 4, 2, 1, 3)], ids=["NCHW", "NCDHW"])
def test_batch_norm_on_feature_maps(shape, dtype):
    x, w, b = randn(shape), randn(4, seed=1), randn(4, seed=2)
    rm, rv = randn(4, seed=3), np.linspace(0.5, 2, 4)
    check(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [x, w, b], dtype, second=True)
    check(lambda x, w, b: F.batch_norm(x, fk.tensor(rm.astype(dtype)), fk.tensor(rv.astype(dtype)), w, b),
          lambda x, w, b: TF.batch_norm(x, torch.tensor(rm.astype(dtype)), torch.tensor(rv.astype(dtype)), w, b),
          [x, w, b], dtype, second=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("groups, shape", [(2, (3, 4, 2, 3)), (1, (2, 6, 5)), (3, (2, 6)), (4, (2, 4, 3, 1, 2))])
def test_group_norm(groups, shape, dtype):
    c = shape[1]
    x, w, b = randn(shape), randn(c, seed=1), randn(c, seed=2)
    check(lambda x, w, b: F.group_norm(x, groups, w, b), lambda x, w, b: TF.group_norm(x, groups, w, b),
          [x, w, b], dtype, second=True)
    check(lambda x: F.group_norm(x, groups, eps=0.1), lambda x: TF.group_norm(x, groups, eps=0.1), [x], dtype,
          second=True)


@pytest.mark.parametrize("dtype", FLOATS)
def test_instance_norm(dtype):
    x, w, b = randn(2, 3, 4, 2), randn(3, seed=1), randn(3, seed=2)
    check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
          [x, w, b], dtype, second=True)
    check(lambda x: F.instance_norm(x, eps=0.5), lambda x: TF.instance_norm(x, eps=0.5), [x[:, :, 0]], dtype,
          second=True)
    rm, rv = randn(3, seed=3).astype(dtype), np.linspace(0.5, 2, 3).astype(dtype)
    check(lambda x, w: F.instance_norm(x, fk.tensor(rm), fk.tensor(rv), w, use_input_stats=False),
          lambda x, w: TF.instance_norm(x, torch.tensor(rm), torch.tensor(rv), w, use_input_stats=False),
          [x, w], dtype, second=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("size, shape", [(3, (2, 5, 3, 2)), (2, (2, 4, 3)), (5, (1, 3, 2, 2, 2)), (1, (2, 3, 2))],
                         ids=["odd", "even-3d", "wider-than-C-5d", "one"])
def test_local_response_norm(size, shape, dtype):
    x = randn(shape)
    check(lambda x: F.local_response_norm(x, size, alpha=0.5, beta=0.75, k=1.5),
          lambda x: TF.local_response_norm(x, size, alpha=0.5, beta=0.75, k=1.5), [x], dtype, second=True)
    check(lambda x: F.local_response_norm(x, size), lambda x: TF.local_response_norm(x, size), [x], dtype)


def test_second_derivatives_by_finite_differences():
    x = fk.tensor(randn(2, 4, 3), requires_grad=True)
    w = fk.tensor(randn(4, seed=1), requires_grad=True)
    gradcheck(lambda x, w: F.group_norm(x, 2, w), (x, w))
    gradgradcheck(lambda x, w: F.group_norm(x, 2, w) * x, (x, w))
    gradgradcheck(lambda x, w: F.instance_norm(x, weight=w) * x, (x, w))
    gradgradcheck(lambda x: F.local_response_norm(x, 3, alpha=1.0, k=2.0), (x,))


# ----------------------------------------------------------------------------- what each normalises with
def test_statistics_each_normalisation_takes():
    """Mean 0 and (biased) variance 1 over: (N, H, W) per channel for batch norm, (H, W) per sample and
    channel for instance norm, (C/G, H, W) per sample and group for group norm."""
    x = fk.tensor(randn(4, 6, 5, 3) * np.arange(1, 7)[:, None, None] + 3)
    cases = {(0, 2, 3): nn.BatchNorm2d(6, eps=0).double()(x), (2, 3): nn.InstanceNorm2d(6, eps=0)(x)}
    for axes, y in cases.items():
        y = y.detach().numpy()
        np.testing.assert_allclose(y.mean(axes), 0, atol=1e-12)
        np.testing.assert_allclose(y.var(axes), 1, rtol=1e-10)
    y = nn.GroupNorm(3, 6, eps=0).double()(x).detach().numpy().reshape(4, 3, 2, 5, 3)
    np.testing.assert_allclose(y.mean((2, 3, 4)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var((2, 3, 4)), 1, rtol=1e-10)


def test_group_norm_spans_instance_and_layer_norm():
    """G = C is instance normalisation; G = 1 is layer normalisation over (C, H, W) with per-channel γ, β."""
    x = fk.tensor(randn(3, 4, 2, 5))
    w, b = fk.tensor(randn(4, seed=1)), fk.tensor(randn(4, seed=2))
    np.testing.assert_allclose(F.group_norm(x, 4, w, b).numpy(), F.instance_norm(x, weight=w, bias=b).numpy(),
                               rtol=1e-12, atol=1e-12)
    layer = F.layer_norm(x, (4, 2, 5)) * w.reshape(4, 1, 1) + b.reshape(4, 1, 1)
    np.testing.assert_allclose(F.group_norm(x, 1, w, b).numpy(), layer.numpy(), rtol=1e-12, atol=1e-12)


def test_group_and_instance_norm_do_not_depend_on_the_batch():
    x = randn(5, 4, 3, 3)
    for layer in (nn.GroupNorm(2, 4), nn.InstanceNorm2d(4, affine=True)):
        layer.double()
        whole, alone = layer(fk.tensor(x)).detach().numpy(), layer(fk.tensor(x[2:3])).detach().numpy()
        np.testing.assert_allclose(whole[2:3], alone, rtol=1e-13, atol=1e-13)


def test_instance_norm_running_statistics_are_batch_averages():
    """running ← (1 − m)·running + m·mean_n(μ_nc) and m·mean_n(unbiased σ²_nc); eval then normalises with them."""
    x = randn(4, 3, 5, 2) * 2 + 1
    layer = nn.InstanceNorm2d(3, momentum=0.25, track_running_stats=True).double()
    layer(fk.tensor(x))
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.25 * x.mean((2, 3)).mean(0), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var.numpy(), 0.75 + 0.25 * x.var((2, 3), ddof=1).mean(0), rtol=1e-12)
    assert layer.num_batches_tracked.item() == 0  # as torch: instance norm does not count batches
    layer.eval()
    rm, rv = layer.running_mean.numpy()[:, None, None], layer.running_var.numpy()[:, None, None]
    np.testing.assert_allclose(layer(fk.tensor(x)).numpy(), (x - rm) / np.sqrt(rv + 1e-5), rtol=1e-12)


def test_local_response_norm_closed_form():
    """b_c = a_c / (k + α/n Σ_{c'} a_c'²)^β over channels c − ⌊n/2⌋ … c + ⌊(n − 1)/2⌋ (zeros outside)."""
    a = randn(2, 6, 3)
    n, alpha, beta, k = 4, 0.7, 0.6, 1.3
    sq = np.pad(a * a, ((0, 0), (n // 2, (n - 1) // 2), (0, 0)))
    window = sum(sq[:, i:i + 6] for i in range(n))
    want = a / (k + alpha / n * window) ** beta
    np.testing.assert_allclose(F.local_response_norm(fk.tensor(a), n, alpha, beta, k).numpy(), want, rtol=1e-12)


# ----------------------------------------------------------------------------- errors
def test_errors_name_the_layer_the_shapes_and_the_fix():
    shape_error_raised(lambda: nn.BatchNorm2d(3)(fk.randn(2, 3, 4)), "BatchNorm2d", (2, 3, 4))
    shape_error_raised(lambda: nn.BatchNorm2d(3)(fk.randn(2, 4, 3, 3)), "BatchNorm2d", (2, 4, 3, 3))
    shape_error_raised(lambda: nn.BatchNorm3d(3)(fk.randn(2, 3, 4, 4)), "BatchNorm3d", (2, 3, 4, 4))
    shape_error_raised(lambda: F.batch_norm(fk.randn(2, 3, 4, 4), None, None, fk.ones(4), training=True),
                       "batch_norm", (4,), (2, 3, 4, 4))
    shape_error_raised(lambda: F.group_norm(fk.randn(2, 6, 3), 4), "group_norm", (2, 6, 3))
    with pytest.raises(fk.ShapeError, match="num_groups=4 must be a positive integer dividing the 6 channels"):
        F.group_norm(fk.randn(2, 6, 3), 4)
    shape_error_raised(lambda: nn.GroupNorm(2, 6)(fk.randn(2, 4, 3)), "GroupNorm", (2, 4, 3))
    shape_error_raised(lambda: F.group_norm(fk.randn(2, 4), 2, fk.ones(3)), "group_norm", (3,), (2, 4))
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="more than 1 value per group"):
        F.group_norm(fk.randn(1, 4), 4)
    shape_error_raised(lambda: nn.InstanceNorm2d(3)(fk.randn(3, 4)), "InstanceNorm2d", (3, 4))
    shape_error_raised(lambda: nn.InstanceNorm1d(3, affine=True)(fk.randn(2, 4, 5)), "InstanceNorm1d", (2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(fk.randn(2, 4, 5))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm2d(3)(fk.randn(2, 3, 1, 1))
    assert nn.InstanceNorm2d(3, track_running_stats=True).eval()(fk.randn(2, 3, 1, 1)).shape == (2, 3, 1, 1)
    with pytest.raises(ValueError, match="running_mean and running_var are required"):
        F.instance_norm(fk.randn(2, 3, 4), use_input_stats=False)
    shape_error_raised(lambda: F.local_response_norm(fk.randn(2, 3), 2), "local_response_norm", (2, 3))
    with pytest.raises(TypeError, match="dtype"):
        nn.GroupNorm(1, 3)(fk.randn(2, 3, 4, dtype=fk.float64))
