"""What the diffusion, flow and GAN experiments share: 2-D toy data (the 8-Gaussian ring), training a DDPM on
it, and the kernel two-sample distance (MMD) that says whether samples match the data."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

import fukaku as fk
from fukaku import optim
from fukaku.models.generative.diffusion import DDPM, EpsilonMLP, NoiseSchedule

RING = 2.0 / 1.4   # the 8 Gaussians' radius: the ring scaled so that the data have unit variance
SPREAD = 0.1 / 1.4  # each Gaussian's standard deviation
ON_MODE = 3 * SPREAD  # a point "sits on" a mode within three standard deviations of its centre (98.9 % of the data)
MODES = RING * np.stack([np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)], axis=1)


def eight_gaussians(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """n points of the 8-Gaussian ring (the GAN literature's test of mode coverage) and their mode (0–7)."""
    mode = rng.integers(0, 8, n)
    return (MODES[mode] + SPREAD * rng.normal(size=(n, 2))).astype(np.float32), mode


def mode_distances(points: np.ndarray) -> np.ndarray:
    """The squared distance of each point to each of the ring's modes, (n, 8)."""
    return ((points[:, None, :] - MODES[None]) ** 2).sum(-1)


def on_mode(points: np.ndarray) -> np.ndarray:
    """Whether each point sits on a mode: within :data:`ON_MODE` of the nearest one's centre."""
    return mode_distances(points).min(1) < ON_MODE ** 2


def nearest_mode(points: np.ndarray) -> np.ndarray:
    """The index of the ring's mode nearest to each point."""
    return np.argmin(mode_distances(points), axis=1)


def mmd(a: np.ndarray, b: np.ndarray, bandwidth: float = 0.5) -> float:
    """The unbiased squared maximum mean discrepancy between samples ``a`` and ``b`` under a Gaussian kernel
    exp(−‖x − y‖²/(2h²)): 0 in expectation when they come from one distribution (Gretton et al. 2012)."""
    def kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.exp(-((x[:, None, :] - y[None]) ** 2).sum(-1) / (2 * bandwidth ** 2))

    kaa, kbb, kab = kernel(a, a), kernel(b, b), kernel(a, b)
    n, m = len(a), len(b)
    return float((kaa.sum() - np.trace(kaa)) / (n * (n - 1)) + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
                 - 2 * kab.mean())


class Trained(NamedTuple):
    ddpm: DDPM
    losses: list[float]


def fit_ddpm(ddpm: DDPM, sample_batch, steps: int, generator: fk.Generator, rng: np.random.Generator,
             batch: int = 256, lr: float = 2e-3) -> list[float]:
    """Train ``ddpm`` with Adam, its learning rate decaying linearly to 0 (a sharper fit at the end), on batches
    ``sample_batch(n, rng) -> (x, labels)`` (labels used when the model is conditional); its noise and time
    steps drawn from ``generator``. Returns the training losses."""
    opt = optim.Adam(ddpm.parameters(), lr=lr)
    decay = optim.lr_scheduler.LambdaLR(opt, lambda step: 1 - step / steps)
    losses = []
    for _ in range(steps):
        x, labels = sample_batch(batch, rng)
        y = None if ddpm.num_classes is None else fk.tensor(labels)
        loss = ddpm.loss(fk.tensor(x), y, generator=generator)
        opt.zero_grad()
        loss.backward()
        opt.step()
        decay.step()
        losses.append(float(loss))
    return losses


def train_ddpm(sample_batch, steps: int, seed: int, num_classes: int | None = None, p_uncond: float = 0.0,
               hidden: int = 128, diffusion_steps: int = 100, batch: int = 256, lr: float = 2e-3,
               fourier_features: int = 0, fourier_scale: float = 1.0) -> Trained:
    """A 2-D :class:`EpsilonMLP` DDPM (linear schedule) trained by :func:`fit_ddpm`; ``fourier_features`` and
    ``fourier_scale`` as EpsilonMLP's.

    The data's generator and fukaku's are seeded apart (``seed`` and ``seed + 7919``): NumPy's and fukaku's
    generators given the same seed give the same stream, and a noise drawn in step with the data would
    let the network read the data's labels from the time steps."""
    fk.manual_seed(seed)
    generator = fk.Generator().manual_seed(seed + 7919)
    rng = np.random.default_rng(seed)
    model = EpsilonMLP(2, hidden, num_classes=num_classes, fourier_features=fourier_features,
                       fourier_scale=fourier_scale)
    ddpm = DDPM(model, NoiseSchedule.linear(diffusion_steps), p_uncond)
    return Trained(ddpm, fit_ddpm(ddpm, sample_batch, steps, generator, rng, batch, lr))
