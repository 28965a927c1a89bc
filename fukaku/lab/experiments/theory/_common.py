"""What the theory experiments share: the NTK experiments' network (its activation, variances and depth) and
inputs on the unit sphere, the digits split of the double-descent sweeps, a log-log slope, and log axes labelled
with the swept sizes."""
from __future__ import annotations

import numpy as np

from fukaku import datasets

CONFIG = {"activation": "relu", "weight_variance": 2.0, "bias_variance": 0.1}   # the NTK experiments' network
DEPTH = 2                                             # its hidden layers
INPUTS, DIM = 6, 3                                    # points on the unit sphere the kernel is evaluated at


def sphere_points(rng: np.random.Generator, n: int = INPUTS, d: int = DIM) -> np.ndarray:
    """``n`` points drawn uniformly on the unit sphere of R^d (float64)."""
    x = rng.normal(size=(n, d))
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def loglog_slope(x, y) -> float:
    """The least-squares slope of log y against log x: the exponent p of y ∝ x^p."""
    return float(np.polyfit(np.log(np.asarray(x, dtype=float)), np.log(np.asarray(y, dtype=float)), 1)[0])


def width_axis(ax, widths) -> None:
    """A logarithmic x axis labelled with the widths themselves (no minor-tick clutter)."""
    from matplotlib.ticker import NullLocator

    ax.set_xscale("log")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(list(widths), [str(w) for w in widths])


def digits_split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The 8×8 digits: ``n`` random training images, the other 1797 − n for testing, centred and scaled by the
    training set's mean and standard deviation (one number each, as transforms.Normalize)."""
    x, y = datasets.digits(return_tensors=False)
    order = np.random.default_rng(seed).permutation(len(y))
    train, test = order[:n], order[n:]
    mean, std = x[train].mean(), x[train].std()
    return (x[train] - mean) / std, y[train], (x[test] - mean) / std, y[test]


def integer_log_ticks(ax, values) -> None:
    """Label a log-scaled x axis at some of ``values`` (about six, spread evenly on the log scale) as plain
    integers, without minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    values = sorted(set(int(v) for v in values))
    gap = (np.log10(values[-1]) - np.log10(values[0])) / 7
    ticks = [values[0]]
    for v in values[1:]:
        if np.log10(v) - np.log10(ticks[-1]) >= gap:
            ticks.append(v)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
