"""Bilinear (fukaku.nn.functional.bilinear and nn.Bilinear) against PyTorch: values, every
derivative through the conformance harness, state dicts both ways, torch's initialisation and
the errors."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from conformance import FLOATS, assert_close, check, randn

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch", [(4,), (2, 3), ()], ids=["N", "N-L", "unbatched"])
def test_functional_bilinear(batch, dtype):
    x1, x2 = randn(*batch, 3, seed=1), randn(*batch, 4, seed=2)
    weight, bias = randn(5, 3, 4, seed=3), randn(5, seed=4)
    check(F.bilinear, TF.bilinear, [x1, x2, weight, bias], dtype, second=True)
    check(F.bilinear, TF.bilinear, [x1, x2, weight], dtype, second=True)


def test_bilinear_is_x1_a_x2_per_output():
    x1, x2, a = randn(3, seed=1), randn(4, seed=2), randn(2, 3, 4, seed=3)
    got = F.bilinear(fk.tensor(x1), fk.tensor(x2), fk.tensor(a)).numpy()
    np.testing.assert_allclose(got, [x1 @ a[o] @ x2 for o in range(2)], rtol=1e-13)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("bias", [True, False])
def test_bilinear_layer_matches_torch_both_ways(bias, dtype):
    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(3, 4, 5, bias=bias).to(TORCH_DTYPE[np.dtype(dtype)])
    ours = nn.Bilinear(3, 4, 5, bias=bias, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    shapes = [tuple(v.shape) for v in theirs.state_dict().values()]
    assert [tuple(v.shape) for v in ours.state_dict().values()] == shapes
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}, strict=True)
    x1, x2 = randn(6, 3, dtype=dtype, seed=1), randn(6, 4, dtype=dtype, seed=2)
    a1, a2 = fk.tensor(x1, requires_grad=True), fk.tensor(x2, requires_grad=True)
    b1, b2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out_f, out_t = ours(a1, a2), theirs(b1, b2)
    assert_close(out_f, out_t, dtype, "forward")
    up = randn(6, 5, dtype=dtype, seed=3)
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.tensor(up))
    assert_close(a1.grad, b1.grad, dtype, "input1 gradient")
    assert_close(a2.grad, b2.grad, dtype, "input2 gradient")
    for name, p in ours.named_parameters():
        assert_close(p.grad, dict(theirs.named_parameters())[name].grad, dtype, f"gradient of {name}")
    fresh = torch.nn.Bilinear(3, 4, 5, bias=bias).to(TORCH_DTYPE[np.dtype(dtype)])
    fresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    assert_close(ours(fk.tensor(x1), fk.tensor(x2)), fresh(torch.tensor(x1), torch.tensor(x2)), dtype, "ours -> torch")


def test_bilinear_init_is_torchs_and_repr_matches():
    """Weight and bias U(−1/√in1, 1/√in1): std bound/√3 (40,000 weights, 200 biases)."""
    fk.manual_seed(0)
    layer = nn.Bilinear(25, 8, 200)
    bound = 1 / math.sqrt(25)
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound
    assert abs(b.std() - bound / math.sqrt(3)) < 0.15 * bound
    assert abs(w.mean()) < 0.01 * bound
    assert nn.Bilinear(2, 3, 4, dtype=fk.float64).weight.dtype == fk.float64
    for build in (lambda m: m.Bilinear(2, 3, 4), lambda m: m.Bilinear(2, 3, 4, bias=False)):
        assert repr(build(nn)) == repr(build(torch.nn))
    model = nn.Sequential()
    model.append(nn.Bilinear(2, 3, 4))  # state-dict keys as torch's inside a container
    assert list(model.state_dict()) == ["0.weight", "0.bias"]


def test_bilinear_errors_name_the_shapes():
    w = fk.randn(5, 3, 4)
    with pytest.raises(fk.ShapeError, match=r"bilinear: input dimensions do not match.*\(2, 3\).*\(4,\)"):
        F.bilinear(fk.randn(2, 3), fk.randn(4), w)
    with pytest.raises(fk.ShapeError, match=r"bilinear: input batch dimensions do not match.*\(2, 3\).*\(6, 4\)"):
        F.bilinear(fk.randn(2, 3), fk.randn(6, 4), w)
    with pytest.raises(fk.ShapeError, match=r"bilinear: input1 of shape \(2, 2\).*in1_features = 3"):
        F.bilinear(fk.randn(2, 2), fk.randn(2, 4), w)
    with pytest.raises(fk.ShapeError, match=r"bilinear: input2 of shape \(2, 5\).*in2_features = 4"):
        F.bilinear(fk.randn(2, 3), fk.randn(2, 5), w)
    with pytest.raises(fk.ShapeError, match=r"bilinear: bias of shape \(3,\).*expected \(5,\)"):
        F.bilinear(fk.randn(2, 3), fk.randn(2, 4), w, fk.randn(3))
    with pytest.raises(fk.ShapeError, match=r"bilinear: weight must be 3-d"):
        F.bilinear(fk.randn(2, 3), fk.randn(2, 4), fk.randn(3, 4))
    with pytest.raises(TypeError, match="input2 has dtype"):
        F.bilinear(fk.randn(2, 3), fk.randn(2, 4, dtype=fk.float64), w)
    with pytest.raises(ValueError, match="in1_features"):
        nn.Bilinear(-1, 2, 3)
