"""The Hopfield network's capacity: recall holds up to α = P/N ≈ 0.138 and collapses above it, more sharply for
larger N (seed 000 §6.1.6)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from fukaku.models.energy import hebbian_weights, hopfield_recall, overlap

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

ALPHA_C = 0.138                 # mean-field / replica capacity (Amit, Gutfreund, Sompolinsky)
M_C = 0.967                     # the retrieval overlap at α_c [NT]
TOLERANCE = 0.02                # the issue's ±0.02 at N = 1000
QUICK_ALPHAS = (0.10, 0.12, 0.13, 0.14, 0.15, 0.16, 0.18, 0.20, 0.22)
FULL_ALPHAS = tuple(np.round(np.arange(0.05, 0.2501, 0.01), 2))
QUICK_NETWORKS = {250: 12, 500: 6, 1000: 2}              # independent networks per α, per N
FULL_NETWORKS = {250: 32, 500: 16, 1000: 4, 2000: 2}
SWEEPS = 20
BLOCKS = 20                      # each sweep visits the units in random order, N/20 at a time
LOW, HIGH = 0.12, 0.20           # "below" and "above" the capacity


def overlap_curve(n: int, alphas, networks: int, rng: np.random.Generator) -> np.ndarray:
    """Mean final overlap m = ξ·x/N at each α: ``networks`` Hebbian networks of P = round(αN) random patterns, each
    run from every one of its stored patterns at once (batched over networks and patterns)."""
    means = []
    for alpha in alphas:
        p = max(1, round(alpha * n))
        xi = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(networks, p, n))
        final = hopfield_recall(hebbian_weights(xi), xi, sweeps=SWEEPS, block_size=n // BLOCKS, generator=rng)
        means.append(float(overlap(xi, final.states).numpy().mean()))
    return np.array(means)


def crossing(alphas, m, level: float) -> float:
    """The first α at which the curve m(α) falls below ``level`` (linear interpolation); NaN if it never does."""
    alphas, m = np.asarray(alphas, dtype=float), np.asarray(m)
    below = np.nonzero(m < level)[0]
    if len(below) == 0:
        return float("nan")
    i = below[0]
    if i == 0:
        return float(alphas[0])
    return float(alphas[i - 1] + (m[i - 1] - level) / (m[i - 1] - m[i]) * (alphas[i] - alphas[i - 1]))


def steepest_drop(alphas, m) -> float:
    """The largest −dm/dα between neighbouring grid points: how sharp the transition is."""
    return float(np.max(-np.diff(m) / np.diff(np.asarray(alphas, dtype=float))))


class HopfieldCapacity(Experiment, id="hopfield-capacity", source="seed 000 §6.1.6"):
    """Recall works below α = P/N ≈ 0.138 and collapses above it.

    Hebbian storage of P random patterns in N units: while the load α = P/N stays below the capacity α_c ≈ 0.138
    (mean-field / replica theory) each stored pattern is (close to) a fixed point, the dynamics started from it
    stay with overlap m ≈ 1 (m ≈ 0.967 at α_c); above it the retrieval states vanish and the state wanders off to
    a spin-glass state of small overlap. The finite-N transition sharpens as N grows. For N = 250, 500, 1000 (and
    2000 in the full run) the mean final overlap from the stored patterns is ≥ 0.97 at α ≤ 0.12, ≤ 0.6 at
    α = 0.2 for N ≥ 1000, its steepest drop grows with N, and α_c(N), where the mean overlap falls below 0.967,
    is 0.138 ± 0.02 at N = 1000.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        alphas = QUICK_ALPHAS if ctx.quick else FULL_ALPHAS
        networks = QUICK_NETWORKS if ctx.quick else FULL_NETWORKS
        curves, seconds = {}, {}
        for n, count in networks.items():
            start = time.perf_counter()
            curves[n] = overlap_curve(n, alphas, count, rng)
            seconds[n] = time.perf_counter() - start
        a = np.asarray(alphas)
        low = a <= LOW + 1e-9
        high_index = int(np.argmin(np.abs(a - HIGH)))
        sizes = sorted(curves)
        drops = [steepest_drop(alphas, curves[n]) for n in sizes]
        return Measurement(values={
            "α grid": [float(x) for x in alphas], "networks per α": {str(n): c for n, c in networks.items()},
            "mean final overlap": {str(n): [round(float(x), 4) for x in c] for n, c in curves.items()},
            "α_c(N) (mean overlap falls below 0.967)": {str(n): crossing(alphas, c, M_C) for n, c in curves.items()},
            "α_c at N = 1000": crossing(alphas, curves[1000], M_C),
            "lowest mean overlap at α ≤ 0.12": float(min(c[low].min() for c in curves.values())),
            "highest mean overlap at α = 0.2, N ≥ 1000": float(max(curves[n][high_index] for n in sizes if n >= 1000)),
            "steepest drop −dm/dα": {str(n): d for n, d in zip(sizes, drops)},
            "steepest drop grows with N (pairs in order)": int((np.diff(drops) > 0).sum()),
            "pairs of neighbouring N": len(sizes) - 1,
            "seconds for the N = 1000 sweep": seconds[1000],
            "largest N": sizes[-1],
        }, plot_data={"alphas": a, "curves": curves})

    def checks(self, m: dict) -> list[Check]:
        return [Check("α_c at N = 1000 within 0.02 of 0.138", abs(m["α_c at N = 1000"] - ALPHA_C), "≤", TOLERANCE),
                Check("recall below capacity: lowest mean overlap at α ≤ 0.12", m["lowest mean overlap at α ≤ 0.12"],
                      "≥", 0.97),
                Check("collapse above: mean overlap at α = 0.2 (N ≥ 1000)",
                      m["highest mean overlap at α = 0.2, N ≥ 1000"], "≤", 0.6),
                Check("sharper with N: pairs of neighbouring N whose steepest drop grows",
                      m["steepest drop grows with N (pairs in order)"], "=", m["pairs of neighbouring N"]),
                Check("the N = 1000 sweep runs within 60 s", m["seconds for the N = 1000 sweep"], "≤", 60.0)]

    summary_template = """Capacity at N = 1000: α_c = {m[α_c at N = 1000]:.3f}, against the theory's 0.138.
        Random patterns were stored by the Hebb rule in N = 250 … {m[largest N]} units and the asynchronous
        dynamics (random order, N/20 units at a time) run from each stored pattern: the mean final overlap was at
        least {m[lowest mean overlap at α ≤ 0.12]:.3f} for α ≤ 0.12 and at most
        {m[highest mean overlap at α = 0.2, N ≥ 1000]:.3f} at α = 0.2 for N ≥ 1000; the steepest drop of the
        overlap curve was {drops} for N = {sizes}. The N = 1000 sweep took
        {m[seconds for the N = 1000 sweep]:.1f} s."""

    def summary_values(self, m: dict) -> dict:
        drops = m["steepest drop −dm/dα"]
        return {"drops": ", ".join(f"{drops[n]:.1f}" for n in drops), "sizes": ", ".join(drops)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        alphas, curves = measurement.plot_data["alphas"], measurement.plot_data["curves"]
        found = measurement.values["α_c(N) (mean overlap falls below 0.967)"]

        def draw(fig):
            ax = fig.subplots()
            for n, c in curves.items():
                line, = ax.plot(alphas, c, "o-", label=f"N = {n}")
                if np.isfinite(found[str(n)]):
                    ax.axvline(found[str(n)], color=line.get_color(), linestyle=":", linewidth=1)
            ax.axvline(ALPHA_C, color="k", linestyle="--", label="α_c = 0.138 (theory)")
            ax.axhline(M_C, color="grey", linewidth=0.8, label="m = 0.967")
            ax.set(xlabel="load α = P/N", ylabel="mean final overlap m",
                   title="Hopfield capacity: recall from the stored patterns")
            ax.legend()

        return save_figure(ctx, self.id, draw)
