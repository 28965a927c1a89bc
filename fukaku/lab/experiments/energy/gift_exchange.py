"""The gift-exchange economy: agents handing one unit at random to each other end up with the Boltzmann
distribution P(n) = 2^{−(n+1)} at mean 1, i.e. β = ln 2 (seed 002 ch. 5)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.physics import gift_exchange, gift_exchange_stationary, wealth_distribution

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

SHOWN = 7               # n = 0 … 6 compared
QUICK = (4000, 400)     # agents, steps (each step: every agent in one random pair, one unit per pair)
FULL = (40000, 2000)
SNAPSHOTS = 40          # pooled snapshots from the second half of the run


class GiftExchange(Experiment, id="gift-exchange", source="seed 002 ch. 5"):
    """Random one-unit gifts drive the wealth distribution to P(n) = 2^{−(n+1)}.

    M agents start with one unit each; repeatedly, one agent gives one unit (if it has any) to another chosen
    at random. The total is conserved and every arrangement of the units becomes equally likely, so the share
    of agents holding n units is the Boltzmann distribution over n with β fixed by the mean: for mean 1,
    β = ln 2 and P(n) = 2^{−(n+1)}. Simulated with 4000 agents (40000 full), pooled over snapshots of the
    second half, the measured P(n) for n ≤ 6 is within 0.01 of 2^{−(n+1)} (the exact finite-M law too), the
    β fitted from log P(n) is ln 2 within 0.05, and the total never changes.
    """

    def measure(self, ctx: Context) -> Measurement:
        agents, steps = QUICK if ctx.quick else FULL
        _, recorded = gift_exchange(agents, mean=1, steps=steps, rng=ctx.rng(), record_every=steps // (2 * SNAPSHOTS))
        pooled = recorded[-SNAPSHOTS:]
        p = wealth_distribution(pooled, max_n=SHOWN - 1)
        n = np.arange(SHOWN)
        boltzmann = gift_exchange_stationary(n)
        exact = gift_exchange_stationary(n, mean=1, agents=agents)
        usable = p > 0
        slope = np.polyfit(n[usable], np.log(p[usable]), 1)[0]
        early = wealth_distribution(recorded[:1], max_n=SHOWN - 1)
        return Measurement(values={
            "agents": agents, "steps": steps,
            "P(n), n = 0…6": [round(float(v), 5) for v in p],
            "2^{−(n+1)}": [float(v) for v in boltzmann],
            "max |P(n) − 2^{−(n+1)}|": float(np.abs(p - boltzmann).max()),
            "max |P(n) − exact finite-M law|": float(np.abs(p - exact).max()),
            "fitted β (−slope of log P(n))": float(-slope),
            "ln 2": float(np.log(2)),
            "max |P(n) − 2^{−(n+1)}| at the first snapshot": float(np.abs(early - boltzmann).max()),
            "largest change of the total": int(np.abs(recorded.sum(1) - agents).max()),
        }, plot_data={"p": p, "boltzmann": boltzmann, "early": early})

    def checks(self, m: dict) -> list[Check]:
        return [Check("P(n) = 2^{−(n+1)}: max deviation", m["max |P(n) − 2^{−(n+1)}|"], "≤", 0.01),
                Check("P(n) = exact finite-M law: max deviation", m["max |P(n) − exact finite-M law|"], "≤", 0.01),
                Check("β = ln 2: |fitted − ln 2|", abs(m["fitted β (−slope of log P(n))"] - m["ln 2"]), "≤", 0.05),
                Check("units are conserved", m["largest change of the total"], "=", 0)]

    summary_template = """P(n) is within {m[max |P(n) − 2^{−(n+1)}|]:.4f} of 2^{{−(n+1)}}; fitted β =
        {m[fitted β (−slope of log P(n))]:.3f} vs ln 2. {m[agents]} agents with one unit each exchanged single
        units in random pairs for {m[steps]} steps; pooled over the last snapshots the share holding n = 0…6 units
        was {m[P(n), n = 0…6]}, against 2^{{−(n+1)}} = 0.5, 0.25, 0.125, … (distance
        {m[max |P(n) − 2^{−(n+1)}| at the first snapshot]:.3f} at the first snapshot), and the total never changed."""

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        d = measurement.plot_data
        n = np.arange(SHOWN)

        def draw(fig):
            ax = fig.subplots()
            ax.semilogy(n, d["boltzmann"], "k-", label="2^{−(n+1)} (β = ln 2)")
            ax.semilogy(n, d["p"], "o", label="simulated, stationary")
            ax.semilogy(n[d["early"] > 0], d["early"][d["early"] > 0], "x", label="first snapshot")
            ax.set(xlabel="units held n", ylabel="share of agents P(n)", title="gift exchange")
            ax.legend()

        return save_figure(ctx, self.id, draw)
