"""Iterating the Bellman equation converges geometrically, at rate ≤ γ, to the value of the linear solve
(seed 002 ch. 4)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from fukaku.rl import FiniteMDP, bellman_expectation, evaluate_policy, gridworld, policy_evaluation

from ...plotting import save_figure
from ...registry import Check, Context, Experiment, Measurement

QUICK_GAMMAS = (0.5, 0.9, 0.95)
FULL_GAMMAS = (0.5, 0.9, 0.95, 0.99)
TOL = 1e-10
RANDOM_STATES = {True: 50, False: 500}      # the random dense MDP beside the gridworld


def random_mdp(states: int, actions: int, gamma: float, rng: np.random.Generator) -> FiniteMDP:
    """A dense random MDP: T(·|s,a) Dirichlet(1), R(s,s') standard normal."""
    return FiniteMDP(T=rng.dirichlet(np.ones(states), size=(states, actions)), R=rng.normal(size=(states, states)),
                     gamma=gamma)


def error_curve(mdp: FiniteMDP, policy: np.ndarray) -> tuple[np.ndarray, int]:
    """‖v_k − v_π‖_∞ for the Bellman iterates v_{k+1} = r_π + γP_π v_k from v_0 = 0 (v_π by the linear solve),
    one entry per sweep k = 0, 1, …, and the number of sweeps to the stopping rule."""
    exact = evaluate_policy(mdp, policy)
    errors, v = [float(np.abs(exact).max())], np.zeros(mdp.num_states)
    result = policy_evaluation(mdp, policy, tol=TOL)
    for _ in range(result.iterations):   # the same iterates again, recorded against the exact value
        v = bellman_expectation(mdp, policy, v)
        errors.append(float(np.abs(v - exact).max()))
    assert np.abs(result.value - v).max() <= 1e-12 * max(1.0, np.abs(v).max())
    return np.array(errors), result.iterations


def worst_rate(errors: np.ndarray) -> float:
    """The largest ratio of successive errors while they are 10⁸ times above rounding (the contraction seen)."""
    e = errors[errors > 1e-8 * errors[0]]
    return float((e[1:] / e[:-1]).max()) if len(e) > 1 else 0.0


class BellmanEvaluation(Experiment, id="bellman-evaluation", source="seed 002 ch. 4"):
    """Iterating the Bellman equation converges geometrically to the linear-solve value.

    The Bellman equation V_π(s) = Σ_a π(a|s) Σ_s' T(s'|s,a)[R(s,s') + γ V_π(s')] reads v = r_π + γP_π v, so
    v_π = (I − γP_π)⁻¹ r_π; the iteration v_{k+1} = r_π + γP_π v_k is a γ-contraction in the sup norm, so
    ‖v_k − v_π‖_∞ ≤ γ^k ‖v_0 − v_π‖_∞: it converges to the linear-solve value, the error shrinking at least by γ
    per sweep. Measured for the uniform random policy on a slippery gridworld and on a dense random MDP, for
    several γ.
    """

    def measure(self, ctx: Context) -> Measurement:
        rng = ctx.rng()
        gammas = QUICK_GAMMAS if ctx.quick else FULL_GAMMAS
        curves, values = {}, {"final error": {}, "worst error ratio per sweep": {}, "sweeps": {},
                              "error / (γ^k ‖v_0 − v_π‖) at the end": {}}
        states = RANDOM_STATES[ctx.quick]
        for gamma in gammas:
            mdps = {"gridworld": gridworld(slip=0.2, gamma=gamma, step_reward=-0.04),
                    f"random MDP ({states} states)": random_mdp(states, 4, gamma, rng)}
            for name, mdp in mdps.items():
                uniform = np.full((mdp.num_states, mdp.num_actions), 1.0 / mdp.num_actions)
                errors, sweeps = error_curve(mdp, uniform)
                key = f"{name}, γ = {gamma}"
                curves[key] = (gamma, errors)
                values["final error"][key] = float(errors[-1])
                values["worst error ratio per sweep"][key] = worst_rate(errors)
                values["sweeps"][key] = sweeps
                values["error / (γ^k ‖v_0 − v_π‖) at the end"][key] = float(
                    errors[-1] / (gamma ** (len(errors) - 1) * errors[0]))
        values["largest final error"] = max(values["final error"].values())
        values["largest (worst ratio − γ)"] = max(values["worst error ratio per sweep"][k] - curves[k][0]
                                                  for k in curves)
        values["largest error / γ^k bound"] = max(
            float((errors / (g ** np.arange(len(errors)) * errors[0])).max()) for g, errors in curves.values())
        return Measurement(values=values, plot_data={"curves": curves})

    def checks(self, m: dict) -> list[Check]:
        return [Check("converges to the linear solve: largest ‖v_K − v_π‖_∞", m["largest final error"], "≤", 1e-9),
                Check("rate ≤ γ (up to rounding): largest (error ratio per sweep − γ)", m["largest (worst ratio − γ)"], "≤", 1e-6),
                Check("within the bound γ^k ‖v_0 − v_π‖_∞ at every sweep: largest error / bound",
                      m["largest error / γ^k bound"], "≤", 1.0 + 1e-9)]

    summary_template = """Bellman iteration reaches the linear-solve value within {m[largest final error]:.0e}, rate ≤ γ.
        For the uniform random policy on a slippery gridworld and a dense random MDP, at γ = {gammas}, the sup-norm
        error shrank per sweep by at most γ (worst ratio minus γ: {m[largest (worst ratio − γ)]:.1e}) and stayed
        under the bound γ^k‖v_0 − v_π‖ (largest error/bound {m[largest error / γ^k bound]:.3f}); the sweeps
        needed grow like 1/(1 − γ): {sweeps}."""

    def summary_values(self, m: dict) -> dict:
        keys = list(m["sweeps"])
        gammas = sorted({k.rsplit("γ = ", 1)[1] for k in keys}, key=float)
        return {"gammas": ", ".join(gammas),
                "sweeps": ", ".join(f"{m['sweeps'][k]} ({k})" for k in keys if k.startswith("gridworld"))}

    def plot(self, ctx: Context, measurement: Measurement) -> list[Path]:
        curves = measurement.plot_data["curves"]

        def draw(fig):
            axes = fig.subplots(1, 2, sharey=True)
            for ax, which in zip(axes, ("gridworld", "random")):
                for key, (gamma, errors) in curves.items():
                    if not key.startswith(which):
                        continue
                    k = np.arange(len(errors))
                    line, = ax.semilogy(k, np.maximum(errors, 1e-13), label=f"γ = {gamma}")
                    ax.semilogy(k, errors[0] * gamma ** k, ":", color=line.get_color())
                ax.set(xlabel="sweep k", title=which if which == "gridworld" else "random MDP",
                       ylim=(1e-12, None))
                ax.legend(title="solid: ‖v_k − v_π‖∞\ndotted: γ^k ‖v_0 − v_π‖∞", fontsize=7, title_fontsize=7)
            axes[0].set_ylabel("sup-norm error to the linear solve")

        return save_figure(ctx, self.id, draw, figsize=(9.0, 4.0))
