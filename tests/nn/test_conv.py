"""The convolutional layers (fukaku/nn/modules/conv.py), the padding layers (padding.py) and Fold/Unfold
(fold.py) against PyTorch: torch's state dict loads into ours (strict: the same keys) and ours into a
fresh torch layer, outputs agree, and gradients of every order agree through the layer's forward path
(padding modes included); PyTorch's initialisation bounds; ``repr``; ``output_size``; errors that
name the layer, the shapes and the formula."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn as nn
from conformance import FLOATS, assert_close, check, layer_twins, randn

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

CONV_LAYERS = [
    ("Conv2d", (3, 4, 3), dict(padding=1), (2, 3, 7, 6)),
    ("Conv2d", (3, 4, (3, 2)), dict(stride=2, padding=(1, 2), padding_mode="reflect"), (2, 3, 7, 8)),
    ("Conv2d", (2, 3, 3), dict(padding="same", dilation=2, padding_mode="replicate", bias=False), (1, 2, 6, 7)),
    ("Conv2d", (4, 6, 3), dict(padding=1, groups=2, padding_mode="circular"), (2, 4, 5, 5)),
    ("Conv2d", (3, 6, 3), dict(padding="same", groups=3), (1, 3, 5, 4)),
    ("Conv2d", (2, 3, 4), dict(padding="same", padding_mode="reflect"), (2, 6, 7)),
    ("Conv1d", (3, 4, 3), dict(stride=2, padding=2, dilation=2, padding_mode="circular"), (2, 3, 9)),
    ("Conv3d", (2, 3, 3), dict(padding=1, padding_mode="replicate"), (1, 2, 4, 4, 5)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layer, args, kw, shape", CONV_LAYERS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_LAYERS)])
def test_conv_layer_matches_torch(layer, args, kw, shape, dtype):
    ours, theirs = layer_twins(layer, args, kw, dtype)
    x = randn(shape, seed=1).astype(dtype)
    assert_close(ours(fk.tensor(x)), theirs(torch.from_numpy(x)), dtype, "forward")
    # every derivative through the layer's own forward path (its padding mode, then the convolution)
    params = [theirs.weight.detach().numpy()] + ([] if theirs.bias is None else [theirs.bias.detach().numpy()])
    check(lambda x, w, *b: ours._conv_forward(x, w, b[0] if b else None),
          lambda x, w, *b: theirs._conv_forward(x, w, b[0] if b else None), [x, *params], dtype,
          second=dtype == np.float64)
    # and back: our state dict into a fresh torch layer
    fresh = getattr(torch.nn, layer)(*args, **kw).to(TORCH_DTYPE[np.dtype(dtype)])
    fresh.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in ours.state_dict().items()}, strict=True)
    assert_close(ours(fk.tensor(x)), fresh(torch.from_numpy(x)), dtype, "forward after ours -> torch")


TRANSPOSED_LAYERS = [
    ("ConvTranspose2d", (4, 3, 3), dict(stride=2, padding=1, output_padding=1), (2, 4, 3, 4)),
    ("ConvTranspose2d", (4, 6, (2, 3)), dict(groups=2, dilation=2, bias=False), (1, 4, 3, 3)),
    ("ConvTranspose1d", (3, 2, 4), dict(stride=3, padding=1), (2, 3, 5)),
    ("ConvTranspose3d", (2, 2, 2), dict(stride=2), (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layer, args, kw, shape", TRANSPOSED_LAYERS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(TRANSPOSED_LAYERS)])
def test_transposed_layer_matches_torch(layer, args, kw, shape, dtype):
    ours, theirs = layer_twins(layer, args, kw, dtype)
    x = randn(shape, seed=2).astype(dtype)
    xf, xt = fk.tensor(x, requires_grad=True), torch.from_numpy(x).requires_grad_()
    out_f, out_t = ours(xf), theirs(xt)
    assert_close(out_f, out_t, dtype, "forward")
    up = randn(tuple(out_t.shape), seed=3).astype(dtype)
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.from_numpy(up))
    assert_close(xf.grad, xt.grad, dtype, "input gradient")
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert_close(p.grad, q.grad, dtype, f"gradient of {name}")


def test_transposed_layer_output_size_picks_output_padding():
    ours, theirs = layer_twins("ConvTranspose2d", (2, 3, 3), dict(stride=3, padding=1), np.float64)
    x = randn(1, 2, 4, 4, seed=4)
    for size in [(10, 10), (12, 11), [1, 3, 11, 12]]:
        assert_close(ours(fk.tensor(x), output_size=size), theirs(torch.from_numpy(x), output_size=size))
    with pytest.raises(ValueError, match=r"valid sizes range from \(10, 10\) to \(12, 12\)"):
        ours(fk.tensor(x), output_size=(13, 10))


@pytest.mark.parametrize("make", [
    lambda m: m.Conv2d(3, 8, 3, padding="same", padding_mode="reflect", bias=False),
    lambda m: m.Conv1d(2, 4, 5, stride=2, dilation=3, groups=2),
    lambda m: m.Conv3d(1, 2, (1, 2, 3), padding=(0, 1, 1)),
    lambda m: m.ConvTranspose2d(4, 8, (3, 2), stride=2, output_padding=1, groups=2),
    lambda m: m.ConvTranspose1d(2, 2, 3, dilation=2),
    lambda m: m.Fold((4, 5), 2), lambda m: m.Unfold((2, 3), padding=1),
    lambda m: m.ZeroPad2d((1, 2, 3, 4)), lambda m: m.ZeroPad1d(2), lambda m: m.ConstantPad1d(2, 3.5),
    lambda m: m.ConstantPad3d((1, 0, 0, 1, 2, 2), -1.0), lambda m: m.ReflectionPad2d(2),
    lambda m: m.ReplicationPad1d((1, 2)),
    lambda m: m.CircularPad2d(1), lambda m: m.ReflectionPad3d(1), lambda m: m.ReplicationPad3d(1),
    lambda m: m.CircularPad1d((0, 3)),
])
def test_repr_and_attributes_as_torch(make):
    ours, theirs = make(nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    for name in ("kernel_size", "stride", "padding", "dilation", "output_padding", "groups", "padding_mode",
                 "in_channels", "out_channels", "value", "output_size"):
        if hasattr(theirs, name):
            assert getattr(ours, name) == getattr(theirs, name), name


def test_initialisation_bounds_as_torch():
    """kaiming_uniform(a=√5) on the weight and U(±1/√fan_in) on the bias, fan_in = in/groups × Πkernel
    (for a transposed layer, the weight's second dim: out/groups)."""
    for layer, fan_in in [(nn.Conv2d(16, 32, 3, groups=2), 8 * 9), (nn.Conv1d(64, 64, 5), 64 * 5),
                          (nn.ConvTranspose2d(16, 32, (2, 3), groups=4), 8 * 6)]:
        bound = 1 / math.sqrt(fan_in)
        w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
        assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound  # uniform on ±bound
    assert nn.Conv2d(3, 8, 3, dtype=fk.float64).weight.dtype == fk.float64


@pytest.mark.parametrize("layer", ["ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad", "CircularPad"])
@pytest.mark.parametrize("dims", [1, 2, 3])
def test_padding_layers_match_torch(layer, dims):
    widths = (1, 2, 0, 1, 2, 1)[:2 * dims]
    args = (widths, 0.5) if layer == "ConstantPad" else (widths,)
    ours, theirs = getattr(nn, f"{layer}{dims}d")(*args), getattr(torch.nn, f"{layer}{dims}d")(*args)
    x = randn((2, 3, 4, 5, 4)[:dims + 2], seed=5)
    assert_close(ours(fk.tensor(x)), theirs(torch.from_numpy(x)))
    assert_close(ours(fk.tensor(x[0])), theirs(torch.from_numpy(x[0])))  # unbatched


def test_fold_and_unfold_layers_match_torch():
    x = randn(2, 3, 6, 5, seed=6)
    unfold, fold = nn.Unfold((2, 3), padding=1, stride=(2, 1)), nn.Fold((6, 5), (2, 3), padding=1, stride=(2, 1))
    cols = unfold(fk.tensor(x))
    want = torch.nn.Unfold((2, 3), padding=1, stride=(2, 1))(torch.from_numpy(x))
    assert_close(cols, want)
    assert_close(fold(cols), torch.nn.Fold((6, 5), (2, 3), padding=1, stride=(2, 1))(want))


def test_errors_name_the_layer_the_shapes_and_the_formula():
    conv = nn.Conv2d(1, 32, 3)
    with pytest.raises(fk.ShapeError) as info:
        conv(fk.randn(8, 3, 28, 28))
    msg = str(info.value)
    assert "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1))" in msg and "(8, 3, 28, 28)" in msg
    assert "(32, 1, 3, 3)" in msg and "in_channels=3" in msg
    with pytest.raises(fk.ShapeError) as info:
        nn.Conv2d(1, 4, 5, padding=1)(fk.randn(2, 1, 2, 2))
    msg = str(info.value)
    assert "Conv2d(1, 4, kernel_size=(5, 5)" in msg and "(2, 1, 2, 2)" in msg
    assert "O = ⌊(N + 2P − D(K−1) − 1)/S⌋ + 1 = (0, 0)" in msg
    with pytest.raises(fk.ShapeError, match=r"ConvTranspose2d\(2, 3"):
        nn.ConvTranspose2d(2, 3, 3)(fk.randn(1, 3, 4, 4))


def test_layer_argument_errors_as_torch():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="out_channels must be divisible by groups"):
        nn.Conv2d(4, 6, 3, groups=4)
    with pytest.raises(ValueError, match="not supported for strided"):
        nn.Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(3, 6, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match='Only "zeros" padding mode'):
        nn.ConvTranspose2d(3, 6, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.CircularPad2d(1)(fk.randn(4, 4))
