"""The Amari–Hopfield associative memory — seed 000 §6.1.6 (L412–472).

Units x_i ∈ {−1, +1} with symmetric weights w_ij (w_ii = 0) and thresholds θ_i have the energy

    E(x) = −½ Σ_ij w_ij x_i x_j + Σ_i θ_i x_i

(the threshold enters with a plus sign here and a minus sign in the Boltzmann machine's −Σ b_i x_i: two
conventions, erratum C18; θ_i = −b_i). The asynchronous update x_i ← sgn(h_i), h_i = Σ_j w_ij x_j − θ_i,
changes the energy by ΔE = −Δx_i h_i ≤ 0, so the energy never increases and the state reaches a fixed
point. (h_i = 0 keeps x_i: the step changes nothing, ΔE = 0.) The Hebb rule w_ij = (1/N) Σ_μ ξ_i^μ ξ_j^μ,
w_ii = 0 makes the stored patterns ξ^μ fixed points while the load α = P/N stays below the capacity
α_c ≈ 0.138 (mean field / replica theory, where the retrieval overlap m = ξ·x/N is ≈ 0.967); beyond it
recall collapses into spin-glass states. Odd mixtures sgn(±ξ^1 ± ξ^2 ± ξ^3) are spurious fixed points.

Everything is vectorised over leading batch dimensions: many probes of one network (``(B, N)``) or many
networks at once (weights ``(R, N, N)``, probes ``(R, B, N)``). Asynchronous dynamics visit the units in a
fresh random order each sweep; with ``block_size`` b > 1 the order is cut into blocks of b units updated
together from the current state (b = 1 is the textbook's one-unit-at-a-time rule, exact energy descent;
small b relative to N approximates it closely at 1/b of the Python overhead).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..._generator import resolve_generator
from ...errors import ShapeError
from ...nn.modules.module import Module
from ...tensor import Tensor, wrap, zeros

__all__ = ["HopfieldNetwork", "HopfieldRecall", "hebbian_weights", "hopfield_energy", "hopfield_recall", "overlap"]


def _array(x, name: str, where: str) -> np.ndarray:
    if isinstance(x, Tensor):
        return x._data
    try:
        return np.asarray(x)
    except Exception as error:  # pragma: no cover - numpy raises for objects only
        raise TypeError(f"{where}: {name} must be a Tensor or an array, got {type(x).__name__}") from error


def _check_spins(a: np.ndarray, name: str, where: str) -> None:
    if a.size and not np.all((a == 1) | (a == -1)):
        raise ValueError(f"{where}: {name} must hold only −1 and +1 (bipolar units), found {np.unique(a)[:5]}; "
                         "map 0/1 bits with 2·b − 1")


def hebbian_weights(patterns) -> Tensor:
    """The Hebb rule w_ij = (1/N) Σ_μ ξ_i^μ ξ_j^μ with w_ii = 0 (seed 000 §6.1.6).

    Args:
        patterns: ±1 patterns ``(..., P, N)``; leading dimensions give independent networks.

    Shape: ``(..., P, N)`` → ``(..., N, N)``, symmetric, zero diagonal, in the patterns' floating dtype
    (float32 for integer patterns).

    Examples:
        >>> hebbian_weights(fk.tensor([[1., -1., 1.], [1., 1., -1.]])) * 3
        tensor([[ 0.,  0.,  0.],
                [ 0.,  0., -2.],
                [ 0., -2.,  0.]])
    """
    where = "hebbian_weights"
    xi = _array(patterns, "patterns", where)
    if xi.ndim < 2:
        raise ShapeError(f"{where}: patterns must have shape (..., P, N), got {tuple(xi.shape)}; "
                         "for one pattern use patterns[None]")
    _check_spins(xi, "patterns", where)
    xi = xi.astype(xi.dtype if xi.dtype.kind == "f" else np.float32)
    n = xi.shape[-1]
    w = np.matmul(np.swapaxes(xi, -1, -2), xi) / n
    idx = np.arange(n)
    w[..., idx, idx] = 0
    return wrap(w)


def hopfield_energy(weight, states, threshold=None) -> Tensor:
    """E(x) = −½ xᵀWx + θᵀx for each state (seed 000 §6.1.6; the +θ convention, erratum C18).

    Shape: weight ``(..., N, N)``, states ``(..., B, N)`` or ``(N,)``, threshold ``(N,)`` or broadcastable to the
    states → energies ``states.shape[:-1]``.
    """
    w, x = _array(weight, "weight", "hopfield_energy"), _array(states, "states", "hopfield_energy")
    x = x.astype(w.dtype)
    wx = np.matmul(x, w)                # xᵀW = (Wx)ᵀ for symmetric W; broadcasts over batch dims
    e = -0.5 * (wx * x).sum(-1)
    if threshold is not None:
        e = e + (_array(threshold, "threshold", "hopfield_energy") * x).sum(-1)
    return wrap(np.asarray(e))


def overlap(patterns, states) -> Tensor:
    """The overlap m = ξ·x / N ∈ [−1, 1] of patterns and states, elementwise over matching leading dims
    (``(..., N)`` and ``(..., N)`` → ``(...)``); m = 1 is perfect recall, m = −1 the mirror image."""
    xi, x = _array(patterns, "patterns", "overlap"), _array(states, "states", "overlap")
    if xi.shape[-1] != x.shape[-1]:
        raise ShapeError(f"overlap: patterns {tuple(xi.shape)} and states {tuple(x.shape)} differ in N (last dim)")
    return wrap(np.asarray((xi * x).sum(-1) / xi.shape[-1], dtype=np.float64))


@dataclass
class HopfieldRecall:
    """What :func:`hopfield_recall` returns: the final ``states`` (a Tensor of ±1), the number of ``sweeps`` run,
    whether every state ``converged`` (a full sweep changed nothing), and with ``track_energy`` the energy of
    every state after each block of updates, ``energies`` (``(steps + 1, ...)``, ``None`` otherwise)."""

    states: Tensor
    sweeps: int
    converged: bool
    energies: np.ndarray | None = None


def _fields(w: np.ndarray, x: np.ndarray, units: np.ndarray, theta: np.ndarray | None) -> np.ndarray:
    """h_i = Σ_j w_ij x_j − θ_i for the units ``units`` of every state: (..., B, N) → (..., B, b)."""
    h = np.matmul(x, np.swapaxes(w[..., units, :], -1, -2))  # w symmetric in the textbook, rows used as given
    if theta is not None:
        h = h - theta[..., units]
    return h


def hopfield_recall(weight, probe, threshold=None, sweeps: int = 20, mode: str = "async",
                    block_size: int | None = None, generator: np.random.Generator | None = None,
                    track_energy: bool = False) -> HopfieldRecall:
    """Run the Hopfield dynamics from ``probe`` until a fixed point or ``sweeps`` sweeps (seed 000 §6.1.6).

    Args:
        weight: ``(..., N, N)`` symmetric weights (leading dims: independent networks).
        probe: ±1 start states ``(..., B, N)`` (or ``(N,)``), broadcastable against the weights' batch dims.
        threshold: θ, broadcastable to the probe's shape (``(N,)``, or one per state); ``None`` is zero.
        sweeps: the most sweeps (each visits every unit once).
        mode: ``"async"`` — units in a fresh random order per sweep, ``block_size`` at a time (energy never
            increases when ``block_size`` is 1); ``"sync"`` — all units at once, x ← sgn(Wx − θ) (Little's
            parallel dynamics, which may end in a 2-cycle).
        block_size: units updated together in ``"async"`` mode; default 1 for N ≤ 100, else ⌈N/100⌉.
        generator: the NumPy/fukaku Generator for the update order (default: fukaku's default generator, seeded by ``fukaku.manual_seed``).
        track_energy: record the energy after every block (for checking the descent).

    h_i = 0 leaves x_i unchanged. Returns a :class:`HopfieldRecall`.
    """
    where = "hopfield_recall"
    w = _array(weight, "weight", where)
    x = _array(probe, "probe", where)
    if w.ndim < 2 or w.shape[-1] != w.shape[-2]:
        raise ShapeError(f"{where}: weight must be (..., N, N), got {tuple(w.shape)}")
    n = w.shape[-1]
    if x.shape[-1] != n:
        raise ShapeError(f"{where}: probe {tuple(x.shape)} must end in N = {n} units (weight {tuple(w.shape)})")
    _check_spins(x, "probe", where)
    if mode not in ("async", "sync"):
        raise ValueError(f"{where}: mode must be 'async' or 'sync', got {mode!r}")
    dtype = w.dtype if w.dtype.kind == "f" else np.dtype(np.float64)
    w = w.astype(dtype, copy=False)
    squeeze = x.ndim == 1
    x = np.array(x[None] if squeeze else x, dtype=dtype)
    theta = None if threshold is None else np.asarray(_array(threshold, "threshold", where), dtype=dtype)
    x = np.array(np.broadcast_to(x, np.broadcast_shapes(x.shape, w.shape[:-2] + (1, 1))[:-1] + (n,)))
    rng = resolve_generator(generator, where)
    b = int(block_size) if block_size is not None else (1 if n <= 100 else -(-n // 100))
    if b < 1:
        raise ValueError(f"{where}: block_size must be >= 1, got {block_size}")
    if mode == "sync":
        b = n
    energies = [hopfield_energy(w, x, theta)._data] if track_energy else None
    converged, done = False, 0
    for _ in range(int(sweeps)):
        done += 1
        changed = False
        order = rng.permutation(n) if mode == "async" else np.arange(n)
        for start in range(0, n, b):
            units = order[start:start + b]
            h = _fields(w, x, units, theta)
            old = x[..., units]
            new = np.where(h > 0, 1.0, np.where(h < 0, -1.0, old)).astype(dtype)
            if not np.array_equal(new, old):
                changed = True
                x[..., units] = new
            if track_energy:
                energies.append(hopfield_energy(w, x, theta)._data)
        if not changed:
            converged = True
            break
    out = x[..., 0, :] if squeeze else x
    return HopfieldRecall(wrap(out), done, converged, None if energies is None else np.stack(energies))


class HopfieldNetwork(Module):
    """The Amari–Hopfield associative memory of N bipolar units (seed 000 §6.1.6).

    ``weight`` ``(N, N)`` (symmetric, zero diagonal) and ``threshold`` ``(N,)`` are buffers: they are set by the
    Hebb rule in :meth:`store` (or by hand), not learnt by gradients, and travel in the state dict.

    Examples:
        >>> net = HopfieldNetwork(100)
        >>> xi = fk.tensor(np.random.default_rng(0).choice([-1., 1.], (5, 100)))
        >>> net.store(xi)
        >>> probe = xi[0].clone(); probe[:15] *= -1
        >>> net.overlap(xi[0], net.recall(probe)).item()
        1.0
    """

    def __init__(self, num_units: int, dtype=None) -> None:
        super().__init__()
        if int(num_units) < 1:
            raise ValueError(f"HopfieldNetwork: num_units must be >= 1, got {num_units}")
        self.num_units = int(num_units)
        self.register_buffer("weight", zeros(self.num_units, self.num_units, dtype=dtype))
        self.register_buffer("threshold", zeros(self.num_units, dtype=dtype))
        self.num_patterns = 0

    def extra_repr(self) -> str:
        return f"num_units={self.num_units}, num_patterns={self.num_patterns}"

    def store(self, patterns, accumulate: bool = False) -> HopfieldNetwork:
        """Store ±1 ``patterns`` ``(P, N)`` by the Hebb rule, W = (1/N) Σ_μ ξ^μ ξ^μᵀ, w_ii = 0; with
        ``accumulate`` add them to what is stored. Returns self."""
        xi = _array(patterns, "patterns", "HopfieldNetwork.store")
        if xi.ndim != 2 or xi.shape[1] != self.num_units:
            raise ShapeError(f"HopfieldNetwork.store: patterns must be (P, {self.num_units}), got {tuple(xi.shape)}")
        w = hebbian_weights(xi)._data.astype(self.weight._data.dtype)
        if accumulate:
            self.weight._data += w
            self.num_patterns += xi.shape[0]
        else:
            self.weight._data[...] = w
            self.num_patterns = xi.shape[0]
        return self

    def local_field(self, states) -> Tensor:
        """h = Wx − θ, ``(..., N)`` → ``(..., N)``."""
        x = _array(states, "states", "HopfieldNetwork.local_field").astype(self.weight._data.dtype)
        return wrap(x @ self.weight._data.T - self.threshold._data)

    def energy(self, states) -> Tensor:
        """E(x) = −½ xᵀWx + θᵀx, ``(..., N)`` → ``(...)``."""
        return hopfield_energy(self.weight, states, self.threshold)

    def step(self, states) -> Tensor:
        """One synchronous update of all units, x ← sgn(Wx − θ) (h = 0 keeps the unit)."""
        x = _array(states, "states", "HopfieldNetwork.step")
        h = self.local_field(x)._data
        return wrap(np.where(h > 0, 1.0, np.where(h < 0, -1.0, x)).astype(h.dtype))

    def recall(self, probe, sweeps: int = 20, mode: str = "async", block_size: int | None = None,
               generator: np.random.Generator | None = None) -> Tensor:
        """The fixed point reached from ``probe`` ``(N,)`` or ``(B, N)`` (see :func:`hopfield_recall`)."""
        return hopfield_recall(self.weight, probe, self.threshold, sweeps=sweeps, mode=mode,
                               block_size=block_size, generator=generator).states

    forward = recall

    @staticmethod
    def overlap(patterns, states) -> Tensor:
        """m = ξ·x / N (see :func:`overlap`)."""
        return overlap(patterns, states)
