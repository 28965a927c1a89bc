"""fukaku.models.generative.vae_gan: the three objectives against a hand computation with the same draws
(the text's L = L_recon + λ1 KL + λ2 L_GAN, L_recon in the discriminator's feature space), and a training
step that moves each part by the gradient of its own objective only."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.models.generative.vae_gan import VAEGAN


def _softplus(v: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, v)


def test_losses_match_a_hand_computation():
    fk.manual_seed(0)
    model = VAEGAN(6, latent_features=3, hidden=(5,), lambda_kl=0.7, lambda_gan=0.3).double()
    x = fk.rand(4, 6, dtype=fk.float64)
    parts = model.losses(x, generator=fk.Generator().manual_seed(9))
    replay = fk.Generator().manual_seed(9)   # the same draws: ε for z, then z_p
    eps, z_p = fk.randn(4, 3, generator=replay, dtype=fk.float64), fk.randn(4, 3, generator=replay, dtype=fk.float64)
    with fk.no_grad():
        out = model.encoder(x).numpy()
        mu, logvar = out[:, :3], out[:, 3:]
        z = mu + np.exp(0.5 * logvar) * eps.numpy()
        x_recon, x_prior = model.decoder(fk.tensor(z)), model.decoder(z_p)
        (f_real, l_real), (f_recon, l_recon), (_, l_prior) = (
            tuple(t.numpy() for t in model.discriminate(v)) for v in (x, x_recon, x_prior))
    recon = 0.5 * ((f_recon - f_real) ** 2).sum(1).mean()
    kl = 0.5 * (mu ** 2 + np.exp(logvar) - 1 - logvar).sum(1).mean()
    gan = _softplus(-l_recon).mean() + _softplus(-l_prior).mean()
    discriminator = 2 * _softplus(-l_real).mean() + _softplus(l_recon).mean() + _softplus(l_prior).mean()
    expected = {"recon": recon, "kl": kl, "gan": gan, "encoder": recon + 0.7 * kl, "decoder": recon + 0.3 * gan,
                "discriminator": discriminator}
    for name, value in expected.items():
        assert float(parts[name]) == pytest.approx(value, rel=1e-10), name


def test_train_step_moves_each_part_by_its_own_objective():
    fk.manual_seed(1)
    model = VAEGAN(5, latent_features=2, hidden=(4,)).double()
    x = fk.rand(8, 5, dtype=fk.float64)
    groups = model.parts()
    before = {name: [p.detach().clone() for p in params] for name, params in groups.items()}
    parts = model.losses(x, generator=fk.Generator().manual_seed(3))
    expected = {name: fk.autograd.grad(parts[name], params, retain_graph=True) for name, params in groups.items()}
    lr = 0.1
    optimizers = {name: fk.optim.SGD(params, lr=lr) for name, params in groups.items()}
    model.train_step(x, optimizers, generator=fk.Generator().manual_seed(3))
    for name, params in groups.items():
        for p, p0, g in zip(params, before[name], expected[name]):
            np.testing.assert_allclose(p.detach().numpy(), (p0 - lr * g).numpy(), rtol=1e-12, atol=1e-15)
    assert sum(len(v) for v in groups.values()) == len(list(model.parameters()))


def test_shapes_and_bad_arguments():
    model = VAEGAN(64, 8, (32,))
    assert model.sample(3).shape == (3, 64)
    assert float(model.sample(3).min()) >= 0 and float(model.sample(3).max()) <= 1
    with pytest.raises(ValueError, match="at least one width"):
        VAEGAN(64, 8, ())
