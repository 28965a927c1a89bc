"""fukaku.models.generative.gan: the losses against PyTorch's binary cross-entropy with logits (and their
gradients), the models' shapes, and bad arguments refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
from fukaku.models.generative.gan import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                                          discriminator_loss, gan_step, generator_loss)

LOGITS = np.array([-30.0, -4.0, -0.5, 0.0, 0.7, 3.0, 25.0])


def _pair():
    return fk.tensor(LOGITS, requires_grad=True), torch.tensor(LOGITS, requires_grad=True)


def test_discriminator_loss_is_bce_of_real_against_fake():
    real, real_t = _pair()
    fake, fake_t = fk.tensor(-LOGITS[::-1].copy(), requires_grad=True), torch.tensor(-LOGITS[::-1].copy(), requires_grad=True)
    loss = discriminator_loss(real, fake)
    expected = TF.binary_cross_entropy_with_logits(real_t, torch.ones(7, dtype=torch.float64)) + \
        TF.binary_cross_entropy_with_logits(fake_t, torch.zeros(7, dtype=torch.float64))
    assert float(loss) == pytest.approx(float(expected), rel=1e-12)
    loss.backward()
    expected.backward()
    np.testing.assert_allclose(real.grad.numpy(), real_t.grad.numpy(), rtol=1e-5)   # torch: see below
    np.testing.assert_allclose(fake.grad.numpy(), fake_t.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("kind", ["non_saturating", "minimax"])
def test_generator_losses(kind):
    fake, fake_t = _pair()
    loss = generator_loss(fake, kind)
    if kind == "non_saturating":   # −E[log D(G(z))]
        expected = TF.binary_cross_entropy_with_logits(fake_t, torch.ones(7, dtype=torch.float64))
    else:                          # E[log(1 − D(G(z)))]
        expected = -TF.binary_cross_entropy_with_logits(fake_t, torch.zeros(7, dtype=torch.float64))
    assert float(loss) == pytest.approx(float(expected), rel=1e-12)
    loss.backward()
    expected.backward()
    # torch's softplus backward loses a few digits far in the tail (σ(−25) to 4e-6); the closed forms below are
    # computed without cancellation (softplus is linear above 20, as torch's: σ(25) is taken as 1, 1.4e-11 off)
    np.testing.assert_allclose(fake.grad.numpy(), fake_t.grad.numpy(), rtol=1e-5)
    d, one_minus_d = 1 / (1 + np.exp(-LOGITS)), 1 / (1 + np.exp(LOGITS))   # D and 1 − D = σ(−ℓ)
    np.testing.assert_allclose(fake.grad.numpy(), (-one_minus_d if kind == "non_saturating" else -d) / 7, rtol=1e-10)


def test_generator_loss_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="non_saturating, minimax"):
        generator_loss(fk.zeros(3), "wasserstein")


def test_model_shapes():
    fk.manual_seed(0)
    assert MLPGenerator(4, 2)(fk.randn(5, 4)).shape == (5, 2)
    assert MLPDiscriminator(2)(fk.randn(5, 2)).shape == (5,)
    for size in (8, 28):
        images = DCGANGenerator(16, size, 8)(fk.randn(3, 16))
        assert images.shape == (3, 1, size, size) and float(images.min()) >= 0 and float(images.max()) <= 1
        assert DCGANDiscriminator(size, 8)(images).shape == (3,)
    with pytest.raises(ValueError, match="multiple of 4"):
        DCGANGenerator(size=10)
    with pytest.raises(ValueError, match="multiple of 4"):
        DCGANDiscriminator(size=6)


def test_gan_step_trains_d_then_g_on_the_same_fakes():
    fk.manual_seed(3)
    G, D = MLPGenerator(2, 2, 8, 1).double(), MLPDiscriminator(2, 8, 1).double()
    real, z = fk.randn(16, 2, dtype=fk.float64), fk.randn(16, 2, dtype=fk.float64)
    expected_d = float(discriminator_loss(D(real), D(G(z))))
    d_before = [p.detach().clone() for p in D.parameters()]
    g_before = [p.detach().clone() for p in G.parameters()]
    lr = 0.05
    d_loss, g_loss = gan_step(G, D, fk.optim.SGD(G.parameters(), lr=lr), fk.optim.SGD(D.parameters(), lr=lr), real, z)
    assert d_loss == pytest.approx(expected_d, rel=1e-12)
    with fk.no_grad():   # G's loss is D's verdict after D's update, on the fakes before G's
        fake = G.__class__(2, 2, 8, 1).double()
        fake.load_state_dict(dict(zip([n for n, _ in G.named_parameters()], g_before)))
        assert g_loss == pytest.approx(float(generator_loss(D(fake(z)))), rel=1e-12)
    assert all(not np.array_equal(a.numpy(), p.detach().numpy()) for a, p in zip(d_before, D.parameters()))
    assert all(not np.array_equal(a.numpy(), p.detach().numpy()) for a, p in zip(g_before, G.parameters()))
