"""Generative adversarial networks — seed 000 §6.5; Goodfellow et al. 2014, DCGAN (Radford et al. 2016).

A generator G maps noise z to samples and a discriminator D scores samples as real; they play
min_G max_D E[log D(x)] + E[log(1 − D(G(z)))]. D is trained with the binary cross-entropy of real against
fake. For G the minimax loss log(1 − D(G(z))) saturates: when D confidently rejects the fakes, early in
training, its gradient −D(G(z)) ∂logit vanishes; the non-saturating loss −log D(G(z)) has the same fixed
point and gradient −(1 − D(G(z))) ∂logit, strong exactly then. With logits ℓ = D's output before the
sigmoid, log(1 − σ(ℓ)) = −softplus(ℓ) and −log σ(ℓ) = softplus(−ℓ), computed stably here.

Models: :class:`MLPGenerator`/:class:`MLPDiscriminator` for 2-D toy data (the 8-Gaussian ring, where
mode dropping shows) and :class:`DCGANGenerator`/:class:`DCGANDiscriminator` for small images.
"""
from __future__ import annotations

from ... import nn
from ...nn import functional as F
from ...optim.optimizer import Optimizer
from ...tensor import Tensor
from ..classical.mlp import MLP

GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """D's loss −E[log D(x)] − E[log(1 − D(G(z)))] from its logits: softplus(−ℓ_real) + softplus(ℓ_fake), averaged."""
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits: Tensor, kind: str = "non_saturating") -> Tensor:
    """G's loss from D's logits on fakes: ``"non_saturating"`` −E[log D(G(z))] = E[softplus(−ℓ)], or
    ``"minimax"`` E[log(1 − D(G(z)))] = −E[softplus(ℓ)] (the game's own, which saturates)."""
    if kind == "non_saturating":
        return F.softplus(-fake_logits).mean()
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()
    raise ValueError(f"generator_loss: kind must be one of {', '.join(GENERATOR_LOSSES)}, got {kind!r}")


def gan_step(generator: nn.Module, discriminator: nn.Module, opt_g: Optimizer, opt_d: Optimizer, real: Tensor,
             z: Tensor, kind: str = "non_saturating") -> tuple[float, float]:
    """One step of the game: D on real against G(z) (detached), then G on D's fresh verdict of the same G(z)
    with ``generator_loss(kind)``. Returns (D's loss, G's loss)."""
    fake = generator(z)
    d_loss = discriminator_loss(discriminator(real), discriminator(fake.detach()))
    opt_d.zero_grad()
    d_loss.backward()
    opt_d.step()
    g_loss = generator_loss(discriminator(fake), kind)
    opt_g.zero_grad()
    g_loss.backward()
    opt_g.step()
    return float(d_loss), float(g_loss)


class MLPGenerator(nn.Module):
    """G(z) for vectors: an MLP with ReLU units from ``latent`` noise dimensions to ``dim``.

    Shape: z (N, latent) → (N, dim)."""

    def __init__(self, latent: int = 2, dim: int = 2, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        self.latent = latent
        self.net = MLP([latent, *[hidden] * layers, dim], nn.ReLU)

    def forward(self, z: Tensor) -> Tensor:
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """D(x) for vectors: an MLP with leaky-ReLU units giving one logit per sample.

    Shape: x (N, dim) → (N,)."""

    def __init__(self, dim: int = 2, hidden: int = 128, layers: int = 3) -> None:
        super().__init__()
        self.net = MLP([dim, *[hidden] * layers, 1], lambda: nn.LeakyReLU(0.2))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


class DCGANGenerator(nn.Module):
    """DCGAN's generator for small square images: z → a (channels·4)×(size/4)² map → two stride-2
    transposed convolutions with batch norm and ReLU → sigmoid pixels in [0, 1].

    Args:
        latent: noise dimensions.
        size: image side, a multiple of 4 (8 for the 8×8 digits, 28 for MNIST).
        channels: width of the last hidden map.
        out_channels: image channels.

    Shape: z (N, latent) → (N, out_channels, size, size)."""

    def __init__(self, latent: int = 32, size: int = 8, channels: int = 32, out_channels: int = 1) -> None:
        super().__init__()
        if size % 4:
            raise ValueError(f"DCGANGenerator: size must be a multiple of 4, got {size}")
        self.latent, self.size, self.channels = latent, size, channels
        self.project = nn.Sequential(nn.Linear(latent, 2 * channels * (size // 4) ** 2),
                                     nn.BatchNorm1d(2 * channels * (size // 4) ** 2), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
            nn.ConvTranspose2d(channels, out_channels, 4, stride=2, padding=1), nn.Sigmoid())

    def forward(self, z: Tensor) -> Tensor:
        return self.up(self.project(z).reshape(len(z), 2 * self.channels, self.size // 4, self.size // 4))


class DCGANDiscriminator(nn.Module):
    """DCGAN's discriminator: two stride-2 convolutions with leaky ReLU (batch norm on the second), then a
    linear logit.

    Shape: x (N, in_channels, size, size) → (N,)."""

    def __init__(self, size: int = 8, channels: int = 32, in_channels: int = 1) -> None:
        super().__init__()
        if size % 4:
            raise ValueError(f"DCGANDiscriminator: size must be a multiple of 4, got {size}")
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, channels, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1), nn.BatchNorm2d(2 * channels), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(2 * channels * (size // 4) ** 2, 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x).squeeze(1)


__all__ = ["discriminator_loss", "generator_loss", "gan_step", "MLPGenerator", "MLPDiscriminator", "DCGANGenerator",
           "DCGANDiscriminator", "GENERATOR_LOSSES"]
