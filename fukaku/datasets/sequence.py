"""Synthetic sequence tasks for recurrent networks (seed 004 §3.6 RNN/LSTM/GRU), batch-first.

- :func:`adding_problem` (Hochreiter & Schmidhuber 1997; the form of Le et al. 2015): inputs
  ``(n, T, 2)``, channel 0 values ~ U(0, 1), channel 1 markers with exactly two ones, one in the
  first half of the sequence and one in the second; target ``(n, 1)`` the sum of the two marked
  values. Predicting 1 always (the mean) gives MSE ≈ 1/6 ≈ 0.167: the bar to beat.
- :func:`copy_task` / :func:`reverse_task` (Hochreiter & Schmidhuber 1997; Arjovsky et al. 2016):
  remember T symbols across a delay and replay them (in order, or reversed).
- :func:`noisy_sine`: next-value prediction on a sine wave with a random phase and additive noise.
"""
from __future__ import annotations

import numpy as np

from ..utils.data._generator import GeneratorLike
from .._checks import check_int
from ._common import out, rng_for


def adding_problem(n: int, T: int, seed: GeneratorLike = None, return_tensors: bool = True):
    """The adding problem.

    Returns:
        ``x (n, T, 2)`` float32 (values, markers) and ``y (n, 1)`` float32, the sum of the two
        values whose marker is 1.
    """
    n = check_int(n, "n", "adding_problem")
    T = check_int(T, "T", "adding_problem", minimum=2)
    rng = rng_for(seed, "adding_problem")
    values = rng.random((n, T))
    first = rng.integers(0, T // 2, n)
    second = rng.integers(T // 2, T, n)
    rows = np.arange(n)
    markers = np.zeros((n, T))
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], axis=2).astype(np.float32)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)
    return out((x, y), return_tensors)


def _memory_task(where: str, n, T, num_symbols, delay, seed, reverse: bool, return_tensors: bool):
    n = check_int(n, "n", where)
    T = check_int(T, "T", where)
    num_symbols = check_int(num_symbols, "num_symbols", where)
    delay = check_int(delay, "delay", where, minimum=0)
    rng = rng_for(seed, where)
    blank, go = 0, num_symbols + 1
    length = 2 * T + delay + 1
    symbols = rng.integers(1, num_symbols + 1, (n, T))
    x = np.full((n, length), blank, dtype=np.int64)
    x[:, :T] = symbols
    x[:, T + delay] = go
    y = np.full((n, length), blank, dtype=np.int64)
    y[:, T + delay + 1:] = symbols[:, ::-1] if reverse else symbols
    return out((x, y), return_tensors)


def copy_task(n: int, T: int, num_symbols: int = 8, delay: int = 0, seed: GeneratorLike = None,
              return_tensors: bool = True):
    """Remember T symbols and replay them after a go marker.

    Tokens: 0 blank, 1 … num_symbols data, num_symbols + 1 the go marker (vocabulary size
    num_symbols + 2). Length L = 2T + delay + 1:
    input ``s_1 … s_T, 0 × delay, GO, 0 × T``; target ``0 × (T + delay + 1), s_1 … s_T``.

    Returns:
        ``x (n, L)`` and ``y (n, L)`` int64 token ids. A model that outputs blanks and then guesses
        scores cross-entropy T·log(num_symbols)/L: the memoryless baseline.
    """
    return _memory_task("copy_task", n, T, num_symbols, delay, seed, False, return_tensors)


def reverse_task(n: int, T: int, num_symbols: int = 8, delay: int = 0, seed: GeneratorLike = None,
                 return_tensors: bool = True):
    """As :func:`copy_task`, but the target replays the symbols in reverse order, ``s_T … s_1``."""
    return _memory_task("reverse_task", n, T, num_symbols, delay, seed, True, return_tensors)


def noisy_sine(n: int, T: int, period: float = 20.0, noise: float = 0.1, seed: GeneratorLike = None,
               return_tensors: bool = True):
    """Next-value prediction on ``s_t = sin(2π t / period + φ) + noise·ε_t``, φ ~ U(0, 2π) per
    sequence, ε ~ N(0, 1).

    Returns:
        ``x (n, T, 1)`` = s_0 … s_{T−1} and ``y (n, T, 1)`` = s_1 … s_T (float32): the target at
        step t is the input at step t + 1. No predictor beats MSE noise² on average (the noise
        cannot be predicted).
    """
    n = check_int(n, "n", "noisy_sine")
    T = check_int(T, "T", "noisy_sine")
    if not period > 0:
        raise ValueError(f"noisy_sine: period must be > 0 steps, got {period!r}")
    if not noise >= 0:
        raise ValueError(f"noisy_sine: noise must be >= 0, got {noise!r}")
    rng = rng_for(seed, "noisy_sine")
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    t = np.arange(T + 1)
    s = np.sin(2 * np.pi * t / period + phase) + noise * rng.standard_normal((n, T + 1))
    s = s.astype(np.float32)[:, :, None]
    return out((s[:, :-1], s[:, 1:]), return_tensors)
