"""The denoising autoencoder — seed 004 §3.5 (a regularised autoencoder; Vincent et al. 2008): the encoder sees
a corrupted x̃ ~ C(x̃ | x) and the decoder must reproduce the clean x, minimising ℓ(x, g(f(x̃))). Copying its
input no longer works, so the network learns the structure of the data — and removes noise from new inputs.
Two corruptions: additive Gaussian noise x̃ = x + σε, and masking noise (each input set to 0 with probability p).
"""
from __future__ import annotations

from collections.abc import Sequence

from ...tensor import Tensor, rand, randn
from .autoencoder import Autoencoder

__all__ = ["DenoisingAutoencoder", "corrupt"]

NOISES = ("gaussian", "mask")


def _check(where: str, noise: str, level: float) -> None:
    if noise not in NOISES:
        raise ValueError(f"{where}: noise must be one of {NOISES}, got {noise!r}")
    if noise == "gaussian" and level < 0:
        raise ValueError(f"{where}: the Gaussian noise's level (its σ) must be >= 0, got {level}")
    if noise == "mask" and not 0.0 <= level < 1.0:
        raise ValueError(f"{where}: the masking probability must lie in [0, 1), got {level}")


def corrupt(x: Tensor, noise: str = "gaussian", level: float = 0.3, generator=None) -> Tensor:
    """A corrupted copy x̃ of ``x`` (seed 004 §3.5, the denoising autoencoder's C(x̃ | x)).

    Args:
        x: any shape.
        noise: ``"gaussian"``: x̃ = x + level·ε, ε ~ N(0, I); ``"mask"``: each entry set to 0 independently
            with probability ``level`` (masking noise).
        level: σ of the Gaussian noise (≥ 0), or the masking probability (in [0, 1)).
        generator: a :class:`fukaku.Generator` for the noise (default: the global one).

    Examples:
        >>> corrupt(fk.ones(2, 4), "mask", 0.5, generator=fk.Generator().manual_seed(0))  # some entries zeroed
    """
    _check("corrupt", noise, level)
    if noise == "gaussian":
        return x + level * randn(*x.shape, generator=generator, dtype=x.dtype)
    return x * (rand(*x.shape, generator=generator, dtype=x.dtype) >= level).to(x.dtype)


class DenoisingAutoencoder(Autoencoder):
    """A denoising autoencoder (seed 004 §3.5): :meth:`loss` reconstructs the clean x from ``corrupt(x)``.

    Args:
        sizes: as :class:`Autoencoder`.
        noise: ``"gaussian"`` or ``"mask"`` (see :func:`corrupt`).
        level: the noise's σ, or the masking probability.
        generator: the :class:`fukaku.Generator` of the corruption (default: the global one).
        **kwargs: the other options of :class:`Autoencoder`.

    ``forward(x)`` does not corrupt: applied to a noisy input it returns the denoised reconstruction.

    Examples:
        >>> dae = DenoisingAutoencoder([64, 32], noise="mask", level=0.25, output_activation="sigmoid")
        >>> dae.loss(fk.rand(16, 64)).backward()
    """

    def __init__(self, sizes: Sequence[int], noise: str = "gaussian", level: float = 0.3, generator=None,
                 **kwargs) -> None:
        _check("DenoisingAutoencoder", noise, level)
        super().__init__(sizes, **kwargs)
        self.noise, self.level, self.generator = noise, float(level), generator

    def corrupt(self, x: Tensor) -> Tensor:
        return corrupt(x, self.noise, self.level, self.generator)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, noise={self.noise!r}, level={self.level}"
