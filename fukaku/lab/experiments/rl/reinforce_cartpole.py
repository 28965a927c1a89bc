"""REINFORCE with a fukaku policy network solves CartPole-v1 (seed 002 ch. 4: the return G_t, maximised by
policy gradients)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._cartpole import ENVS, EVAL_EPISODES, SOLVED, describe, random_policy_returns, train

CLEAR_IMPROVEMENT = 2.0      # quick run: the trained policy's mean return at least twice the random policy's


class ReinforceCartPole(Experiment, id="reinforce-cartpole", source="seed 002 ch. 4"):
    """REINFORCE solves CartPole-v1.

    A policy network π_θ(a|s) (4 → 64 tanh → 2 logits, a ``Categorical`` over push-left/push-right) trained by
    REINFORCE, θ ← θ + α Σ_t ∇log π_θ(a_t|s_t)(G_t − b) with the discounted return G_t = r_{t+1} + γ G_{t+1}
    (γ = 0.99) normalised over each batch of 16 episodes as the baseline, solves CartPole-v1: its mean return over
    100 evaluation episodes reaches ≥ 195 (the environment's "solved" threshold; the maximum is 500), where the
    random policy lasts about 22 steps. The full run trains until solved (at most 150 batches); the quick run
    trains 15 batches and only shows a clear improvement over the random policy (at least twice its return).
    """

    def measure(self, ctx: Context) -> Measurement:
        run = train("REINFORCE", ctx.quick, ctx.seed)
        random_returns = random_policy_returns(ctx.seed + 7)
        return Measurement(values={
            "environment": describe(), "quick run": ctx.quick,
            "batches of 16 episodes trained": run["iterations"], "environment steps": int(run["steps"][-1]),
            "seconds to train": run["seconds"],
            "mean return over 100 evaluation episodes": float(run["eval"].mean()),
            "smallest evaluation return": float(run["eval"].min()),
            "random policy's mean return": float(random_returns.mean()),
            "trained / random mean return": float(run["eval"].mean() / random_returns.mean()),
            "mean return per batch": [round(float(x), 1) for x in run["curve"]],
        }, plot_data={"run": run, "random": random_returns})

    def checks(self, m: dict) -> list[Check]:
        if m["quick run"]:
            return [Check("quick run (15 batches): trained / random mean return over 100 episodes",
                          m["trained / random mean return"], "≥", CLEAR_IMPROVEMENT)]
        return [Check("solved: mean return over 100 evaluation episodes", m["mean return over 100 evaluation episodes"],
                      "≥", SOLVED)]

    summary_template = """{headline} {m[environment]}: REINFORCE trained {m[batches of 16 episodes trained]} batches of
        16 episodes ({m[environment steps]:,} steps, {m[seconds to train]:.1f} s); over 100 evaluation episodes the
        policy keeps the pole up {m[mean return over 100 evaluation episodes]:.1f} steps on average (at least
        {m[smallest evaluation return]:.0f}), against {m[random policy's mean return]:.1f} for the random policy.
        {scale}"""

    def summary_values(self, m: dict) -> dict:
        mean, random = m["mean return over 100 evaluation episodes"], m["random policy's mean return"]
        if m["quick run"]:
            headline = f"Quick run: mean return {mean:.0f} vs random {random:.0f}."
            scale = ("This is the quick run: it shows the improvement only; the full run trains until solved and "
                     "checks the ≥ 195 criterion.")
        else:
            headline = f"Mean return {mean:.1f} over 100 episodes (solved at ≥ 195)."
            scale = "The claim's criterion, ≥ 195 over 100 episodes, is checked on this full run."
        return {"headline": headline, "scale": scale}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        run, random_returns = measurement.plot_data["run"], measurement.plot_data["random"]

        def draw(fig):
            left, right = fig.subplots(1, 2, width_ratios=[2, 1])
            left.plot(run["steps"], run["curve"], "o-", markersize=3, label="REINFORCE: mean return of the batch")
            left.axhline(SOLVED, color="k", linestyle="--", linewidth=1, label="solved: 195")
            left.axhline(random_returns.mean(), color="grey", linestyle=":", label="random policy")
            left.set(xlabel="environment steps", ylabel=f"episode return (batch of {ENVS})", ylim=(0, 520),
                     title="training")
            left.legend(fontsize=8, loc="lower right")
            bins = np.linspace(0, 500, 26)
            right.hist(random_returns, bins=bins, alpha=0.6, label=f"random ({random_returns.mean():.0f})")
            right.hist(run["eval"], bins=bins, alpha=0.6, label=f"trained ({run['eval'].mean():.0f})")
            right.set(xlabel="return", ylabel="episodes", title=f"{EVAL_EPISODES} evaluation episodes")
            right.legend(fontsize=8, loc="upper center")

        return save_figure(ctx, self.id, draw, figsize=(10.0, 4.0))
