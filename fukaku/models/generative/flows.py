"""Normalizing flows — seed 000 §6.5: Real NVP (Dinh et al. 2017) with Glow's actnorm and invertible 1×1
convolution (Kingma & Dhariwal 2018).

A flow is an invertible map f from data x to a latent z with a simple density (a standard Gaussian), built
from layers whose Jacobian determinant is cheap. The change of variables gives the exact likelihood,

    log p(x) = log p_Z(f(x)) + log |det ∂f/∂x|,

the text's log p(x) = log p(f⁻¹(x)) + log |det ∂f⁻¹/∂x| with its f (latent → data) being our f⁻¹. Sampling
draws z ~ N(0, I) and runs the layers backwards once: one pass, where diffusion needs T.

Layers (each ``forward(x) -> (y, log|det ∂y/∂x|)`` per sample, and ``inverse(y) -> x``):

- :class:`AffineCoupling` — y_a = x_a, y_b = x_b ⊙ exp(s(x_a)) + t(x_a): a triangular Jacobian, log-det Σ s;
- :class:`ActNorm` — a per-feature affine map, initialised from the first batch to zero mean, unit variance;
- :class:`InvertibleLinear` — a learned invertible matrix W (Glow's 1×1 convolution for vectors, which mixes
  the features between couplings), log-det log|det W|;
- :class:`Reverse` — a fixed permutation (Real NVP's alternating masks), log-det 0.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ... import nn
from ...autograd import no_grad
from ...linalg import inv, slogdet
from ...ops import exp, flip, tanh
from ...tensor import Generator, Tensor, randn, tensor, zeros_like


class AffineCoupling(nn.Module):
    """Real NVP's affine coupling layer on vectors: the features where ``mask`` is 1 pass unchanged and
    condition a scale and shift of the others.

    Args:
        dim: features.
        hidden: units of the conditioner MLP.
        mask: 1 for the features kept (x_a), 0 for those transformed (x_b); default: the first half kept.
        scale_bound: s = scale_bound · tanh(raw s), which keeps exp(s) finite early in training.

    Shape:
        x: (N, dim) → y: (N, dim), log_det: (N,).
    """

    def __init__(self, dim: int, hidden: int = 64, mask: Sequence[int] | None = None, scale_bound: float = 2.0) -> None:
        super().__init__()
        mask = np.arange(dim) < dim // 2 if mask is None else np.asarray(mask, dtype=bool)
        if mask.shape != (dim,) or mask.all() or not mask.any():
            raise ValueError(f"AffineCoupling: mask must hold {dim} entries, some kept and some transformed, got "
                             f"{mask.astype(int).tolist()}")
        self.dim, self.scale_bound = dim, scale_bound
        self.register_buffer("mask", tensor(mask.astype(np.float32)))
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, 2 * dim))
        nn.init.zeros_(self.net[-1].weight)   # start as the identity
        nn.init.zeros_(self.net[-1].bias)

    def _scale_shift(self, kept: Tensor) -> tuple[Tensor, Tensor]:
        raw_s, t = self.net(kept).chunk(2, dim=1)
        free = 1 - self.mask
        return self.scale_bound * tanh(raw_s) * free, t * free

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        s, t = self._scale_shift(x * self.mask)
        return x * exp(s) + t, s.sum(dim=1)

    def inverse(self, y: Tensor) -> Tensor:
        s, t = self._scale_shift(y * self.mask)
        return (y - t) * exp(-s)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, kept={self.mask.numpy().astype(int).tolist()}"


class ActNorm(nn.Module):
    """Glow's activation normalisation: y = (x − b) ⊙ exp(−log_scale), with b and log_scale set on the first
    batch seen in training so that y has zero mean and unit variance per feature, then learned.

    Shape:
        x: (N, dim) → y: (N, dim), log_det: (N,).
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.bias = nn.Parameter(tensor(np.zeros(dim, dtype=np.float32)))
        self.log_scale = nn.Parameter(tensor(np.zeros(dim, dtype=np.float32)))
        self.register_buffer("initialized", tensor(False))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if self.training and not bool(self.initialized):
            with no_grad():
                self.bias.copy_(x.mean(dim=0))
                self.log_scale.copy_((x.std(dim=0) + 1e-6).log())
                self.initialized.fill_(True)
        y = (x - self.bias) * exp(-self.log_scale)
        return y, (-self.log_scale.sum()).expand(len(x))

    def inverse(self, y: Tensor) -> Tensor:
        return y * exp(self.log_scale) + self.bias

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class InvertibleLinear(nn.Module):
    """y = x Wᵀ with W learned and invertible — Glow's invertible 1×1 convolution, on vectors. W starts as a
    random rotation (log|det W| = 0).

    Shape:
        x: (N, dim) → y: (N, dim), log_det: (N,).
    """

    def __init__(self, dim: int, generator: Generator | None = None) -> None:
        super().__init__()
        q, _ = np.linalg.qr(randn(dim, dim, generator=generator).numpy().astype(np.float64))
        self.dim = dim
        self.weight = nn.Parameter(tensor(q.astype(np.float32)))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x @ self.weight.T, slogdet(self.weight)[1].expand(len(x))

    def inverse(self, y: Tensor) -> Tensor:
        return y @ inv(self.weight).T

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Reverse(nn.Module):
    """Reverses the order of the features (a permutation: log-det 0), so the next coupling transforms the
    features this one kept."""

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return flip(x, (1,)), zeros_like(x[:, 0])

    def inverse(self, y: Tensor) -> Tensor:
        return flip(y, (1,))


class NormalizingFlow(nn.Module):
    """A stack of invertible layers over a standard-Gaussian latent.

    Args:
        layers: modules with ``forward(x) -> (y, log_det)`` and ``inverse(y)``, data side first.
        dim: the data size.

    Example:
        >>> flow = RealNVP(dim=2, couplings=6)
        >>> nll = -flow.log_prob(x).mean()   # doctest: +SKIP
        >>> samples = flow.sample(1000)       # doctest: +SKIP
    """

    def __init__(self, layers: Sequence[nn.Module], dim: int) -> None:
        super().__init__()
        self.layers, self.dim = nn.ModuleList(layers), dim

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """z = f(x) and log|det ∂f/∂x| per sample."""
        log_det = zeros_like(x[:, 0])
        for layer in self.layers:
            x, step = layer(x)
            log_det = log_det + step
        return x, log_det

    def inverse(self, z: Tensor) -> Tensor:
        """x = f⁻¹(z): the layers backwards."""
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z

    def log_prob(self, x: Tensor) -> Tensor:
        """The exact log-density log p(x) = log N(f(x); 0, I) + log|det ∂f/∂x|, per sample (N,)."""
        z, log_det = self(x)
        return -0.5 * (z * z).sum(dim=1) - 0.5 * self.dim * math.log(2 * math.pi) + log_det

    @no_grad()
    def sample(self, n: int, generator: Generator | None = None) -> Tensor:
        """n samples: z ~ N(0, I), then one pass of the layers backwards."""
        return self.inverse(randn(n, self.dim, generator=generator))


class RealNVP(NormalizingFlow):
    """Real NVP for vectors: ``couplings`` × [ActNorm → InvertibleLinear → AffineCoupling] (Glow's step; with
    ``glow=False``, Real NVP's own [AffineCoupling → Reverse]).

    Args:
        dim: the data size (≥ 2).
        couplings: coupling layers.
        hidden: units of each coupling's conditioner.
        glow: use actnorm and invertible linear maps between couplings instead of fixed reversals.
        generator: draws the initial rotations.
    """

    def __init__(self, dim: int = 2, couplings: int = 6, hidden: int = 64, glow: bool = True,
                 generator: Generator | None = None) -> None:
        if dim < 2:
            raise ValueError(f"RealNVP: a coupling needs at least 2 features, got dim={dim}")
        layers: list[nn.Module] = []
        for _ in range(couplings):
            if glow:
                layers += [ActNorm(dim), InvertibleLinear(dim, generator), AffineCoupling(dim, hidden)]
            else:
                layers += [AffineCoupling(dim, hidden), Reverse()]
        super().__init__(layers, dim)


__all__ = ["AffineCoupling", "ActNorm", "InvertibleLinear", "Reverse", "NormalizingFlow", "RealNVP"]
