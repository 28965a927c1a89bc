"""Denoising diffusion (DDPM) — seed 000 §6.5; Ho et al. 2020, with DDIM (Song et al. 2021) and
classifier-free guidance (Ho & Salimans 2022).

The forward process adds Gaussian noise in T steps, q(x_t | x_{t−1}) = N(√(1 − β_t) x_{t−1}, β_t I), so
that x_t given x_0 is N(√ᾱ_t x_0, (1 − ᾱ_t) I) with ᾱ_t = Π_{s≤t} (1 − β_s) (erratum C5: the text lost
the minus sign). It is a discretised Ornstein–Uhlenbeck process — the mean decays while the variance
goes to 1 — not the heat equation, whose solution keeps the mean and lets the variance grow without
bound (erratum C10; that is the variance-exploding process). A network ε_θ(x_t, t) learns the noise
with L_simple = E‖ε − ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t)‖², and sampling runs the chain backwards with the
fixed variance σ_t² = β_t (erratum C16: DDPM does not learn Σ_θ). DDIM with η = 0 samples
deterministically in fewer steps: it discretises the probability-flow ODE, the ODE whose marginals are
the diffusion's and which gives an exact likelihood (erratum C11).

Conditioning: ε_θ(x_t, t, y); trained with y dropped to a "null" label with probability ``p_uncond``,
one network gives both ε_θ(x_t, t, y) and ε_θ(x_t, t) and classifier-free guidance samples with
ε̃ = (1 + w) ε_θ(x_t, t, y) − w ε_θ(x_t, t).

Time steps are 0-based here, as in the diffusers library: ``t = 0 … T − 1`` stands for the paper's
1 … T (index ``t`` of ``betas`` is β_{t+1}).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ... import nn
from ...autograd import no_grad
from ...dtypes import int64
from ...ops import cat, cos, exp, sin, where
from ...tensor import Generator, Tensor, arange, full, rand, randint, randn, tensor


class NoiseSchedule:
    """The variances β_1 … β_T of the forward process and what follows from them.

    Args:
        betas: the T values β_t in (0, 1).

    Attributes (NumPy float64 arrays of length T): ``betas``, ``alphas`` = 1 − β_t, ``alpha_bars`` =
    ᾱ_t = Π_{s≤t} α_s.

    Example:
        >>> s = NoiseSchedule.linear(1000)
        >>> round(float(s.alpha_bars[-1]), 5)   # x_T is almost pure noise
        4e-05
    """

    def __init__(self, betas: Sequence[float] | np.ndarray) -> None:
        betas = np.asarray(betas, dtype=np.float64)
        if betas.ndim != 1 or betas.size == 0 or not np.all((betas > 0) & (betas < 1)):
            raise ValueError(f"NoiseSchedule: betas must be a non-empty 1-d sequence in (0, 1), got shape "
                             f"{betas.shape} with range [{betas.min() if betas.size else 'nan'}, "
                             f"{betas.max() if betas.size else 'nan'}]")
        self.betas = betas
        self.alphas = 1.0 - betas
        self.alpha_bars = np.cumprod(self.alphas)

    @classmethod
    def linear(cls, steps: int = 1000, beta_start: float = 1e-4, beta_end: float = 0.02) -> NoiseSchedule:
        """Ho et al.'s schedule: β rising linearly from ``beta_start`` to ``beta_end`` (scaled by 1000/T so
        that a shorter chain still ends near pure noise)."""
        scale = 1000 / steps
        return cls(np.linspace(beta_start * scale, min(beta_end * scale, 0.999), steps))

    @classmethod
    def cosine(cls, steps: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> NoiseSchedule:
        """Nichol & Dhariwal's schedule: ᾱ_t = f(t)/f(0) with f(t) = cos²((t/T + s)/(1 + s) · π/2); β clipped
        at ``max_beta``. It destroys information more evenly over the steps than the linear one."""
        f = np.cos((np.arange(steps + 1) / steps + s) / (1 + s) * math.pi / 2) ** 2
        return cls(np.clip(1 - f[1:] / f[:-1], 1e-8, max_beta))

    @property
    def steps(self) -> int:
        """T, the number of noising steps."""
        return len(self.betas)

    def _at(self, values: np.ndarray, t: Tensor, like: Tensor) -> Tensor:
        """``values[t]`` as a float tensor shaped (N, 1, …, 1) to broadcast over a batch ``like``."""
        picked = values[t.numpy().astype(np.int64)]
        return tensor(picked.reshape(-1, *([1] * (like.dim() - 1))), dtype=like.dtype)

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε: a draw of q(x_t | x_0) in one step (the closed form)."""
        return self._at(np.sqrt(self.alpha_bars), t, x0) * x0 + self._at(np.sqrt(1 - self.alpha_bars), t, x0) * noise

    def q_step(self, x_prev: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """x_t = √(1 − β_t) x_{t−1} + √β_t ε: one step of the forward chain q(x_t | x_{t−1})."""
        return self._at(np.sqrt(self.alphas), t, x_prev) * x_prev + self._at(np.sqrt(self.betas), t, x_prev) * noise


def timestep_embedding(t: Tensor, dim: int, max_period: float = 10000.0) -> Tensor:
    """The Transformer's sinusoidal code of the time steps ``t`` (N,): (N, dim), cos then sin of t·ω_k with
    ω_k = max_period^(−k/(dim/2)). It is a function of t only: it holds no parameters.

    Raises:
        ValueError: ``dim`` is not a positive even number.
    """
    if dim <= 0 or dim % 2:
        raise ValueError(f"timestep_embedding: dim must be a positive even number, got {dim}")
    half = dim // 2
    frequencies = exp(arange(half, dtype=t.dtype if t.is_floating_point() else None) * (-math.log(max_period) / half))
    angles = t.float().reshape(-1, 1) * frequencies.reshape(1, -1)
    return cat([cos(angles), sin(angles)], dim=1)


class EpsilonMLP(nn.Module):
    """ε_θ(x_t, t[, y]) for vectors (2-D toy data, flattened small images): an input layer, then residual
    blocks h ← h + W₂ SiLU(W₁ SiLU(h + c)) where c is the step's (and label's) code, so every block
    knows t; the codes are the sinusoidal time embedding passed through a small MLP (and a learned
    label embedding).

    With ``fourier_features`` = m > 0 the input layer reads [x, sin(xB), cos(xB)] instead of x, B a fixed
    (dim, m) matrix of N(0, ``fourier_scale``²) entries drawn at construction (a buffer, saved with the model):
    random Fourier features (Tancik et al. 2020), which let a small MLP fit the sharp, high-frequency ε_θ of
    low-dimensional data with narrow modes. Without them it learns the smooth part first (spectral bias): on
    the 8-Gaussian ring it samples a uniform ring for thousands of steps.

    Args:
        dim: size of x.
        hidden: units per layer.
        blocks: residual blocks.
        time_dim: size of the sinusoidal time code.
        num_classes: labels for conditioning, or None. Label ``num_classes`` is the "null" label of
            classifier-free guidance (the model without its condition).
        fourier_features: m, the random Fourier features of x (0: x itself).
        fourier_scale: the standard deviation of B's entries (the features' frequencies).

    Shape:
        x: (N, dim); t: (N,) integer steps; y: (N,) integer labels or None → (N, dim).
    """

    def __init__(self, dim: int = 2, hidden: int = 128, blocks: int = 2, time_dim: int = 32,
                 num_classes: int | None = None, fourier_features: int = 0, fourier_scale: float = 1.0) -> None:
        super().__init__()
        if fourier_features < 0:
            raise ValueError(f"EpsilonMLP: fourier_features must be >= 0, got {fourier_features}")
        self.dim, self.time_dim, self.num_classes = dim, time_dim, num_classes
        self.fourier_features = fourier_features
        if fourier_features:
            self.register_buffer("fourier", randn(dim, fourier_features) * fourier_scale)
        self.time = nn.Sequential(nn.Linear(time_dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden))
        self.label = None if num_classes is None else nn.Embedding(num_classes + 1, hidden)
        self.input = nn.Linear(dim + 2 * fourier_features, hidden)
        self.blocks = nn.ModuleList(nn.Sequential(nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                                  nn.Linear(hidden, hidden)) for _ in range(blocks))
        self.out = nn.Sequential(nn.SiLU(), nn.Linear(hidden, dim))

    def forward(self, x: Tensor, t: Tensor, y: Tensor | None = None) -> Tensor:
        code = self.time(timestep_embedding(t, self.time_dim))
        if self.label is not None:
            code = code + self.label(null_labels(self.num_classes, len(x)) if y is None else y)
        if self.fourier_features:
            z = x @ self.fourier
            x = cat([x, sin(z), cos(z)], dim=1)
        h = self.input(x)
        for block in self.blocks:
            h = h + block(h + code)
        return self.out(h)

    def extra_repr(self) -> str:
        return (f"dim={self.dim}, time_dim={self.time_dim}, num_classes={self.num_classes}"
                + (f", fourier_features={self.fourier_features}" if self.fourier_features else ""))


def null_labels(num_classes: int, n: int) -> Tensor:
    """n copies of the null label ``num_classes`` (the unconditional model in classifier-free guidance)."""
    return full((n,), num_classes, dtype=int64)


class DDPM(nn.Module):
    """A denoising diffusion model: a noise predictor ``model(x_t, t[, y])`` and a :class:`NoiseSchedule`.

    Args:
        model: ε_θ; called ``model(x, t)`` or, when ``num_classes`` is set on it, ``model(x, t, y)``.
        schedule: the forward process.
        p_uncond: in training, the probability of replacing a label by the null label (classifier-free
            guidance needs 0.1–0.2; 0 for an unconditional or purely conditional model).

    Example:
        >>> ddpm = DDPM(EpsilonMLP(2), NoiseSchedule.linear(100))
        >>> loss = ddpm.loss(x0)          # doctest: +SKIP
        >>> samples = ddpm.sample(500)    # doctest: +SKIP
    """

    def __init__(self, model: nn.Module, schedule: NoiseSchedule, p_uncond: float = 0.0) -> None:
        super().__init__()
        if not 0 <= p_uncond < 1:
            raise ValueError(f"DDPM: p_uncond must be in [0, 1), got {p_uncond}")
        self.model, self.schedule, self.p_uncond = model, schedule, p_uncond

    @property
    def num_classes(self) -> int | None:
        return getattr(self.model, "num_classes", None)

    def _eps(self, x: Tensor, t: Tensor, y: Tensor | None) -> Tensor:
        return self.model(x, t) if self.num_classes is None else self.model(x, t, y)

    def loss(self, x0: Tensor, y: Tensor | None = None, generator: Generator | None = None) -> Tensor:
        """L_simple: the mean squared error between the noise ε and ε_θ(√ᾱ_t x_0 + √(1 − ᾱ_t) ε, t[, y]) at
        uniformly drawn steps t (labels dropped to the null label with probability ``p_uncond``)."""
        n = len(x0)
        t = randint(0, self.schedule.steps, (n,), generator=generator)
        noise = randn(*x0.shape, generator=generator, dtype=x0.dtype)
        if y is not None and self.p_uncond > 0:
            y = where(rand(n, generator=generator) < self.p_uncond, null_labels(self.num_classes, n), y)
        return ((noise - self._eps(self.schedule.q_sample(x0, t, noise), t, y)) ** 2).mean()

    def guided_eps(self, x: Tensor, t: Tensor, y: Tensor | None, guidance: float) -> Tensor:
        """ε̃ = (1 + w) ε_θ(x, t, y) − w ε_θ(x, t): classifier-free guidance of strength w (0: conditional only)."""
        if y is None or guidance == 0:
            return self._eps(x, t, y)
        # both predictions in one batched pass: the conditional half, then the unconditional one
        eps, eps_null = self._eps(cat([x, x]), cat([t, t]), cat([y, null_labels(self.num_classes, len(x))])).chunk(2)
        return (1 + guidance) * eps - guidance * eps_null

    def _start(self, shape: int | Sequence[int], y: Tensor | None, generator: Generator | None) -> Tensor:
        shape = (shape, *self._sample_shape()) if isinstance(shape, int) else tuple(shape)
        if y is not None and len(y) != shape[0]:
            raise ValueError(f"DDPM.sample: {shape[0]} samples asked for with {len(y)} labels; give one label "
                             "per sample")
        return randn(*shape, generator=generator)

    def _sample_shape(self) -> tuple[int, ...]:
        dim = getattr(self.model, "dim", None)
        if dim is None:
            raise ValueError("DDPM.sample: give the full shape, e.g. sample((16, 1, 8, 8)); the model does not "
                             "say its data size")
        return (dim,)

    @no_grad()
    def sample(self, shape: int | Sequence[int], y: Tensor | None = None, guidance: float = 0.0,
               generator: Generator | None = None) -> Tensor:
        """Ancestral sampling: x_T ~ N(0, I), then for t = T … 1, x_{t−1} = (x_t − β_t/√(1 − ᾱ_t) ε̃)/√α_t + σ_t z
        with σ_t² = β_t (z = 0 at the last step). T network passes (twice that with guidance).

        Args:
            shape: the number of samples (vectors of the model's ``dim``) or the full shape.
            y: labels (N,) for a conditional model.
            guidance: classifier-free guidance strength w.
        """
        s = self.schedule
        x = self._start(shape, y, generator)
        for step in reversed(range(s.steps)):
            t = full((len(x),), step, dtype=int64)
            eps = self.guided_eps(x, t, y, guidance)
            x = (x - (s.betas[step] / math.sqrt(1 - s.alpha_bars[step])) * eps) / math.sqrt(s.alphas[step])
            if step > 0:
                x = x + math.sqrt(s.betas[step]) * randn(*x.shape, generator=generator)
        return x

    @no_grad()
    def sample_ddim(self, shape: int | Sequence[int], steps: int = 50, eta: float = 0.0, y: Tensor | None = None,
                    guidance: float = 0.0, generator: Generator | None = None) -> Tensor:
        """DDIM sampling on ``steps`` evenly spaced time steps. ``eta = 0`` is deterministic given x_T (the
        probability-flow ODE, discretised); ``eta = 1`` matches DDPM's noise on that sub-chain."""
        s = self.schedule
        if not 1 <= steps <= s.steps:
            raise ValueError(f"DDPM.sample_ddim: steps must be 1 … {s.steps} (the schedule's T), got {steps}")
        times = np.unique(np.linspace(0, s.steps - 1, steps).round().astype(np.int64))[::-1]
        x = self._start(shape, y, generator)
        for i, step in enumerate(times):
            t = full((len(x),), int(step), dtype=int64)
            eps = self.guided_eps(x, t, y, guidance)
            a, a_prev = s.alpha_bars[step], (s.alpha_bars[times[i + 1]] if i + 1 < len(times) else 1.0)
            x0 = (x - math.sqrt(1 - a) * eps) / math.sqrt(a)
            sigma = eta * math.sqrt((1 - a_prev) / (1 - a) * (1 - a / a_prev))
            x = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma ** 2, 0.0)) * eps
            if sigma > 0:
                x = x + sigma * randn(*x.shape, generator=generator)
        return x


__all__ = ["NoiseSchedule", "timestep_embedding", "EpsilonMLP", "DDPM", "null_labels"]
