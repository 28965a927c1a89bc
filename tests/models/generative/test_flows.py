"""fukaku.models.generative.flows: every layer inverts exactly, its log-determinant equals the brute-force
Jacobian's (reverse-mode autograd, float64), the flow's log_prob is the change of variables (against
torch.distributions at the identity), gradients pass finite differences, and actnorm starts normalised."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.autograd.functional import jacobian
from fukaku.autograd.gradcheck import gradcheck
from fukaku.models.generative.flows import ActNorm, AffineCoupling, InvertibleLinear, NormalizingFlow, RealNVP, Reverse


def _perturb(module, scale=0.3, seed=0):
    g = fk.Generator().manual_seed(seed)
    with fk.no_grad():
        for p in module.parameters():
            p.add_(scale * fk.randn(*p.shape, generator=g, dtype=p.dtype))
    return module


def _layers():
    fk.manual_seed(0)
    coupling = _perturb(AffineCoupling(3, 8, mask=[1, 0, 1]).double())
    actnorm = _perturb(ActNorm(3).double().eval())
    linear = _perturb(InvertibleLinear(3).double())
    return {"coupling": coupling, "actnorm": actnorm, "linear": linear, "reverse": Reverse()}


@pytest.mark.parametrize("name", ["coupling", "actnorm", "linear", "reverse"])
def test_layer_inverts_and_its_log_det_is_the_jacobians(name):
    layer = _layers()[name]
    x = fk.randn(5, 3, dtype=fk.float64)
    y, log_det = layer(x)
    np.testing.assert_allclose(layer.inverse(y).detach().numpy(), x.numpy(), atol=1e-12)
    for i in range(5):
        J = jacobian(lambda v: layer(v.reshape(1, 3))[0].reshape(3), x[i]).numpy()
        assert float(log_det[i]) == pytest.approx(np.log(abs(np.linalg.det(J))), abs=1e-10)


@pytest.mark.parametrize("glow", [True, False])
def test_realnvp_round_trip_and_change_of_variables(glow):
    fk.manual_seed(1)
    flow = RealNVP(2, 3, 16, glow=glow).double()
    flow(fk.randn(32, 2, dtype=fk.float64) * 3)   # actnorm's first batch
    flow = _perturb(flow).eval()
    x = fk.randn(6, 2, dtype=fk.float64)
    z, log_det = flow(x)
    np.testing.assert_allclose(flow.inverse(z).detach().numpy(), x.numpy(), atol=1e-10)
    normal = torch.distributions.Normal(0.0, 1.0)
    expected = normal.log_prob(torch.tensor(z.detach().numpy())).sum(1).numpy() + log_det.detach().numpy()
    np.testing.assert_allclose(flow.log_prob(x).detach().numpy(), expected, rtol=1e-12)


def test_identity_start_gives_the_standard_normal_density():
    flow = RealNVP(2, 2, 8, glow=False).double()   # couplings start as the identity
    x = fk.randn(10, 2, dtype=fk.float64)
    expected = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64),
                                                      torch.eye(2, dtype=torch.float64))
    np.testing.assert_allclose(flow.log_prob(x).detach().numpy(),
                               expected.log_prob(torch.tensor(x.numpy())).numpy(), rtol=1e-12)


def test_log_prob_gradients_pass_finite_differences():
    fk.manual_seed(2)
    coupling = _perturb(AffineCoupling(2, 4).double())
    flow = NormalizingFlow([coupling, Reverse(), _perturb(InvertibleLinear(2).double(), seed=3)], dim=2)
    x = fk.randn(3, 2, dtype=fk.float64, requires_grad=True)
    assert gradcheck(lambda v: flow.log_prob(v), (x,))
    weight = flow.layers[2].weight
    assert gradcheck(lambda w: NormalizingFlow([Reverse()], 2).log_prob(x.detach() @ w.T).sum()
                     + fk.linalg.slogdet(w)[1], (weight.detach().clone().requires_grad_(),))


def test_actnorm_starts_from_the_first_batch():
    layer = ActNorm(3)
    x = fk.randn(500, 3) * fk.tensor([1.0, 3.0, 0.5]) + fk.tensor([2.0, -1.0, 0.0])
    y, _ = layer(x)
    np.testing.assert_allclose(y.detach().numpy().mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(y.detach().numpy().std(0, ddof=1), 1, atol=1e-3)
    before = layer.bias.detach().numpy().copy()
    layer(x * 10)   # initialised once only
    np.testing.assert_array_equal(layer.bias.detach().numpy(), before)
    assert "initialized" in layer.state_dict()


def test_sampling_is_one_inverse_pass():
    fk.manual_seed(4)
    flow = RealNVP(2, 2, 8)
    g1, g2 = fk.Generator().manual_seed(7), fk.Generator().manual_seed(7)
    np.testing.assert_allclose(flow.sample(20, generator=g1).numpy(), flow.inverse(fk.randn(20, 2, generator=g2)).detach().numpy())


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="mask"):
        AffineCoupling(3, mask=[1, 1, 1])
    with pytest.raises(ValueError, match="mask"):
        AffineCoupling(3, mask=[1, 0])
    with pytest.raises(ValueError, match="at least 2"):
        RealNVP(1)
