"""Tabular Q-learning (and SARSA) reach the optimal policy of a gridworld (seed 002 ch. 4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.rl import evaluate_policy, gridworld, q_learning, sarsa, value_iteration

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._grid import LAYOUT, draw_gridworld, optimal_action_mask

EPISODES = {True: 3000, False: 30000}
SEEDS = {True: 1, False: 3}
CHUNKS = 15                  # the greedy policy is evaluated after each 1/15 of the episodes
EPSILON, GAMMA, STEP_REWARD = 0.2, 0.95, -0.04
Q_ALPHA = 0.5                # Q-learning: a constant step (the gridworld is deterministic)
SARSA_ALPHA = {True: 0.1, False: 0.03}   # SARSA: its targets carry the exploring policy's randomness; the full
                                         # run's smaller step averages more of it out


def epsilon_greedy_optimum(mdp, epsilon: float, sweeps: int = 2000) -> np.ndarray:
    """Q of the best ε-greedy policy (what SARSA with a fixed ε converges to): the fixed point of
    Q(s,a) = Σ_s' T(s'|s,a)[R(s,s') + γ((1 − ε) max_a' Q(s',a') + ε mean_a' Q(s',a'))]."""
    q = np.zeros((mdp.num_states, mdp.num_actions))
    for _ in range(sweeps):
        q = mdp.q_values((1 - epsilon) * q.max(1) + epsilon * q.mean(1))
    return q


def learning_curve(learn, mdp, episodes: int, alpha: float, rng: np.random.Generator, v_star: np.ndarray):
    """Run ``learn`` in CHUNKS parts, continuing from the last Q; after each, the largest gap V* − V of the
    greedy policy (exact evaluation). Returns (episodes so far, gaps, final result)."""
    q, done, counts, gaps, result = None, 0, [], [], None
    for _ in range(CHUNKS):
        n = episodes // CHUNKS
        result = learn(mdp, episodes=n, alpha=alpha, epsilon=EPSILON, rng=rng, q0=q, exploring_starts=True)
        q, done = result.q, done + n
        counts.append(done)
        gaps.append(float(np.abs(v_star - evaluate_policy(mdp, result.policy)).max()))
    return np.array(counts), np.array(gaps), result


class QLearningGridworld(Experiment, id="q-learning-gridworld", source="seed 002 ch. 4"):
    """Q-learning reaches the optimal policy of a gridworld; SARSA approaches it more slowly.

    Tabular Q-learning, Q(s,a) ← Q(s,a) + α[r + γ max_a' Q(s',a') − Q(s,a)], learns Q* from sampled transitions
    alone (no T, no R) whatever the exploring policy, so with ε-greedy exploration its greedy policy
    argmax_a Q(s,a) becomes the optimal policy that value iteration computes from the model: its exact value
    equals V* in every state. SARSA, on-policy (r + γ Q(s',a') with a' the action taken next), learns the value
    of the ε-greedy policy it follows; on this map the best ε-greedy policy (ε = 0.2) has the same greedy actions
    as the optimal one, so SARSA approaches the optimal policy too, but more slowly: its targets carry the
    exploring policy's randomness, and where two actions are close its greedy choice follows that noise (an
    optimal action in at least 80 % of the states is checked; the full run's smaller step gets closer).
    Measured on a deterministic 5 × 8 gridworld with walls, two pits (−1), a goal (+1) and a step cost 0.04, γ =
    0.95, ε = 0.2, exploring starts.
    """

    def measure(self, ctx: Context) -> Measurement:
        mdp = gridworld(LAYOUT, gamma=GAMMA, step_reward=STEP_REWARD)
        best = value_iteration(mdp)
        scale = float(np.abs(best.value).max())
        optimal = optimal_action_mask(best.q, scale)
        live = ~mdp.terminal
        episodes = EPISODES[ctx.quick]
        q_eps = epsilon_greedy_optimum(mdp, EPSILON)
        rows = np.arange(mdp.num_states)
        curves, final_gap, agree, results, sarsa_error, margins = {}, {}, {}, {}, [], []
        for name, learn, alpha in (("Q-learning", q_learning, Q_ALPHA), ("SARSA", sarsa, SARSA_ALPHA[ctx.quick])):
            for seed in range(SEEDS[ctx.quick]):
                rng = np.random.default_rng([ctx.seed, seed, 1 if name == "SARSA" else 0])
                counts, gaps, result = learning_curve(learn, mdp, episodes, alpha, rng, best.value)
                key = f"{name}, run {seed + 1}"
                curves[key] = (counts, gaps)
                final_gap[key] = float(gaps[-1])
                agree[key] = float(optimal[np.arange(mdp.num_states), result.policy][live].mean())
                results.setdefault(name, result)
                if name == "SARSA":
                    sarsa_error.append(float(np.abs(result.q - q_eps)[live].max()))
                    wrong = live & ~optimal[rows, result.policy]
                    margins += list(q_eps.max(1)[wrong] - q_eps[rows, result.policy][wrong])
        q_keys = [k for k in curves if k.startswith("Q-learning")]
        s_keys = [k for k in curves if k.startswith("SARSA")]
        return Measurement(values={
            "episodes per run": episodes, "runs per method": SEEDS[ctx.quick], "states": int(live.sum()),
            "max_s V*(s) − V_greedy(s) at the end": final_gap,
            "share of states whose greedy action is optimal": agree,
            "Q-learning: largest final gap": max(final_gap[k] for k in q_keys),
            "Q-learning: smallest share of optimal actions": min(agree[k] for k in q_keys),
            "SARSA: smallest share of optimal actions": min(agree[k] for k in s_keys),
            "SARSA: largest final gap": max(final_gap[k] for k in s_keys),
            "SARSA step α": SARSA_ALPHA[ctx.quick],
            "ε-greedy optimum's greedy policy is optimal": bool(
                np.abs(evaluate_policy(mdp, q_eps.argmax(1)) - best.value).max() <= 1e-9),
            "SARSA: largest |Q − Q_ε| (Q_ε: Q of the best ε-greedy policy)": max(sarsa_error),
            "SARSA: Q_ε margins of the better action where its choice is not optimal": [round(float(x), 4)
                                                                                         for x in margins],
        }, plot_data={"curves": curves, "mdp": mdp, "best": best, "results": results})

    def checks(self, m: dict) -> list[Check]:
        return [Check("Q-learning's greedy policy is optimal: largest max_s (V* − V_greedy)",
                      m["Q-learning: largest final gap"], "≤", 1e-9),
                Check("Q-learning: share of states whose greedy action is optimal",
                      m["Q-learning: smallest share of optimal actions"], "=", 1.0),
                Check("SARSA's target, the best ε-greedy policy, has the optimal greedy actions",
                      m["ε-greedy optimum's greedy policy is optimal"], "=", True),
                Check("SARSA approaches it: share of states whose greedy action is optimal",
                      m["SARSA: smallest share of optimal actions"], "≥", 0.8)]

    summary_template = """Q-learning's greedy policy is optimal: V* − V ≤ {m[Q-learning: largest final gap]:.0e} everywhere.
        After {m[episodes per run]} episodes ({m[runs per method]} run(s) per method, ε = 0.2, exploring starts)
        on the {m[states]}-state gridworld, Q-learning picks an optimal action in
        {qshare:.0%} of the states; SARSA in {sshare:.0%}{sarsa_note}."""

    def summary_values(self, m: dict) -> dict:
        margins = m["SARSA: Q_ε margins of the better action where its choice is not optimal"]
        gap = m["SARSA: largest final gap"]
        note = (f", its greedy policy optimal too (V* − V ≤ {gap:.0e})" if not margins else
                f", its greedy policy falling short of V* by up to {gap:.3f}. On-policy, SARSA estimates the values of the ε-greedy policy it follows; the best such policy"
                f" has the optimal greedy actions, but with step α = {m['SARSA step α']} its estimates still err by"
                f" up to {m['SARSA: largest |Q − Q_ε| (Q_ε: Q of the best ε-greedy policy)']:.3f}, more than the"
                f" {min(margins):.3f}–{max(margins):.3f} by which the better action leads where it chose wrong")
        return {"qshare": m["Q-learning: smallest share of optimal actions"],
                "sshare": m["SARSA: smallest share of optimal actions"], "sarsa_note": note}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        data = measurement.plot_data
        mdp, best = data["mdp"], data["best"]
        optimal = optimal_action_mask(best.q, float(np.abs(best.value).max()))

        def draw(fig):
            left, mid, right = fig.subplots(1, 3, width_ratios=[1.1, 1, 1])
            for key, (counts, gaps) in data["curves"].items():
                left.plot(counts, np.maximum(gaps, 1e-4), "o-" if key.startswith("Q") else "s--", markersize=3,
                          label=key)
            left.set(xlabel="episodes", ylabel="max_s V*(s) − V_greedy(s)  (0 drawn at 1e-4)", yscale="log",
                     title="greedy policy's shortfall")
            left.legend(fontsize=7)
            for ax, name in ((mid, "Q-learning"), (right, "SARSA")):
                result = data["results"][name]
                wrong = ~optimal[np.arange(mdp.num_states), result.policy] & ~mdp.terminal
                draw_gridworld(ax, mdp, result.q.max(1), result.policy,
                               f"{name}: max_a Q, greedy actions\n({int(wrong.sum())} not optimal, in red)", wrong)

        return save_figure(ctx, self.id, draw, figsize=(14.0, 3.8))
