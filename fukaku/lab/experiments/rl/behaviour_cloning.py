"""Behaviour cloning reproduces an expert from its recorded decisions (seed 002 ch. 4: imitation learning, the
fighting game's "ghost" that plays like its player)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import fukaku as fk
from fukaku import nn
from fukaku.rl import (behaviour_cloning, cartpole_expert, clone_policy_table, demonstrations, evaluate_policy,
                       evaluate_policy_return, gridworld, mdp_demonstrations, value_iteration)
from fukaku.rl.gridworld import DEFAULT_LAYOUT

from ....ops._parallel import blas_threads
from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._cartpole import EVAL_EPISODES, describe, environment, random_policy_returns

GRID_DEMOS = (5, 50, 500)                 # expert episodes recorded on the gridworld
GRID_RUNS = {True: 1, False: 3}
CARTPOLE_DEMOS = {True: 10, False: 20}     # expert episodes (500 steps each) recorded on CartPole
CARTPOLE_EPOCHS = {True: 15, False: 30}
MATCH = 0.95                              # the clone's return at least 95 % of the expert's


class BehaviourCloning(Experiment, id="behaviour-cloning", source="seed 002 ch. 4"):
    """Behaviour cloning reproduces the expert.

    Imitation learning as supervised learning: record the (state, action) pairs an expert produces while it acts
    and fit a classifier policy to them by cross-entropy; the clone then acts by its most likely action. With
    enough demonstrations the clone does as well as the expert: on CartPole-v1 a clone (4 → 32 tanh → 2) of a
    hand-written controller (which balances for all 500 steps) reaches at least 95 % of the expert's mean return
    over 100 episodes; on a slippery gridworld (slip 0.1) a tabular clone of the optimal policy from value
    iteration matches the expert's value at the start given 500 recorded episodes. With few demonstrations the
    clone errs exactly where the expert never went (compounding error: a slip leads to an unvisited state where
    the clone was never taught), which the gridworld's smaller demonstration sets show.
    """

    def measure(self, ctx: Context) -> Measurement:
        mdp = gridworld(DEFAULT_LAYOUT, slip=0.1, gamma=0.95)
        expert = value_iteration(mdp).policy
        v_expert = evaluate_policy(mdp, expert)
        start = int(np.flatnonzero(mdp.start)[0])
        onehot = np.eye(mdp.num_states, dtype=np.float32)
        grid = {n: [] for n in GRID_DEMOS}
        visited_agree, coverage = [], {n: [] for n in GRID_DEMOS}
        for run in range(GRID_RUNS[ctx.quick]):
            for n in GRID_DEMOS:
                states, actions = mdp_demonstrations(mdp, expert, episodes=n, rng=np.random.default_rng([ctx.seed, run, n]))
                fk.manual_seed(ctx.seed * 1000 + run)
                clone = nn.Linear(mdp.num_states, mdp.num_actions)
                behaviour_cloning(clone, onehot[states], actions, epochs=30, lr=0.05, batch_size=256, seed=ctx.seed + run)
                table = clone_policy_table(clone, onehot)
                grid[n].append(float(evaluate_policy(mdp, table)[start]))
                seen = np.unique(states)
                visited_agree.append(float((table[seen] == expert[seen]).mean()))
                coverage[n].append(len(seen))
        largest = GRID_DEMOS[-1]

        fk.manual_seed(ctx.seed + 31)
        obs, acts, _ = demonstrations(environment(CARTPOLE_DEMOS[ctx.quick])[0], cartpole_expert, seed=ctx.seed)
        clone = nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 2))
        with blas_threads(1):
            losses = behaviour_cloning(clone, obs, acts, epochs=CARTPOLE_EPOCHS[ctx.quick], lr=1e-2, batch_size=128,
                                       seed=ctx.seed)
            clone_returns = evaluate_policy_return(clone, environment(EVAL_EPISODES)[0], EVAL_EPISODES,
                                                   seed=ctx.seed + 20_000, greedy=True)

        expert_eval = evaluate_policy_return(cartpole_expert, environment(EVAL_EPISODES)[0], EVAL_EPISODES,
                                             seed=ctx.seed + 20_000, greedy=True)
        random_returns = random_policy_returns(ctx.seed + 7)
        return Measurement(values={
            "CartPole environment": describe(),
            "CartPole: demonstration pairs": int(len(acts)),
            "CartPole: final cross-entropy": float(losses[-1]),
            "CartPole: expert's mean return (100 episodes)": float(expert_eval.mean()),
            "CartPole: clone's mean return (100 episodes)": float(clone_returns.mean()),
            "CartPole: random policy's mean return": float(random_returns.mean()),
            "CartPole: clone / expert": float(clone_returns.mean() / expert_eval.mean()),
            "gridworld: expert's value at the start V*(s₀)": float(v_expert[start]),
            "gridworld: clone's V(s₀) by demonstration episodes (per run)": {str(n): v for n, v in grid.items()},
            "gridworld: states visited by the demonstrations (per run)": {str(n): c for n, c in coverage.items()},
            "gridworld: clone's V(s₀) / expert's, with the most demonstrations (worst run)":
                float(min(grid[largest]) / v_expert[start]),
            "gridworld: clone's V(s₀) / expert's, with the fewest demonstrations (worst run)":
                float(min(grid[GRID_DEMOS[0]]) / v_expert[start]),
            "gridworld: clone agrees with the expert on the visited states (worst)": min(visited_agree),
        }, plot_data={"grid": grid, "v_star": float(v_expert[start]), "clone": clone_returns, "expert": expert_eval,
                      "random": random_returns})

    def checks(self, m: dict) -> list[Check]:
        return [Check("CartPole: clone's mean return / expert's", m["CartPole: clone / expert"], "≥", MATCH),
                Check(f"gridworld, {GRID_DEMOS[-1]} demonstration episodes: clone's V(s₀) / expert's",
                      m["gridworld: clone's V(s₀) / expert's, with the most demonstrations (worst run)"], "≥", 0.999),
                Check("gridworld: the clone takes the expert's action in every demonstrated state",
                      m["gridworld: clone agrees with the expert on the visited states (worst)"], "=", 1.0)]

    summary_template = """The CartPole clone reaches {m[CartPole: clone / expert]:.0%} of its expert's mean return.
        On {m[CartPole environment]}, a network fitted by cross-entropy to {m[CartPole: demonstration pairs]:,}
        (state, action) pairs of a hand-written controller lasts {m[CartPole: clone's mean return (100 episodes)]:.1f}
        steps on average over 100 episodes (expert {m[CartPole: expert's mean return (100 episodes)]:.1f}, random
        policy {m[CartPole: random policy's mean return]:.1f}). On the slippery gridworld the tabular clone of the
        optimal policy reaches V(s₀)/V*(s₀) = {most:.3f} from {n_most} recorded episodes but only {fewest:.3f} from
        {n_fewest}: it copies the expert wherever the expert went, and a slip into a state the demonstrations never
        visited leaves it guessing (compounding error)."""

    def summary_values(self, m: dict) -> dict:
        return {"most": m["gridworld: clone's V(s₀) / expert's, with the most demonstrations (worst run)"],
                "fewest": m["gridworld: clone's V(s₀) / expert's, with the fewest demonstrations (worst run)"],
                "n_most": GRID_DEMOS[-1], "n_fewest": GRID_DEMOS[0]}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data = measurement.plot_data

        def draw(fig):
            left, right = fig.subplots(1, 2)
            bins = np.linspace(0, 500, 26)
            for name, returns in (("random", data["random"]), ("expert", data["expert"]), ("clone", data["clone"])):
                left.hist(returns, bins=bins, alpha=0.55, label=f"{name} (mean {returns.mean():.0f})")
            left.set(xlabel="episode return", ylabel="episodes", title=f"CartPole: {EVAL_EPISODES} episodes each")
            left.legend(fontsize=8, loc="upper center")
            ns = list(data["grid"])
            for i, n in enumerate(ns):
                right.scatter([i] * len(data["grid"][n]), data["grid"][n], color="C0", zorder=3,
                              label="clone" if i == 0 else None)
            right.axhline(data["v_star"], color="k", linestyle="--", label="expert V*(s₀)")
            right.set(xticks=range(len(ns)), xticklabels=[str(n) for n in ns], xlabel="demonstration episodes",
                      ylabel="value at the start V(s₀)", title="slippery gridworld: tabular clone")
            right.legend(fontsize=8, loc="lower right")

        return save_figure(ctx, self.id, draw, figsize=(10.0, 4.0))
