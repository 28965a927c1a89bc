"""Spurious states: mixtures sgn(±ξ^a ± ξ^b ± ξ^c) of three stored patterns are stable fixed points of a Hopfield
network, with energy −3N/8 above the patterns' −N/2 (seed 000 §6.1.6)."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from fukaku.models.energy import hebbian_weights, hopfield_energy, hopfield_recall, overlap

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

QUICK, FULL = (1000, 5, 200), (2000, 10, 2000)      # (N, P, random starts)
SWEEPS = 30
BLOCKS = 20                                          # units in random order, N/20 at a time
STABLE = 0.95                                        # a state "stays" when its overlap with the start is ≥ this


def three_mixtures(xi: np.ndarray) -> np.ndarray:
    """Every sgn(±ξ^a ± ξ^b ± ξ^c) for a < b < c: ``(P, N)`` → ``(8·C(P, 3), N)``."""
    triples = np.array(list(itertools.combinations(range(len(xi)), 3)))
    signs = np.array(list(itertools.product([-1.0, 1.0], repeat=3)))
    return np.sign(np.einsum("sk,tkn->tsn", signs, xi[triples])).reshape(-1, xi.shape[1])


class HopfieldSpuriousStates(Experiment, id="hopfield-spurious-states", source="seed 000 §6.1.6"):
    """Mixtures of three patterns are spurious attractors.

    Besides the stored patterns ±ξ^μ the Hebbian network has fixed points it was never taught: the odd mixtures
    x = sgn(±ξ^a ± ξ^b ± ξ^c), each with overlap 1/2 with its three components and energy −½ N Σ m² = −3N/8, above
    the patterns' −N/2 (mean-field theory at low load). Counted over every 3-mixture of P random patterns in N
    units (P/N ≤ 0.005), at least 95 % are fixed points of the asynchronous dynamics; their component overlaps
    average 0.5 ± 0.03 and their energy per unit −0.375 ± 0.01; and the dynamics started from random states end
    in some of them.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        n, p, starts = QUICK if ctx.quick else FULL
        xi = rng.choice([-1.0, 1.0], size=(p, n))
        w = hebbian_weights(xi)
        mixtures = three_mixtures(xi)
        final = hopfield_recall(w, mixtures, sweeps=SWEEPS, block_size=n // BLOCKS, generator=rng).states.numpy()
        stayed = overlap(mixtures, final).numpy() >= STABLE
        components = np.sort(np.abs(final @ xi.T) / n, axis=1)[:, -3:]
        # where random starts end: a stored pattern (±), a 3-mixture (±), or something else
        ends = hopfield_recall(w, rng.choice([-1.0, 1.0], size=(starts, n)), sweeps=SWEEPS,
                               block_size=n // BLOCKS, generator=rng).states.numpy()
        to_pattern = np.abs(ends @ xi.T / n).max(1) >= STABLE
        to_mixture = ~to_pattern & (np.abs(ends @ mixtures.T / n).max(1) >= STABLE)
        return Measurement(values={
            "N": n, "P": p, "3-mixtures": int(len(mixtures)),
            "stable 3-mixtures": int(stayed.sum()), "fraction stable": float(stayed.mean()),
            "mean overlap with each component": float(components.mean()),
            "energy per unit of the mixtures": float(hopfield_energy(w, final).numpy()[stayed].mean() / n),
            "energy per unit of the stored patterns": float(hopfield_energy(w, xi).numpy().mean() / n),
            "random starts": starts, "random starts ending at a stored pattern": int(to_pattern.sum()),
            "random starts ending at a 3-mixture": int(to_mixture.sum()),
            "random starts ending elsewhere": int(starts - to_pattern.sum() - to_mixture.sum()),
        }, plot_data={"components": components})

    def checks(self, m: dict) -> list[Check]:
        return [Check("fraction of 3-mixtures that are fixed points", m["fraction stable"], "≥", 0.95),
                Check("|mean component overlap − 1/2|", abs(m["mean overlap with each component"] - 0.5), "≤", 0.03),
                Check("|mixture energy per unit − (−3/8)|", abs(m["energy per unit of the mixtures"] + 0.375), "≤",
                      0.01),
                Check("mixtures lie above the patterns: energy gap per unit",
                      m["energy per unit of the mixtures"] - m["energy per unit of the stored patterns"], ">", 0.1),
                Check("random starts that end in a 3-mixture", m["random starts ending at a 3-mixture"], ">", 0)]

    summary_template = """{m[stable 3-mixtures]} of {m[3-mixtures]} three-pattern mixtures are stable fixed points.
        With P = {m[P]} random patterns in N = {m[N]} units the mixtures sgn(±ξ^a ± ξ^b ± ξ^c) kept
        {m[mean overlap with each component]:.3f} overlap with each component on average and energy
        {m[energy per unit of the mixtures]:.3f} N (theory −0.375 N; stored patterns
        {m[energy per unit of the stored patterns]:.3f} N). Of {m[random starts]} random starts,
        {m[random starts ending at a stored pattern]} ended at a stored pattern,
        {m[random starts ending at a 3-mixture]} at a 3-mixture and {m[random starts ending elsewhere]} elsewhere."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        components = measurement.plot_data["components"]

        def draw(fig):
            ax = fig.subplots()
            ax.hist(components.ravel(), bins=np.linspace(0.3, 0.7, 41))
            ax.axvline(0.5, color="k", linestyle="--", label="theory: 1/2")
            ax.set(xlabel="|overlap| of a mixture's fixed point with one of its components", ylabel="count",
                   title="spurious 3-mixture states")
            ax.legend()

        return save_figure(ctx, self.id, draw)
