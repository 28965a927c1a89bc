"""nn.Linear's NTK parameterisation (seed 000 §6.1.8; fukaku's own option, PyTorch has none): W, b ~ N(0, 1),
y = (σ_w/√in)·x Wᵀ + σ_b·b, state-dict keys unchanged — and the default layer exactly as before (PyTorch's)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn as nn
from conformance import assert_close, randn


def test_the_default_linear_is_unchanged():
    fk.manual_seed(0)
    layer = nn.Linear(5, 3)
    fk.manual_seed(0)
    w, b = fk.empty(3, 5), fk.empty(3)
    nn.init.kaiming_uniform_(w, a=math.sqrt(5))
    nn.init.uniform_(b, -1 / math.sqrt(5), 1 / math.sqrt(5))
    assert np.array_equal(layer.weight.detach().numpy(), w.numpy())
    assert np.array_equal(layer.bias.detach().numpy(), b.numpy())
    assert layer.parameterization == "standard"
    assert layer.extra_repr() == "in_features=5, out_features=3, bias=True"
    x = randn(4, 5, seed=1).astype(np.float32)
    theirs = torch.nn.Linear(5, 3)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in layer.state_dict().items()})
    assert_close(layer(fk.tensor(x)), theirs(torch.tensor(x)))


@pytest.mark.parametrize("bias", [True, False])
def test_ntk_linear_computes_the_formula(bias):
    fk.manual_seed(1)
    layer = nn.Linear(4, 3, bias=bias, dtype=fk.float64, parameterization="ntk", sigma_w=1.5, sigma_b=0.3)
    assert list(layer.state_dict()) == (["weight", "bias"] if bias else ["weight"])
    x = randn(6, 4, seed=2)
    w = layer.weight.detach().numpy()
    want = 1.5 / math.sqrt(4) * x @ w.T + (0.3 * layer.bias.detach().numpy() if bias else 0.0)
    assert_close(layer(fk.tensor(x)), want, rtol=1e-14)
    # gradients see the weights at scale 1: ∂y/∂W = (σ_w/√in) x
    x_t = fk.tensor(x)
    layer(x_t).sum().backward()
    assert_close(layer.weight.grad, np.tile(1.5 / 2 * x.sum(0), (3, 1)), rtol=1e-13)
    if bias:
        assert_close(layer.bias.grad, np.full(3, 0.3 * 6), rtol=1e-13)
    assert "parameterization='ntk', sigma_w=1.5, sigma_b=0.3" in repr(layer)


def test_ntk_linear_draws_standard_normal_weights_and_loads_torch_state_dicts():
    fk.manual_seed(2)
    layer = nn.Linear(400, 300, parameterization="ntk")
    w, b = layer.weight.detach().numpy(), layer.bias.detach().numpy()
    assert abs(w.mean()) < 0.01 and abs(w.std() - 1) < 0.01  # 120 000 draws: s.e. 0.003
    assert abs(b.mean()) < 0.2 and abs(b.std() - 1) < 0.15
    theirs = torch.nn.Linear(400, 300)
    layer.load_state_dict({k: fk.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    assert np.array_equal(layer.weight.detach().numpy(), theirs.weight.detach().numpy())


def test_ntk_linear_arguments_are_checked():
    with pytest.raises(ValueError, match="'standard' or 'ntk'"):
        nn.Linear(2, 2, parameterization="mup")
    with pytest.raises(ValueError, match="parameterization='ntk'"):
        nn.Linear(2, 2, sigma_w=2.0)
    with pytest.raises(TypeError):
        nn.Linear(2, 2, True, None, None, "ntk")  # keyword-only


def test_a_linear_saved_before_the_option_existed_is_the_standard_layer():
    """A whole-module checkpoint restores __dict__ without running __init__: an older file lacks the new attributes."""
    layer = nn.Linear(3, 2)
    for name in ("parameterization", "sigma_w", "sigma_b"):
        del layer.__dict__[name]
    x = fk.randn(4, 3)
    assert_close(layer(x), x.numpy() @ layer.weight.detach().numpy().T + layer.bias.detach().numpy())
    assert layer.extra_repr() == "in_features=3, out_features=2, bias=True"
