"""The Hopfield energy never increases under asynchronous updates, and the dynamics stop at a fixed point
(seed 000 §6.1.6)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.models.energy import hebbian_weights, hopfield_energy, hopfield_recall

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

N = 64                              # ≤ 100 units: one unit at a time, the textbook's rule exactly
QUICK, FULL = (4, 64), (8, 128)     # (networks of each kind, runs per network)
SWEEPS = 50
ROUNDING = 1e-9                     # an "increase" must exceed float64 rounding of the energy


def random_networks(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` Hebbian networks (P = 0.15 N patterns, zero thresholds) and ``count`` random symmetric networks
    with Gaussian weights and thresholds (a spin glass): weights ``(2·count, N, N)``, thresholds ``(2·count, 1, N)``."""
    hebb = hebbian_weights(rng.choice([-1.0, 1.0], size=(count, round(0.15 * N), N))).numpy()
    glass = rng.standard_normal((count, N, N)) / np.sqrt(N)
    glass = (glass + np.swapaxes(glass, 1, 2)) / np.sqrt(2)
    glass[:, np.arange(N), np.arange(N)] = 0
    theta = np.concatenate([np.zeros((count, 1, N)), 0.3 * rng.standard_normal((count, 1, N))])
    return np.concatenate([hebb, glass]), theta


class HopfieldEnergyDescent(Experiment, id="hopfield-energy-descent", source="seed 000 §6.1.6"):
    """Asynchronous updates never increase the energy.

    With symmetric weights, w_ii = 0 and E(x) = −½ Σ w_ij x_i x_j + Σ θ_i x_i (the +θ convention, erratum C18), the
    update x_i ← sgn(Σ_j w_ij x_j − θ_i) of one unit changes the energy by −Δx_i h_i ≤ 0, so the energy never rises
    and the network settles at a fixed point, a local minimum. Run from random states on Hebbian networks and on
    random symmetric networks with thresholds (N = 64), the energy recorded after every single-unit update never
    rises by more than rounding, every run reaches a state that no single flip improves; updating all units at once
    (synchronous) instead can raise the energy and can end in a 2-cycle.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        count, runs = QUICK if ctx.quick else FULL
        w, theta = random_networks(rng, count)
        probes = rng.choice([-1.0, 1.0], size=(2 * count, runs, N))
        result = hopfield_recall(w, probes, theta, sweeps=SWEEPS, block_size=1, generator=rng, track_energy=True)
        steps = np.diff(result.energies, axis=0)                 # (updates, networks, runs)
        x = result.states.numpy()
        h = np.matmul(x, w) - theta
        sync_rose = sync_energy_rises(w, theta, probes)
        two = hopfield_recall(w, probes, theta, sweeps=SWEEPS, mode="sync").states.numpy()
        back = hopfield_recall(w, two, theta, sweeps=2, mode="sync").states.numpy()
        one = hopfield_recall(w, two, theta, sweeps=1, mode="sync").states.numpy()
        cycles = np.all(back == two, -1) & ~np.all(one == two, -1)
        return Measurement(values={
            "runs": int(2 * count * runs), "single-unit updates recorded": int(steps.size),
            "largest energy increase": float(steps.max()),
            "updates that lowered the energy": int((steps < -ROUNDING).sum()),
            "runs that reached a fixed point": int(np.all(x * h >= 0, -1).sum()),
            "all converged": bool(result.converged),
            "sweeps used": int(result.sweeps),
            "synchronous runs whose energy rose in a step": int(sync_rose),
            "synchronous runs ending in a 2-cycle": int(cycles.sum()),
        }, plot_data={"energies": result.energies[:, :, 0]})

    def checks(self, m: dict) -> list[Check]:
        return [Check("largest energy increase over all asynchronous updates", m["largest energy increase"], "≤",
                      ROUNDING),
                Check("runs that reached a fixed point (no single flip lowers E)", m["runs that reached a fixed point"],
                      "=", m["runs"]),
                Check("the dynamics move (updates that lowered E)", m["updates that lowered the energy"], ">", 0),
                Check("synchronous updates can raise E (runs where they did)",
                      m["synchronous runs whose energy rose in a step"], ">", 0)]

    summary_template = """The energy never rose: largest change {m[largest energy increase]:.1e} over
        {m[single-unit updates recorded]} updates. {m[runs]} runs from random states on Hebbian and random
        symmetric networks (N = 64, one unit at a time in random order) all reached a fixed point within
        {m[sweeps used]} sweeps ({m[runs that reached a fixed point]} of {m[runs]} are local minima). Updating all
        units at once raised the energy in {m[synchronous runs whose energy rose in a step]} runs, and
        {m[synchronous runs ending in a 2-cycle]} ended in a 2-cycle."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        energies = measurement.plot_data["energies"]

        def draw(fig):
            ax = fig.subplots()
            ax.plot(np.arange(len(energies)) / N, energies, linewidth=0.8)
            ax.set(xlabel="sweeps (one unit updated per 1/N)", ylabel="energy E(x)",
                   title="asynchronous Hopfield dynamics: one run per network")

        return save_figure(ctx, self.id, draw)


def sync_energy_rises(w: np.ndarray, theta: np.ndarray, probes: np.ndarray, steps: int = 10) -> int:
    """How many runs of synchronous dynamics raise the energy at some step (of ``steps``)."""
    x, rose = probes, np.zeros(probes.shape[:-1], dtype=bool)
    energy = hopfield_energy(w, x, theta).numpy()
    for _ in range(steps):
        x = hopfield_recall(w, x, theta, sweeps=1, mode="sync").states.numpy()
        new = hopfield_energy(w, x, theta).numpy()
        rose |= new > energy + ROUNDING
        energy = new
    return int(rose.sum())
