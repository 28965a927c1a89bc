"""fukaku.distributions.MultivariateNormal against torch, in its three parameterisations."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from conformance import FLOATS, assert_close, check, randn

import fukaku as fk
from fukaku import distributions as fd

TD = torch.distributions


def _spd(a, lib):
    """A symmetric positive-definite matrix from any square ``a`` (batched): a·aᵀ + I."""
    return a @ a.mT + lib.eye(a.shape[-1], dtype=a.dtype)


def _lower(a, lib):
    """A lower-triangular matrix with a positive diagonal from any square ``a``."""
    return a.tril(-1) + lib.diag_embed(a.diagonal(dim1=-2, dim2=-1).exp())


BUILD = {
    "covariance_matrix": lambda lib, a: dict(covariance_matrix=_spd(a, lib)),
    "precision_matrix": lambda lib, a: dict(precision_matrix=_spd(a, lib)),
    "scale_tril": lambda lib, a: dict(scale_tril=_lower(a, lib)),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("param", sorted(BUILD))
def test_log_prob_and_entropy_match_torch_in_each_parameterisation(dtype, param):
    loc, a, value = randn(2, 3), 0.5 * randn(3, 3, seed=1), randn(4, 2, 3, seed=2)
    rtol = 2e-4 if dtype == np.float32 else None  # a solve and a Cholesky factorisation in float32
    check(lambda m, a, v: fd.MultivariateNormal(m, **BUILD[param](fk, a)).log_prob(v),
          lambda m, a, v: TD.MultivariateNormal(m, **BUILD[param](torch, a)).log_prob(v),
          [loc, a, value], dtype, rtol=rtol, second=dtype == np.float64, fwd_over_rev=False)
    check(lambda m, a: fd.MultivariateNormal(m, **BUILD[param](fk, a)).entropy(),
          lambda m, a: TD.MultivariateNormal(m, **BUILD[param](torch, a)).entropy(), [loc, a], dtype, rtol=rtol,
          second=False)
    for prop in ("mean", "variance", "covariance_matrix", "precision_matrix", "scale_tril"):
        check(lambda m, a, prop=prop: getattr(fd.MultivariateNormal(m, **BUILD[param](fk, a)), prop),
              lambda m, a, prop=prop: getattr(TD.MultivariateNormal(m, **BUILD[param](torch, a)), prop),
              [loc, a], dtype, rtol=rtol, second=False, jvp=False)


def test_rsample_is_loc_plus_l_times_the_default_generators_draws_and_moments():
    loc = fk.tensor([1.0, -2.0], dtype=fk.float64, requires_grad=True)
    cov = fk.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=fk.float64)
    fk.manual_seed(4)
    n = 20000
    x = fd.MultivariateNormal(loc, cov).rsample((n,))
    fk.manual_seed(4)
    eps = fk.randn(n, 2, dtype=fk.float64).numpy()
    L = np.linalg.cholesky(cov.numpy())
    assert_close(x.detach(), loc.detach().numpy() + eps @ L.T)
    x.sum().backward()
    assert_close(loc.grad, np.full(2, float(n)))
    xs = x.detach().numpy()
    assert np.all(np.abs(xs.mean(0) - [1.0, -2.0]) < 5 * np.sqrt(np.diag(cov.numpy()) / n))
    sample_cov = np.cov(xs.T)
    se = np.sqrt((cov.numpy() ** 2 + np.outer(np.diag(cov.numpy()), np.diag(cov.numpy()))) / n)  # Var of s_ij
    assert np.all(np.abs(sample_cov - cov.numpy()) < 5 * se)


def test_shapes_broadcasting_expand_and_errors():
    d = fd.MultivariateNormal(fk.zeros(4, 1, 3), scale_tril=fk.eye(3).expand(2, 3, 3))
    assert d.batch_shape == (4, 2) and d.event_shape == (3,)
    assert d.sample((5,)).shape == (5, 4, 2, 3) and d.log_prob(fk.zeros(3)).shape == (4, 2)
    assert d.entropy().shape == (4, 2) and d.variance.shape == (4, 2, 3)
    e = d.expand((6, 4, 2))
    assert e.batch_shape == (6, 4, 2) and e.rsample().shape == (6, 4, 2, 3) and e.covariance_matrix.shape == (6, 4, 2, 3, 3)
    assert_close(fd.MultivariateNormal(fk.zeros(2), fk.eye(2)).log_prob(fk.zeros(2)), np.float32(-math.log(2 * math.pi)))
    with pytest.raises(ValueError, match="exactly one of covariance_matrix or precision_matrix or scale_tril"):
        fd.MultivariateNormal(fk.zeros(2))
    with pytest.raises(ValueError, match="exactly one"):
        fd.MultivariateNormal(fk.zeros(2), fk.eye(2), scale_tril=fk.eye(2))
    with pytest.raises(ValueError, match=r"last two dims must be \(2, 2\)"):
        fd.MultivariateNormal(fk.zeros(2), fk.eye(3))
    with pytest.raises(ValueError, match=r"parameter covariance_matrix .*MultivariateNormal.*PositiveDefinite"):
        fd.MultivariateNormal(fk.zeros(2), fk.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match=r"parameter scale_tril .*LowerCholesky"):
        fd.MultivariateNormal(fk.zeros(2), scale_tril=fk.tensor([[1.0, 1.0], [0.0, 1.0]]))
