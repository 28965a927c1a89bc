"""An n-step actor-critic learns CartPole-v1 as REINFORCE does, with a learned critic in place of the Monte-Carlo
return (seed 002 ch. 4: the Bellman equation V(s) = E[r + γV(s')] used as a learning target)."""
from __future__ import annotations

from pathlib import Path

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._cartpole import ENVS, SOLVED, describe, first_solved, random_policy_returns, train

CLEAR_IMPROVEMENT = 2.0


class ActorCriticCartPole(Experiment, id="actor-critic-cartpole", source="seed 002 ch. 4"):
    """An actor-critic solves CartPole-v1 too; its learning curve beside REINFORCE's.

    The actor-critic replaces REINFORCE's Monte-Carlo return by a critic V_w trained on the Bellman target: every
    20 steps the actor follows ∇log π(a_t|s_t) A_t with the n-step advantage
    A_t = r_{t+1} + … + γ^{k−1} r_{t+k} + γ^k V_w(s_{t+k}) − V_w(s_t) and the critic regresses on the same
    target. It needs no complete episode before learning, and a learned baseline is meant to lower the variance
    of the policy gradient; on CartPole-v1 it also solves the task (mean return ≥ 195 over 100 evaluation episodes) in the full run. The quick run trains
    15 batches of each and shows a clear improvement over the random policy (twice its return); both runs report
    the two learning curves against environment steps.
    """

    def measure(self, ctx: Context) -> Measurement:
        ac = train("actor-critic", ctx.quick, ctx.seed)
        rf = train("REINFORCE", ctx.quick, ctx.seed)
        random_returns = random_policy_returns(ctx.seed + 7)
        return Measurement(values={
            "environment": describe(), "quick run": ctx.quick,
            "actor-critic: batches of 16 episodes": ac["iterations"], "REINFORCE: batches of 16 episodes": rf["iterations"],
            "actor-critic: mean return over 100 evaluation episodes": float(ac["eval"].mean()),
            "REINFORCE: mean return over 100 evaluation episodes": float(rf["eval"].mean()),
            "random policy's mean return": float(random_returns.mean()),
            "actor-critic / random mean return": float(ac["eval"].mean() / random_returns.mean()),
            "actor-critic: steps until a batch averages ≥ 195": first_solved(ac),
            "REINFORCE: steps until a batch averages ≥ 195": first_solved(rf),
            "actor-critic: seconds to train": ac["seconds"], "REINFORCE: seconds to train": rf["seconds"],
            "actor-critic: lowest batch mean after first reaching 195": (
                None if first_solved(ac) is None else float(ac["curve"][ac["steps"] >= first_solved(ac)].min())),
        }, plot_data={"runs": {"actor-critic (n = 20)": ac, "REINFORCE": rf}, "random": float(random_returns.mean())})

    def checks(self, m: dict) -> list[Check]:
        if m["quick run"]:
            return [Check("quick run (15 batches): actor-critic / random mean return over 100 episodes",
                          m["actor-critic / random mean return"], "≥", CLEAR_IMPROVEMENT)]
        return [Check("actor-critic solves it: mean return over 100 evaluation episodes",
                      m["actor-critic: mean return over 100 evaluation episodes"], "≥", SOLVED)]

    summary_template = """{headline} On {m[environment]}, over 100 evaluation episodes the actor-critic's policy
        averages {m[actor-critic: mean return over 100 evaluation episodes]:.1f} and REINFORCE's
        {m[REINFORCE: mean return over 100 evaluation episodes]:.1f} (random policy:
        {m[random policy's mean return]:.1f}); a training batch first averaged ≥ 195 after {ac_steps} environment
        steps for the actor-critic and {rf_steps} for REINFORCE. {scale}"""

    def summary_values(self, m: dict) -> dict:
        ac, random = m["actor-critic: mean return over 100 evaluation episodes"], m["random policy's mean return"]

        def steps(key):
            return "no" if m[key] is None else f"{m[key]:,}"

        quick = m["quick run"]
        return {"headline": (f"Quick run: actor-critic mean return {ac:.0f} vs random {random:.0f}."
                             if quick else f"Actor-critic: mean return {ac:.1f} over 100 episodes (solved at ≥ 195)."),
                "ac_steps": steps("actor-critic: steps until a batch averages ≥ 195"),
                "rf_steps": steps("REINFORCE: steps until a batch averages ≥ 195"),
                "scale": ("This is the quick run (15 batches each): it shows the improvement only; the full run trains "
                          "until solved and checks ≥ 195." if quick else self._order(m))}

    @staticmethod
    def _order(m: dict) -> str:
        ac, rf = m["actor-critic: steps until a batch averages ≥ 195"], m["REINFORCE: steps until a batch averages ≥ 195"]
        low = m["actor-critic: lowest batch mean after first reaching 195"]
        text = ("" if ac is None or rf is None else
                f"In this run (one seed, not a general ranking) {'the actor-critic' if ac < rf else 'REINFORCE'} "
                "crossed 195 first.")
        if low is not None and low < SOLVED:
            text += f" After first crossing 195 the actor-critic's batch mean fell back to {low:.0f} before it recovered."

        return text

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        runs, random = measurement.plot_data["runs"], measurement.plot_data["random"]

        def draw(fig):
            ax = fig.subplots()
            for name, run in runs.items():
                ax.plot(run["steps"], run["curve"], "o-", markersize=3,
                        label=f"{name}: evaluation mean {run['eval'].mean():.0f}")
            ax.axhline(SOLVED, color="k", linestyle="--", linewidth=1, label="solved: 195")
            ax.axhline(random, color="grey", linestyle=":", label=f"random policy ({random:.0f})")
            ax.set(xlabel="environment steps", ylabel=f"mean episode return (batch of {ENVS})", ylim=(0, 520),
                   title="CartPole-v1: actor-critic vs REINFORCE")
            ax.legend(fontsize=8, loc="lower right")

        return save_figure(ctx, self.id, draw)
