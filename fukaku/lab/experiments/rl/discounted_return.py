"""The recursion G_t = r_{t+1} + γ G_{t+1} equals the direct discounted sum Σ_k γ^k r_{t+k+1} (seed 002 ch. 4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.rl import discounted_returns

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

GAMMAS = (0.0, 0.5, 0.9, 0.99, 1.0)
SIZES = {True: (64, 200), False: (512, 1000)}      # episodes, steps


def direct_sum(rewards: np.ndarray, gamma: float) -> np.ndarray:
    """G_t = Σ_{k ≥ t} γ^{k−t} r_{k+1} for each row, as one product with the upper-triangular matrix of powers
    (no recursion): G = r Uᵀ with U[t, k] = γ^{k−t} for k ≥ t."""
    steps = rewards.shape[-1]
    lag = np.arange(steps)[None, :] - np.arange(steps)[:, None]
    powers = np.where(lag >= 0, float(gamma) ** np.maximum(lag, 0), 0.0)
    return rewards @ powers.T


class DiscountedReturn(Experiment, id="discounted-return", source="seed 002 ch. 4"):
    """The return's recursion equals its direct discounted sum.

    The return is the discounted sum of future rewards, G_t = r_{t+1} + γ r_{t+2} + γ² r_{t+3} + …, and the book
    computes it by the recursion G_t = r_{t+1} + γ G_{t+1}, backward from the end of the episode. Both give the
    same numbers (up to rounding) for any rewards and any 0 ≤ γ ≤ 1; for a constant reward 1 over T steps (a
    CartPole episode), G_0 = (1 − γ^T)/(1 − γ) (T when γ = 1).
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        episodes, steps = SIZES[ctx.quick]
        rewards = rng.normal(size=(episodes, steps)) + rng.binomial(1, 0.05, size=(episodes, steps)) * 10.0
        rel, const = {}, {}
        for gamma in GAMMAS:
            rec, direct = discounted_returns(rewards, gamma), direct_sum(rewards, gamma)
            rel[str(gamma)] = float(np.abs(rec - direct).max() / np.abs(direct).max())
            lengths = rng.integers(1, steps + 1, size=episodes)
            ones = (np.arange(steps)[None, :] < lengths[:, None]).astype(np.float64)
            g0 = discounted_returns(ones, gamma)[:, 0]
            closed = lengths.astype(float) if gamma == 1.0 else (1 - gamma ** lengths) / (1 - gamma)
            const[str(gamma)] = float(np.abs(g0 - closed).max() / closed.max())
        example = rewards[0, :60]
        return Measurement(values={
            "episodes × steps": f"{episodes} × {steps}",
            "max |recursion − direct sum| / max |G| per γ": rel,
            "largest relative difference": max(rel.values()),
            "constant reward: max |G_0 − (1 − γ^T)/(1 − γ)| / max G_0 per γ": const,
            "largest constant-reward error": max(const.values()),
        }, plot_data={"example": example})

    def checks(self, m: dict) -> list[Check]:
        return [Check("recursion = direct sum: largest relative difference (rounding)",
                      m["largest relative difference"], "≤", 1e-12),
                Check("constant reward: G_0 = (1 − γ^T)/(1 − γ), largest relative error",
                      m["largest constant-reward error"], "≤", 1e-12)]

    summary_template = """The recursion matches the direct sum within {m[largest relative difference]:.0e} (relative).
        On {m[episodes × steps]} random reward sequences and γ = {gammas}, G_t computed backward by
        G_t = r_{{t+1}} + γ G_{{t+1}} equals Σ_k γ^k r_{{t+k+1}} computed as one matrix product, and for constant
        rewards over T steps G_0 = (1 − γ^T)/(1 − γ) within {m[largest constant-reward error]:.0e}."""

    def summary_values(self, m: dict) -> dict:
        return {"gammas": ", ".join(map(str, GAMMAS))}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        r = measurement.plot_data["example"]

        def draw(fig):
            ax = fig.subplots()
            t = np.arange(len(r))
            ax.bar(t, r, color="lightgrey", label="reward r_{t+1}")
            for gamma in (0.5, 0.9):
                ax.plot(t, discounted_returns(r, gamma), "-", label=f"G_t by recursion, γ = {gamma}")
                ax.plot(t, direct_sum(r, gamma), "o", markersize=3, markerfacecolor="none",
                        label=f"G_t by direct sum, γ = {gamma}")
            ax.set(xlabel="time step t", ylabel="reward / return", title="One episode's returns, both ways")
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))

        return save_figure(ctx, self.id, draw, figsize=(8.5, 4.0))
