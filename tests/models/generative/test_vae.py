"""fukaku.models.generative's VAE and its densities against independent oracles: torch.distributions for the
log-densities and the closed-form KL (with derivatives), a Monte Carlo estimate of the KL, the same VAE in
PyTorch (same weights, same ε) for the ELBO and the importance weights, and the exact log p(x) of a linear
Gaussian VAE (p(x) = N(b, WWᵀ + σ²I)) for the importance-sampled estimate."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.distributions as D
import torch.nn.functional as tF

import fukaku as fk
from conformance import assert_close, check
from fukaku.models.generative import VAE, bernoulli_log_prob, normal_kl_standard, normal_log_prob
from models.test_cnn import one_torch_thread  # noqa: F401 (autouse fixture: one torch thread)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- densities
def test_normal_kl_standard_against_torch_with_derivatives():
    mu, logvar = _rng(0).normal(0, 1, (4, 3)), _rng(1).normal(0, 0.7, (4, 3))
    check(normal_kl_standard,
          lambda m, lv: D.kl_divergence(D.Normal(m, (0.5 * lv).exp()), D.Normal(torch.zeros_like(m), 1.0)).sum(-1),
          [mu, logvar])


def test_normal_kl_standard_against_monte_carlo():
    mu, logvar = np.array([0.8, -0.3]), np.array([-0.5, 0.4])
    sd = np.exp(0.5 * logvar)
    z = mu + sd * _rng(2).standard_normal((400_000, 2))
    log_q = -0.5 * (np.log(2 * np.pi) + logvar + (z - mu) ** 2 / sd ** 2).sum(1)
    log_p = -0.5 * (np.log(2 * np.pi) + z ** 2).sum(1)
    mc, se = (log_q - log_p).mean(), (log_q - log_p).std() / np.sqrt(len(z))
    closed = normal_kl_standard(fk.tensor(mu), fk.tensor(logvar)).item()
    assert abs(closed - mc) < 4 * se
    assert normal_kl_standard(fk.zeros(2, 3), fk.zeros(2, 3)).abs().max().item() == 0.0   # q = p: KL 0


def test_normal_log_prob_against_torch_with_derivatives():
    x, mu, logvar = _rng(0).normal(0, 1, (5, 3)), _rng(1).normal(0, 1, (5, 3)), _rng(2).normal(0, 0.5, (5, 3))
    check(normal_log_prob, lambda a, m, lv: D.Normal(m, (0.5 * lv).exp()).log_prob(a).sum(-1), [x, mu, logvar])


def test_bernoulli_log_prob_against_torch():
    logits = _rng(0).normal(0, 2, (5, 4))
    binary = (_rng(1).uniform(size=(5, 4)) < 0.5).astype(np.float64)
    check(lambda l: bernoulli_log_prob(fk.tensor(binary), l),
          lambda l: D.Bernoulli(logits=l).log_prob(torch.tensor(binary)).sum(-1), [logits])
    grey = _rng(2).uniform(size=(5, 4))                                  # grey levels: minus the summed BCE
    want = -tF.binary_cross_entropy_with_logits(torch.tensor(logits), torch.tensor(grey), reduction="none").sum(-1)
    assert_close(bernoulli_log_prob(fk.tensor(grey), fk.tensor(logits)), want)
    with pytest.raises(fk.ShapeError, match="bernoulli_log_prob"):
        bernoulli_log_prob(fk.rand(5, 4), fk.rand(5, 3))


# ----------------------------------------------------------------------------- the model against PyTorch
def _torch_parts(vae: VAE):
    """The VAE's encoder and decoder as torch functions of the same weights."""
    state = {k: torch.tensor(v.numpy()) for k, v in vae.state_dict().items()}

    def mlp(prefix, n_layers):
        def f(t):
            for i in range(n_layers):
                t = t @ state[f"{prefix}.{2 * i}.weight"].T + state[f"{prefix}.{2 * i}.bias"]
                if i < n_layers - 1:
                    t = torch.relu(t)
            return t
        return f

    layers = len(vae.hidden) + 1
    return mlp("encoder", layers), mlp("decoder", layers), state


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_elbo_matches_torch_with_the_same_noise(likelihood):
    fk.manual_seed(0)
    vae = VAE(6, latent_features=3, hidden=(5,), likelihood=likelihood, dtype=fk.float64)
    if likelihood == "gaussian":
        with fk.no_grad():
            vae.decoder_logvar.copy_(fk.tensor(_rng(3).normal(0, 0.3, 6)))
    x = _rng(4).uniform(size=(7, 6))
    elbo = vae.elbo(fk.tensor(x), generator=fk.Generator().manual_seed(11))
    eps = fk.randn(7, 3, generator=fk.Generator().manual_seed(11), dtype=fk.float64).numpy()
    enc, dec, state = _torch_parts(vae)
    out = enc(torch.tensor(x))
    mu, logvar = out[:, :3], out[:, 3:]
    z = mu + (0.5 * logvar).exp() * torch.tensor(eps)
    if likelihood == "bernoulli":
        log_px = -tF.binary_cross_entropy_with_logits(dec(z), torch.tensor(x), reduction="none").sum(1)
    else:
        log_px = D.Normal(dec(z), (0.5 * state["decoder_logvar"]).exp()).log_prob(torch.tensor(x)).sum(1)
    kl = D.kl_divergence(D.Normal(mu, (0.5 * logvar).exp()), D.Normal(torch.zeros_like(mu), 1.0)).sum(1)
    assert_close(elbo, log_px - kl)
    assert tuple(elbo.shape) == (7,)


def test_importance_weights_match_torch_with_the_same_noise():
    fk.manual_seed(1)
    vae = VAE(6, latent_features=2, hidden=(5,), dtype=fk.float64)
    x = (_rng(5).uniform(size=(4, 6)) < 0.5).astype(np.float64)
    k = 9
    got = vae.log_likelihood(fk.tensor(x), k=k, generator=fk.Generator().manual_seed(3))
    eps = torch.tensor(fk.randn(k, 4, 2, generator=fk.Generator().manual_seed(3), dtype=fk.float64).numpy())
    enc, dec, _ = _torch_parts(vae)
    out = enc(torch.tensor(x))
    q = D.Normal(out[:, :2], (0.5 * out[:, 2:]).exp())
    z = q.loc + q.scale * eps
    log_w = (D.Bernoulli(logits=dec(z)).log_prob(torch.tensor(x).expand(k, 4, 6)).sum(-1)
             + D.Normal(0.0, 1.0).log_prob(z).sum(-1) - q.log_prob(z).sum(-1))
    assert_close(got, torch.logsumexp(log_w, 0) - np.log(k))


def _linear_gaussian_vae(seed: int) -> tuple[VAE, np.ndarray, np.ndarray]:
    """A VAE with no hidden layer (x = Wz + b + σ·noise, σ² = e⁻¹) whose W has orthogonal columns, so that the
    posterior p(z | x) = N(ΣWᵀ(x − b)/σ², Σ), Σ = (I + WᵀW/σ²)⁻¹, is diagonal. Returns it, W and b."""
    fk.manual_seed(seed)
    vae = VAE(4, latent_features=2, hidden=(), likelihood="gaussian", dtype=fk.float64)
    q, _ = np.linalg.qr(_rng(seed).normal(size=(4, 2)))
    w, b = q * np.array([1.5, 0.7]), _rng(seed + 1).normal(size=4)
    with fk.no_grad():
        vae.decoder_logvar.fill_(-1.0)
        vae.decoder[0].weight.copy_(fk.tensor(w))
        vae.decoder[0].bias.copy_(fk.tensor(b))
    return vae, w, b


def _exact_log_px(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    cov = torch.tensor(w @ w.T + np.exp(-1.0) * np.eye(len(b)))
    return D.MultivariateNormal(torch.tensor(b), cov).log_prob(torch.tensor(x)).numpy()


def test_importance_sampling_with_the_exact_posterior_is_exact_for_every_k():
    """q = p(z | x) makes every importance weight p(x, z)/q(z | x) equal p(x): the estimate is exact at any k."""
    vae, w, b = _linear_gaussian_vae(2)
    var = 1 / (1 + (w ** 2).sum(0) / np.exp(-1.0))                      # diag Σ
    with fk.no_grad():
        vae.encoder[0].weight.copy_(fk.tensor(np.concatenate([var[:, None] * w.T / np.exp(-1.0), np.zeros((2, 4))])))
        vae.encoder[0].bias.copy_(fk.tensor(np.concatenate([-(var[:, None] * w.T / np.exp(-1.0)) @ b, np.log(var)])))
    x = _rng(6).normal(0, 1, (30, 4)) + b
    with fk.no_grad():
        for k in (1, 7):
            assert_close(vae.log_likelihood(fk.tensor(x), k=k), _exact_log_px(x, w, b), rtol=1e-10, atol=1e-10)


def test_importance_sampling_rises_with_k_above_the_elbo_and_below_log_px():
    """With a poor proposal (the encoder left random) the estimate is a bound: its mean rises with k, equals the
    ELBO's at k = 1, and stays below the exact log p(x) of the linear Gaussian VAE."""
    vae, w, b = _linear_gaussian_vae(3)
    x = _rng(7).normal(0, 1, (30, 4)) + b
    exact = _exact_log_px(x, w, b)
    g = fk.Generator().manual_seed(0)
    with fk.no_grad():
        elbo = np.mean([vae.elbo(fk.tensor(x), generator=g).numpy() for _ in range(400)])
        means = [np.mean([vae.log_likelihood(fk.tensor(x), k=k, generator=g).numpy() for _ in range(reps)])
                 for k, reps in ((1, 400), (10, 100), (100, 20))]
        many = vae.log_likelihood(fk.tensor(x), k=4000, generator=g).numpy().mean()
    # standard errors of the means here: 0.07 (ELBO and k = 1), 0.014 (k = 10), 0.01 (k = 100), 0.01 (k = 4000)
    assert means[0] + 0.5 < means[1] < means[2] - 0.1                    # increases with k
    assert means[2] - 0.05 < many < exact.mean() + 0.05                  # ... towards log p(x), not above it
    assert elbo < exact.mean() - 1.0                                     # a loose proposal: a loose bound
    assert means[0] == pytest.approx(elbo, abs=0.3)                      # k = 1: the ELBO in expectation


def test_sample_shapes_and_ranges_and_state_dict_round_trip(tmp_path):
    fk.manual_seed(3)
    vae = VAE(8, latent_features=2, hidden=(6, 4))
    images = vae.sample(5, generator=fk.Generator().manual_seed(0))
    assert tuple(images.shape) == (5, 8) and 0 <= images.min().item() and images.max().item() <= 1
    out, mu, logvar = vae(fk.rand(3, 8))
    assert tuple(out.shape) == (3, 8) and tuple(mu.shape) == tuple(logvar.shape) == (3, 2)
    fk.save(vae.state_dict(), tmp_path / "vae.pt")
    other = VAE(8, latent_features=2, hidden=(6, 4))
    other.load_state_dict(fk.load(tmp_path / "vae.pt"))
    assert fk.equal(other.sample(4, generator=fk.Generator().manual_seed(1)),
                    vae.sample(4, generator=fk.Generator().manual_seed(1)))
    gaussian = VAE(8, likelihood="gaussian")
    assert "decoder_logvar" in gaussian.state_dict()


def test_training_raises_the_elbo():
    fk.manual_seed(4)
    x = fk.tensor((_rng(7).uniform(size=(64, 8)) < np.linspace(0.1, 0.9, 8)).astype(np.float32))
    vae = VAE(8, latent_features=2, hidden=(16,))
    optimizer = fk.optim.Adam(vae.parameters(), lr=1e-2)
    with fk.no_grad():
        before = vae.elbo(x, generator=fk.Generator().manual_seed(0)).mean().item()
    for _ in range(150):
        optimizer.zero_grad()
        vae.loss(x).backward()
        optimizer.step()
    with fk.no_grad():
        after = vae.elbo(x, generator=fk.Generator().manual_seed(0)).mean().item()
    assert after > before + 1.0


def test_errors():
    with pytest.raises(ValueError, match="likelihood"):
        VAE(8, likelihood="poisson")
    with pytest.raises(fk.ShapeError, match=r"VAE.encode: input must have shape \(N, 8\)"):
        VAE(8).elbo(fk.rand(3, 7))
    with pytest.raises(ValueError, match="k must be >= 1"):
        VAE(8).log_likelihood(fk.rand(3, 8), k=0)
