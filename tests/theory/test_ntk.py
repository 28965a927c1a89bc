"""fukaku.theory.ntk (seed 000 §6.1.8, erratum C4): per-example Jacobians and the empirical NTK in both autodiff
modes against each other and against torch.func (jacrev + vmap, identical weights); the analytic NNGP/NTK
kernels against closed forms, Gauss–Hermite quadrature and Monte-Carlo wide networks; the linearised model and
the closed-form gradient-flow prediction against gradient descent."""
from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch
from torch.func import functional_call, jacrev, vmap

import fukaku as fk
from fukaku import nn, optim
from fukaku.theory.ntk import (LinearizedModel, empirical_ntk, gradient_flow_prediction, linearize, nngp_kernel,
                               ntk_kernel, ntk_mlp, per_example_jacobian)
from conformance import assert_close, randn


def _mlp(sizes, seed=0, **kw):
    fk.manual_seed(seed)
    return fk.models.MLP(sizes, dtype=fk.float64, **kw)


def _torch_twin(model: nn.Module, torch_model: torch.nn.Module) -> torch.nn.Module:
    torch_model.double().load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    return torch_model


def _torch_jacobian(torch_model, x: np.ndarray, fn=None) -> np.ndarray:
    """(n, k, P) by torch.func: vmap over examples of jacrev over the parameters."""
    params = {k: v.detach() for k, v in torch_model.named_parameters()}
    call = fn or (lambda p, xi: functional_call(torch_model, p, (xi[None],))[0].reshape(-1))
    jac = vmap(jacrev(call), (None, 0))(params, torch.tensor(x))
    n = x.shape[0]
    return torch.cat([jac[k].reshape(n, jac[k].shape[1], -1) for k in params], 2).numpy()


# ----------------------------------------------------------------------------- per-example Jacobians
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_an_mlp_matches_torch_func(mode):
    model = _mlp([4, 7, 5, 3], activation="tanh")
    twin = _torch_twin(model, torch.nn.Sequential(torch.nn.Linear(4, 7), torch.nn.Tanh(), torch.nn.Linear(7, 5),
                                                  torch.nn.Tanh(), torch.nn.Linear(5, 3)))
    x = randn(6, 4, seed=1)
    got = per_example_jacobian(model, fk.tensor(x), mode=mode)
    assert got.shape == (6, 3, model.num_parameters())
    assert_close(got, _torch_jacobian(twin, x), rtol=1e-12, atol=1e-12)


class _TorchNTKLinear(torch.nn.Linear):
    """torch's Linear computing the NTK parameterisation's (σ_w/√in)·x Wᵀ + σ_b·b: the oracle for fukaku's option."""

    def __init__(self, fan_in, fan_out, sigma_w, sigma_b):
        super().__init__(fan_in, fan_out)
        self.scales = (sigma_w / math.sqrt(fan_in), sigma_b)

    def forward(self, x):
        return torch.nn.functional.linear(x, self.weight * self.scales[0], self.bias * self.scales[1])


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_jacobian_of_an_ntk_network_matches_torch_func(mode):
    fk.manual_seed(4)
    model = ntk_mlp([3, 6, 2], "erf", weight_variance=2.0, bias_variance=0.3, dtype=fk.float64)
    sw, sb = math.sqrt(2.0), math.sqrt(0.3)
    twin = _torch_twin(model, torch.nn.Sequential(_TorchNTKLinear(3, 6, sw, sb), _TorchErf(),
                                                  _TorchNTKLinear(6, 2, sw, sb)))
    x = randn(5, 3, seed=5)
    assert_close(per_example_jacobian(model, fk.tensor(x), mode=mode), _torch_jacobian(twin, x), rtol=1e-12,
                 atol=1e-12)


class _TorchErf(torch.nn.Module):
    def forward(self, x):
        return torch.erf(x)


def test_both_modes_agree_on_an_ntk_network_with_several_outputs():
    fk.manual_seed(3)
    model = ntk_mlp([3, 16, 16, 2], "erf", weight_variance=2.0, bias_variance=0.3, dtype=fk.float64)
    x = fk.tensor(randn(5, 3, seed=2))
    rev = empirical_ntk(model, x, block="full", mode="reverse")
    fwd = empirical_ntk(model, x, block="full", mode="forward")
    assert rev.shape == (5, 5, 2, 2)
    assert_close(fwd, rev, rtol=1e-12, atol=1e-12)
    # the trace block is the sum of the diagonal of the full block, and the kernel is symmetric
    trace = empirical_ntk(model, x)
    assert_close(trace, rev.numpy()[:, :, 0, 0] + rev.numpy()[:, :, 1, 1], rtol=1e-12)
    assert_close(trace, trace.numpy().T, rtol=1e-12)


def test_forward_mode_tiles_in_chunks_when_the_batch_is_large(monkeypatch):
    """A small tile budget forces one forward pass per unit or per few units: the result must not change."""
    import fukaku.theory.ntk as ntk

    model = _mlp([3, 9, 4, 2])
    x = fk.tensor(randn(7, 3, seed=3))
    whole = per_example_jacobian(model, x, mode="forward").numpy()
    monkeypatch.setattr(ntk, "_TILE_ELEMENTS", 7 * 9 * 2)  # two units per pass, chunks of unequal size
    assert_close(per_example_jacobian(model, x, mode="forward"), whole, rtol=1e-14)
    assert_close(per_example_jacobian(model, x, mode="reverse"), whole, rtol=1e-12, atol=1e-14)


class _Odd(nn.Module):
    """A Linear used twice (shared weights), a LayerNorm, a parameter used elementwise and a 3-D input to a
    Linear: everything the forward mode's Linear shortcut does not apply to."""

    def __init__(self):
        super().__init__()
        self.shared = nn.Linear(3, 3, dtype=fk.float64)
        self.norm = nn.LayerNorm(3, dtype=fk.float64)
        self.scale = nn.Parameter(fk.tensor([0.5, -1.0, 2.0], dtype=fk.float64))
        self.seq = nn.Linear(3, 2, dtype=fk.float64)

    def forward(self, x):
        h = self.norm(self.shared(self.shared(x).tanh())) * self.scale
        return self.seq(h.unsqueeze(1).expand(-1, 2, -1)).sum(1)


class _TorchOdd(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.shared = torch.nn.Linear(3, 3)
        self.norm = torch.nn.LayerNorm(3)
        self.scale = torch.nn.Parameter(torch.tensor([0.5, -1.0, 2.0]))
        self.seq = torch.nn.Linear(3, 2)

    def forward(self, x):
        h = self.norm(self.shared(self.shared(x).tanh())) * self.scale
        return self.seq(h.unsqueeze(1).expand(-1, 2, -1)).sum(1)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_any_model_shared_weights_and_other_layers(mode):
    fk.manual_seed(5)
    model = _Odd()
    twin = _torch_twin(model, _TorchOdd())
    x = randn(4, 3, seed=4)
    assert_close(per_example_jacobian(model, fk.tensor(x), mode=mode), _torch_jacobian(twin, x),
                 rtol=1e-11, atol=1e-12)


class _ReadsWeight(nn.Module):
    """A Linear whose weight the forward also reads directly: the shortcut through the layer alone would miss
    that second use."""

    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(3, 4), nn.Linear(4, 2)

    def forward(self, x):
        return self.b(self.a(x).tanh()) + (x @ self.a.weight.T)[:, :2]


class _TorchReadsWeight(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = torch.nn.Linear(3, 4), torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.b(self.a(x).tanh()) + (x @ self.a.weight.T)[:, :2]


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_a_linear_weight_also_read_directly_is_followed(mode):
    fk.manual_seed(7)
    model = _ReadsWeight().double()
    twin = _torch_twin(model, _TorchReadsWeight())
    x = randn(4, 3, seed=9)
    assert_close(per_example_jacobian(model, fk.tensor(x), mode=mode), _torch_jacobian(twin, x), rtol=1e-12,
                 atol=1e-12)


@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_an_in_place_relu_after_a_linear_is_followed(mode):
    """ReLU(inplace=True) rewrites the Linear's output: the shortcut through that output must not be taken."""
    fk.manual_seed(6)
    model = nn.Sequential(nn.Linear(3, 5, dtype=fk.float64), nn.ReLU(inplace=True), nn.Linear(5, 2, dtype=fk.float64))
    twin = _torch_twin(model, torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(inplace=True),
                                                  torch.nn.Linear(5, 2)))
    x = randn(4, 3, seed=8)
    assert_close(per_example_jacobian(model, fk.tensor(x), mode=mode), _torch_jacobian(twin, x), rtol=1e-12,
                 atol=1e-12)


def test_cross_kernel_matches_torch_and_parameters_are_untouched():
    model = _mlp([2, 8, 1])
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    twin = _torch_twin(model, torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)))
    x1, x2 = randn(5, 2, seed=1), randn(3, 2, seed=2)
    want = np.einsum("icp,jcp->ij", _torch_jacobian(twin, x1), _torch_jacobian(twin, x2))
    for mode in ("reverse", "forward"):
        assert_close(empirical_ntk(model, fk.tensor(x1), fk.tensor(x2), mode=mode), want, rtol=1e-12)
    assert all(np.array_equal(before[k], v.numpy()) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())


def test_ten_thousand_parameters_on_a_hundred_inputs_within_ten_seconds():
    """The acceptance case of issue 15 (the benchmark prints the times; this bounds them)."""
    model = _mlp([10, 96, 96, 1])
    assert 10_000 <= model.num_parameters() <= 11_000
    x = fk.tensor(randn(100, 10, seed=0))
    times, kernels = {}, {}
    for mode in ("reverse", "forward"):
        start = time.perf_counter()
        kernels[mode] = empirical_ntk(model, x, mode=mode)
        times[mode] = time.perf_counter() - start
    assert_close(kernels["forward"], kernels["reverse"], rtol=1e-12, atol=1e-12)
    assert max(times.values()) <= 10.0, times


def test_errors_name_the_fix():
    model = _mlp([2, 3, 1])
    with pytest.raises(ValueError, match="mode must be 'reverse' or 'forward'"):
        per_example_jacobian(model, fk.randn(2, 2, dtype=fk.float64), mode="fwd")
    with pytest.raises(ValueError, match="block must be 'trace' or 'full'"):
        empirical_ntk(model, fk.randn(2, 2, dtype=fk.float64), block="diag")
    with pytest.raises(ValueError, match="one row per example"):
        per_example_jacobian(nn.Sequential(model, nn.Flatten(0)), fk.randn(2, 2, dtype=fk.float64).unsqueeze(0))
    with pytest.raises(ValueError, match="activation must be 'relu' or 'erf'"):
        nngp_kernel(fk.randn(2, 2), activation="tanh")
    with pytest.raises(ValueError, match="depth"):
        ntk_kernel(fk.randn(2, 2), depth=-1)


# ----------------------------------------------------------------------------- analytic kernels
def _gauss_hermite_moments(phi, dphi, s11, s22, s12, order=80):
    """E[φ(u)φ(v)], E[φ′(u)φ′(v)] by 2-D Gauss–Hermite quadrature: an oracle independent of the closed forms."""
    t, w = np.polynomial.hermite_e.hermegauss(order)
    w = w / w.sum()
    chol = np.linalg.cholesky(np.array([[s11, s12], [s12, s22]]))
    z1, z2 = np.meshgrid(t, t, indexing="ij")
    u = chol[0, 0] * z1
    v = chol[1, 0] * z1 + chol[1, 1] * z2
    ww = np.outer(w, w)
    return float((ww * phi(u) * phi(v)).sum()), float((ww * dphi(u) * dphi(v)).sum())


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_one_hidden_layer_kernels_match_quadrature(activation):
    from scipy.special import erf as sp_erf

    phi, dphi = {"relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
                 "erf": (sp_erf, lambda z: 2 / np.sqrt(np.pi) * np.exp(-z * z))}[activation]
    x = np.array([[1.0, 0.5, -0.3], [0.2, -1.0, 0.8]])
    wv, bv = 1.7, 0.2
    s = wv * x @ x.T / 3 + bv
    e, de = _gauss_hermite_moments(phi, dphi, s[0, 0], s[1, 1], s[0, 1], order=200 if activation == "relu" else 60)
    want_nngp = wv * e + bv
    want_ntk = want_nngp + wv * de * s[0, 1]
    kw = dict(depth=1, activation=activation, weight_variance=wv, bias_variance=bv)
    tol = 2e-3 if activation == "relu" else 1e-10  # the ReLU kink limits the quadrature, not the formula
    assert_close(nngp_kernel(fk.tensor(x), **kw)[0, 1], want_nngp, rtol=tol)
    assert_close(ntk_kernel(fk.tensor(x), **kw)[0, 1], want_ntk, rtol=tol)


def test_closed_forms_at_special_points():
    x = fk.tensor([[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]], dtype=fk.float64)
    # depth 0 is the linear model: Σ = Θ = σ_w² x·x'/d + σ_b²
    assert_close(nngp_kernel(x, depth=0, weight_variance=3.0, bias_variance=0.5),
                 3.0 * x.numpy() @ x.numpy().T / 2 + 0.5, rtol=1e-14)
    # He-initialised ReLU without bias: Σ^l(x, x) = q = 2|x|²/d at every layer, and each layer adds q to Θ(x, x)
    for depth in range(4):
        q = 2 * (x.numpy() ** 2).sum(1) / 2
        assert_close(np.diag(nngp_kernel(x, depth=depth, weight_variance=2.0, bias_variance=0.0).numpy()), q,
                     rtol=1e-13)
        assert_close(np.diag(ntk_kernel(x, depth=depth, weight_variance=2.0, bias_variance=0.0).numpy()),
                     (depth + 1) * q, rtol=1e-13)
    # orthogonal inputs through one ReLU layer: θ = π/2, so Σ = σ_w²√(q q′)/(2π) and Θ = Σ (Θ¹ = 0)
    k = nngp_kernel(x[:2], depth=1, weight_variance=2.0, bias_variance=0.0).numpy()
    assert_close(k[0, 1], 2.0 * 1.0 / (2 * math.pi), rtol=1e-14)
    assert_close(ntk_kernel(x[:2], depth=1, weight_variance=2.0, bias_variance=0.0)[0, 1], k[0, 1], rtol=1e-14)
    # erf on identical inputs: (2/π) arcsin(2q/(1 + 2q))
    q = 1.0 * 4.0 / 2
    assert_close(nngp_kernel(x[2:], depth=1, activation="erf", bias_variance=0.0)[0, 0],
                 2 / math.pi * math.asin(2 * q / (1 + 2 * q)), rtol=1e-14)
    assert nngp_kernel(x.float()).dtype == fk.float32


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_monte_carlo_wide_networks_approach_the_kernels(activation):
    cfg = dict(activation=activation, weight_variance=1.5, bias_variance=0.2)
    x = fk.tensor(randn(4, 3, seed=7))
    fk.manual_seed(11)
    # NNGP: the covariance of 3000 independent outputs (the last layer's rows are independent given the hidden
    # layers, whose own randomness is averaged by their width 3000)
    net = ntk_mlp([3, 3000, 3000, 3000], dtype=fk.float64, **cfg)
    with fk.no_grad():
        out = net(x).numpy()
    assert_close(out @ out.T / out.shape[1], nngp_kernel(x, depth=2, **cfg), rtol=0.08, atol=0.04)
    # NTK: one very wide network's empirical NTK
    wide = ntk_mlp([3, 4096, 1], dtype=fk.float64, **cfg)
    assert_close(empirical_ntk(wide, x, mode="forward"), ntk_kernel(x, depth=1, **cfg), rtol=0.06, atol=0.03)


# ----------------------------------------------------------------------------- linearisation and gradient flow
def test_linearized_model_is_the_first_order_taylor_model():
    fk.manual_seed(2)
    model = ntk_mlp([3, 12, 2], "erf", dtype=fk.float64)
    lin = linearize(model)
    assert isinstance(lin, LinearizedModel)
    x = fk.tensor(randn(5, 3, seed=3))
    assert_close(lin(x), model(x), rtol=1e-14)
    jac = per_example_jacobian(model, x).numpy()
    rng = np.random.default_rng(4)
    deltas = [rng.normal(0, 0.3, tuple(p.shape)) for p in lin.parameters()]
    with fk.no_grad():
        for p, d in zip(lin.parameters(), deltas):
            p.add_(fk.tensor(d))
    flat = np.concatenate([d.reshape(-1) for d in deltas])
    assert_close(lin(x), model(x).detach().numpy() + jac @ flat, rtol=1e-12, atol=1e-12)
    # its gradient is Jᵀv whatever θ is (the model is linear in θ), and the wrapped model is untouched
    v = randn(5, 2, seed=5)
    grads = fk.autograd.grad((lin(x) * fk.tensor(v)).sum(), list(lin.parameters()))
    assert_close(np.concatenate([g.numpy().reshape(-1) for g in grads]), np.einsum("ic,icp->p", v, jac), rtol=1e-12)
    assert [k for k in lin.state_dict()][:2] == ["params.0", "params.1"] and "initial.0" in lin.state_dict()
    assert len(list(lin.parameters())) == len(list(model.parameters()))


def _gd(model, x, y, lr, steps):
    opt = optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        (0.5 * ((model(x) - y) ** 2).sum()).backward()
        opt.step()


def _flow_gap(make, x, y, xt, time_, lr):
    """max |gradient-descent outputs − gradient-flow prediction| at the training and test points."""
    model = make()
    k, kt = empirical_ntk(model, x), empirical_ntk(model, xt, x)
    with fk.no_grad():
        f0, f0t = model(x), model(xt)
    _gd(model, x, y, lr, round(time_ / lr))
    with fk.no_grad():
        train, test = model(x).numpy(), model(xt).numpy()
    pred = gradient_flow_prediction(k, y, time_, lr=1.0, f0_train=f0)
    pred_t = gradient_flow_prediction(k, y, time_, lr=1.0, f0_train=f0, kernel_test=kt, f0_test=f0t)
    return max(np.abs(pred.numpy() - train).max(), np.abs(pred_t.numpy() - test).max())


@pytest.mark.parametrize("kind", ["linear model", "linearised MLP"])
def test_gradient_flow_prediction_is_the_limit_of_gradient_descent(kind):
    x, y, xt = fk.tensor(randn(6, 3, seed=1)), fk.tensor(randn(6, 1, seed=2)), fk.tensor(randn(4, 3, seed=3))

    def make():
        fk.manual_seed(9)
        if kind == "linear model":  # the NTK of a linear model is exact: K = x·x' + 1
            return nn.Linear(3, 1, dtype=fk.float64)
        return LinearizedModel(ntk_mlp([3, 20, 1], dtype=fk.float64))

    time_ = 0.2
    gaps = [_flow_gap(make, x, y, xt, time_, lr) for lr in (0.004, 0.002)]
    assert gaps[0] < 2e-2 and 1.6 < gaps[0] / gaps[1] < 2.4, gaps  # gradient descent → flow at first order in η


def test_gradient_flow_prediction_limits_and_a_singular_kernel():
    x = randn(3, 2, seed=1)
    k = x @ x.T  # rank 2 of 3: a zero eigenvalue
    y, f0 = randn(3, seed=2), randn(3, seed=3)
    assert_close(gradient_flow_prediction(fk.tensor(k), fk.tensor(y), 0.0, f0_train=fk.tensor(f0)), f0, rtol=1e-14)
    late = gradient_flow_prediction(fk.tensor(k), fk.tensor(y), 1e4, lr=0.5, f0_train=fk.tensor(f0)).numpy()
    lam, v = np.linalg.eigh(k)
    keep = lam > 1e-10  # flow converges to y on the kernel's range and leaves its null space alone
    assert_close(v[:, keep].T @ late, v[:, keep].T @ y, rtol=1e-9, atol=1e-9)
    assert_close(v[:, ~keep].T @ late, v[:, ~keep].T @ f0, rtol=1e-9, atol=1e-9)
    two = gradient_flow_prediction(fk.tensor(k), fk.tensor(np.stack([y, 2 * y], 1)), 0.7)
    assert two.shape == (3, 2)
    assert_close(two.numpy()[:, 1], 2 * two.numpy()[:, 0], rtol=1e-13)
    # an expm check at a positive-definite kernel: f_t = (I − e^{−Kt}) y from f_0 = 0
    from scipy.linalg import expm

    kp = k + np.eye(3)
    assert_close(gradient_flow_prediction(fk.tensor(kp), fk.tensor(y), 0.7), (np.eye(3) - expm(-0.7 * kp)) @ y,
                 rtol=1e-12)
