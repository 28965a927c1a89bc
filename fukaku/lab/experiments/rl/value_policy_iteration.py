"""Value iteration and policy iteration find the same optimal value and policy (seed 002 ch. 4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.rl import chain, evaluate_policy, gridworld, policy_iteration, value_iteration

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement
from ._grid import LAYOUT, draw_gridworld, optimal_action_mask, random_layout

FULL_MAZES = 5          # random 12 × 12 mazes in the full run


class ValuePolicyIteration(Experiment, id="value-policy-iteration", source="seed 002 ch. 4"):
    """Value iteration and policy iteration find the same optimal policy and value.

    The optimal value satisfies the Bellman optimality equation V*(s) = max_a Σ_s' T(s'|s,a)[R(s,s') + γ V*(s')].
    Value iteration iterates it (a γ-contraction, so it converges); policy iteration alternates exact
    evaluation of π (the linear solve) and greedy improvement, and stops after finitely many steps. Both reach
    V*, and their policies are both optimal (each one's action is greedy under the other's Q; ties may pick
    different but equally good actions). Policy iteration needs only a handful of improvement steps.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        mdps = {"gridworld (slip 0.2)": gridworld(LAYOUT, slip=0.2), "gridworld (no slip)": gridworld(LAYOUT),
                "5-chain (slip 0.2, γ 0.9)": chain(5)}
        if not ctx.quick:
            for i in range(FULL_MAZES):
                mdps[f"12×12 maze {i + 1} (slip 0.1, γ 0.99)"] = gridworld(random_layout(12, 12, rng), slip=0.1,
                                                                            gamma=0.99, step_reward=-0.01)
        gaps, suboptimal, vi_sweeps, pi_steps, sizes = {}, {}, {}, {}, {}
        solved = {}
        for name, mdp in mdps.items():
            vi, pi = value_iteration(mdp), policy_iteration(mdp)
            rows = np.arange(mdp.num_states)
            gaps[name] = float(np.abs(vi.value - pi.value).max())
            scale = max(1.0, float(np.abs(pi.value).max()))
            # each method's action is optimal under the other's Q, and its exact value is V*
            bad = ~optimal_action_mask(pi.q, scale)[rows, vi.policy] | ~optimal_action_mask(vi.q, scale)[rows, pi.policy]
            bad |= np.abs(evaluate_policy(mdp, vi.policy) - pi.value) > 1e-8 * scale
            suboptimal[name] = int(bad.sum())
            vi_sweeps[name], pi_steps[name], sizes[name] = vi.iterations, pi.iterations, mdp.num_states
            solved[name] = (mdp, vi, pi)
        return Measurement(values={
            "states": sizes, "max |V_VI − V_PI|": gaps, "largest value difference": max(gaps.values()),
            "states where one method's action is not optimal for the other": suboptimal,
            "states with a non-optimal action (all MDPs)": sum(suboptimal.values()),
            "value-iteration sweeps (to 1e-10)": vi_sweeps, "policy-iteration improvement steps": pi_steps,
            "most policy-iteration steps": max(pi_steps.values()),
            "all converged": all(vi.converged and pi.converged for _, vi, pi in solved.values()),
        }, plot_data={"solved": solved})

    def checks(self, m: dict) -> list[Check]:
        return [Check("same optimal value: largest ‖V_VI − V_PI‖_∞", m["largest value difference"], "≤", 1e-8),
                Check("same optimal policy: states where either's action is not optimal",
                      m["states with a non-optimal action (all MDPs)"], "=", 0),
                Check("both converge", m["all converged"], "=", True)]

    summary_template = """Value and policy iteration agree: ‖V_VI − V_PI‖ ≤ {m[largest value difference]:.0e}, same policy.
        On {names}, value iteration took {vi} sweeps and policy iteration {pi} improvement steps; in every state
        the action each method chose is optimal for the other ({m[states with a non-optimal action (all MDPs)]}
        exceptions)."""

    def summary_values(self, m: dict) -> dict:
        names = list(m["states"])
        return {"names": "; ".join(f"{n} ({m['states'][n]} states)" for n in names),
                "vi": ", ".join(str(m["value-iteration sweeps (to 1e-10)"][n]) for n in names),
                "pi": ", ".join(str(m["policy-iteration improvement steps"][n]) for n in names)}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        mdp, vi, pi = measurement.plot_data["solved"]["gridworld (slip 0.2)"]

        def draw(fig):
            a, b = fig.subplots(1, 2)
            draw_gridworld(a, mdp, vi.value, vi.policy, f"value iteration ({vi.iterations} sweeps)")
            draw_gridworld(b, mdp, pi.value, pi.policy, f"policy iteration ({pi.iterations} steps)")
            fig.suptitle("Slippery gridworld (slip 0.2, γ = 0.95): V* and the greedy policy")

        return save_figure(ctx, self.id, draw, figsize=(10.0, 3.6))
