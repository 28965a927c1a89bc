"""The TensorFlow Playground's 2-D data sets (seed 003, EXERCISE; playground.tensorflow.org).

Each generator follows the Playground's ``dataset.ts`` (spec/seed-003-004.md), drawing the same
distributions with NumPy (vectorised, from a seeded generator instead of ``Math.random``):

- circle: half the points at radius r ~ U(0, 2.5), half at r ~ U(3.5, 5), angle ~ U(0, 2π). The
  label is +1 when the *noisy* point (x + nx, y + ny), n ~ U(−5, 5)·noise, lies within radius 2.5,
  else −1; the clean point is returned, so noise shows up as flipped labels near the boundary.
- xor: x, y ~ U(−5, 5), each pushed 0.3 away from its axis; label +1 when (x + nx)(y + ny) ≥ 0
  (n ~ U(−5, 5)·noise), else −1.
- gauss: two Gaussian clouds, centres (2, 2) → +1 and (−2, −2) → −1, variance 0.5 + 7·noise
  (the Playground maps noise 0 … 0.5 linearly to variance 0.5 … 4).
- spiral: for i = 0 … n−1 (n = N/2 per arm), r = 5i/n, t = 1.75·2π·i/n + Δ with Δ = 0 (→ +1) or
  π (→ −1); point (r sin t, r cos t) + U(−1, 1)·noise per coordinate.
- regress_plane: x, y ~ U(−6, 6); label (x' + y')/10 with x' = x + U(−6, 6)·noise (likewise y').
- regress_gaussian: x, y ~ U(−6, 6); label = the signed bump 1 − d/2 (clamped to [0, 1]) of
  whichever of six signed centres gives the largest |value|, at the noisy point.

``noise`` is the Playground's internal value, its "Noise" slider (0–50) divided by 100, so it runs
from 0 to 0.5. Points are float32 ``(N, 2)``, labels float32 ``(N,)`` (±1 for classification, for a
tanh output and the loss ½(out − target)² as in the Playground); :func:`binary_labels` gives
{0, 1} int64 classes. Generators return class +1 first then −1, as the Playground generates them;
:func:`playground` shuffles and splits like the Playground does.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..tensor import Tensor, wrap
from ..utils.data._generator import GeneratorLike
from .._checks import check_int
from ._common import Split, holdout_split, out, rng_for

_CLASSIFY_N = 500   # the Playground's NUM_SAMPLES_CLASSIFY
_REGRESS_N = 1200   # the Playground's NUM_SAMPLES_REGRESS


def _check(num_samples, noise, where: str) -> int:
    n = check_int(num_samples, "num_samples", where)
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"{where}: noise must be >= 0 (the Playground's slider / 100, 0 to 0.5), got {noise!r}")
    return n


def _class_sizes(n: int) -> tuple[int, int]:
    # The Playground loops i < N/2 for each class, i.e. ceil(N/2) each (N + 1 points for odd N);
    # here the −1 class gets floor(N/2) so that exactly N points come back.
    return n - n // 2, n // 2


def _finish(x: np.ndarray, y: np.ndarray, labels: np.ndarray, return_tensors: bool):
    points = np.stack([x, y], axis=1).astype(np.float32)
    return out((points, labels.astype(np.float32)), return_tensors)


def classify_circle(num_samples: int = _CLASSIFY_N, noise: float = 0.0, seed: GeneratorLike = None,
                    return_tensors: bool = True):
    """Inner disc (+1) and outer ring (−1). Returns points ``(N, 2)`` and labels ``(N,)`` ±1."""
    n = _check(num_samples, noise, "classify_circle")
    rng, radius = rng_for(seed, "classify_circle"), 5.0
    n_pos, n_neg = _class_sizes(n)
    r = np.concatenate([rng.uniform(0, radius * 0.5, n_pos), rng.uniform(radius * 0.7, radius, n_neg)])
    angle = rng.uniform(0, 2 * np.pi, n)
    x, y = r * np.sin(angle), r * np.cos(angle)
    nx, ny = rng.uniform(-radius, radius, (2, n)) * noise
    labels = np.where(np.hypot(x + nx, y + ny) < radius * 0.5, 1.0, -1.0)
    return _finish(x, y, labels, return_tensors)


def classify_xor(num_samples: int = _CLASSIFY_N, noise: float = 0.0, seed: GeneratorLike = None,
                 return_tensors: bool = True):
    """Four quadrants, +1 where x·y ≥ 0; points kept 0.3 off the axes. Returns ``(N, 2)``, ``(N,)``."""
    n = _check(num_samples, noise, "classify_xor")
    rng, padding = rng_for(seed, "classify_xor"), 0.3
    x, y = rng.uniform(-5, 5, (2, n))
    x = x + np.where(x > 0, padding, -padding)
    y = y + np.where(y > 0, padding, -padding)
    nx, ny = rng.uniform(-5, 5, (2, n)) * noise
    labels = np.where((x + nx) * (y + ny) >= 0, 1.0, -1.0)
    return _finish(x, y, labels, return_tensors)


def classify_gauss(num_samples: int = _CLASSIFY_N, noise: float = 0.0, seed: GeneratorLike = None,
                   return_tensors: bool = True):
    """Gaussians at (2, 2) → +1 and (−2, −2) → −1, variance 0.5 + 7·noise per coordinate."""
    n = _check(num_samples, noise, "classify_gauss")
    rng = rng_for(seed, "classify_gauss")
    variance = 0.5 + noise * (4.0 - 0.5) / 0.5  # d3.scale.linear().domain([0, .5]).range([0.5, 4])
    n_pos, n_neg = _class_sizes(n)
    centre = np.concatenate([np.full(n_pos, 2.0), np.full(n_neg, -2.0)])
    x, y = centre + np.sqrt(variance) * rng.standard_normal((2, n))
    labels = np.concatenate([np.ones(n_pos), -np.ones(n_neg)])
    return _finish(x, y, labels, return_tensors)


def classify_spiral(num_samples: int = _CLASSIFY_N, noise: float = 0.0, seed: GeneratorLike = None,
                    return_tensors: bool = True):
    """Two interleaved spirals, r = 5i/n, t = 1.75·2π·i/n + Δ (Δ = 0 → +1, Δ = π → −1)."""
    n = _check(num_samples, noise, "classify_spiral")
    rng, half = rng_for(seed, "classify_spiral"), n / 2
    n_pos, n_neg = _class_sizes(n)
    i = np.concatenate([np.arange(n_pos), np.arange(n_neg)]).astype(np.float64)
    delta = np.concatenate([np.zeros(n_pos), np.full(n_neg, np.pi)])
    r = i / half * 5
    t = 1.75 * i / half * 2 * np.pi + delta
    nx, ny = rng.uniform(-1, 1, (2, n)) * noise
    labels = np.concatenate([np.ones(n_pos), -np.ones(n_neg)])
    return _finish(r * np.sin(t) + nx, r * np.cos(t) + ny, labels, return_tensors)


def _uniform_square(n: int, noise: float, rng: np.random.Generator, radius: float = 6.0):
    """The Playground's regression inputs: n points uniform in [−radius, radius]², and the noise
    offsets (uniform in the same square, scaled by ``noise``) its targets are computed at."""
    x, y = rng.uniform(-radius, radius, (2, n))
    nx, ny = rng.uniform(-radius, radius, (2, n)) * noise
    return x, y, nx, ny


def regress_plane(num_samples: int = _REGRESS_N, noise: float = 0.0, seed: GeneratorLike = None,
                  return_tensors: bool = True):
    """Uniform points in [−6, 6]²; target (x + y)/10 at the noisy point, in about [−1.2, 1.2]."""
    n = _check(num_samples, noise, "regress_plane")
    x, y, nx, ny = _uniform_square(n, noise, rng_for(seed, "regress_plane"))
    labels = ((x + nx) + (y + ny)) / 10.0  # d3 linear scale [-10, 10] -> [-1, 1], not clamped
    return _finish(x, y, labels, return_tensors)


_GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                       [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def regress_gaussian(num_samples: int = _REGRESS_N, noise: float = 0.0, seed: GeneratorLike = None,
                     return_tensors: bool = True):
    """Uniform points in [−6, 6]²; target the strongest of six signed bumps max(0, 1 − d/2)."""
    n = _check(num_samples, noise, "regress_gaussian")
    x, y, nx, ny = _uniform_square(n, noise, rng_for(seed, "regress_gaussian"))
    d = np.hypot((x + nx)[:, None] - _GAUSSIANS[:, 0], (y + ny)[:, None] - _GAUSSIANS[:, 1])  # (N, 6)
    values = _GAUSSIANS[:, 2] * np.clip(1.0 - d / 2.0, 0.0, 1.0)
    # the Playground keeps the first bump whose |value| is strictly largest (0 when none reach)
    labels = values[np.arange(n), np.argmax(np.abs(values), axis=1)] + 0.0  # + 0.0: no -0.0 labels
    return _finish(x, y, labels, return_tensors)


def binary_labels(labels: Tensor | np.ndarray) -> Tensor | np.ndarray:
    """±1 Playground labels → {0, 1} int64 classes (+1 → 1, −1 → 0), for BCE or cross-entropy."""
    if isinstance(labels, Tensor):
        return wrap((labels._data > 0).astype(np.int64))
    return (np.asarray(labels) > 0).astype(np.int64)


GENERATORS: dict[str, Callable] = {
    "circle": classify_circle, "xor": classify_xor, "gauss": classify_gauss, "spiral": classify_spiral,
    "reg-plane": regress_plane, "reg-gauss": regress_gaussian,
}


def playground(name: str = "circle", n: int = _CLASSIFY_N, noise: float = 0.0, seed: GeneratorLike = 0,
               test_fraction: float = 0.5, return_tensors: bool = True) -> Split:
    """A Playground data set, shuffled and split as the Playground does (defaults: circle, 500
    points, noise 0, 50 % training data).

    Args:
        name: ``circle``, ``xor``, ``gauss``, ``spiral``, ``reg-plane`` or ``reg-gauss``.
        n: number of points.
        noise: 0 to 0.5 (the Playground's slider / 100).
        seed: int, ``numpy.random.Generator`` or None (fukaku's default generator); drives both the
            points and the shuffle.
        test_fraction: share of points held out (the Playground's "ratio of training to test data"
            of 50 % means 0.5); the training set is the first floor(N·(1 − test_fraction)).

    Returns:
        :class:`Split` ``(x_train (N_train, 2), y_train (N_train,), x_test, y_test)``.
    """
    if name not in GENERATORS:
        raise ValueError(f"playground: unknown data set {name!r}; choose one of {', '.join(GENERATORS)}")
    rng = rng_for(seed, "playground")
    x, y = GENERATORS[name](n, noise, seed=rng, return_tensors=False)
    split = holdout_split(x, y, test_fraction, seed=rng)
    return Split(*out(tuple(split), return_tensors))
