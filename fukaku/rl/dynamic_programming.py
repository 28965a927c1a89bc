"""Dynamic programming on a finite MDP — seed 002 ch. 4: the Bellman equation
V_π(s) = Σ_a π(a|s) Σ_s' T(s'|s,a)[R(s,s') + γ V_π(s')], solved by iteration and as a linear system, and the
optimal value and policy by value iteration and policy iteration.

In matrix form the Bellman equation is v = r_π + γ P_π v (see :class:`~fukaku.rl.mdp.FiniteMDP`), so
v_π = (I − γP_π)⁻¹ r_π; iterating v ← r_π + γ P_π v is a γ-contraction in the sup norm and converges to it
geometrically, the error shrinking at least by γ per sweep.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .mdp import FiniteMDP

__all__ = ["DPResult", "bellman_expectation", "bellman_optimality", "evaluate_policy", "policy_evaluation",
           "value_iteration", "policy_iteration"]


@dataclass
class DPResult:
    """What a dynamic-programming solver returns.

    ``value``: v, shape ``(S,)``; ``policy``: the greedy deterministic policy, shape ``(S,)`` (None for policy
    evaluation); ``q``: Q(s, a) of ``value``, shape ``(S, A)``; ``iterations``: sweeps (or improvement steps) done;
    ``residuals``: ‖v_{k+1} − v_k‖_∞ after each sweep (for policy iteration: the number of states whose action
    changed at each improvement step); ``converged``: whether the stopping rule was met within the budget.
    """

    value: np.ndarray
    policy: np.ndarray | None
    q: np.ndarray
    iterations: int
    residuals: list[float] = field(default_factory=list)
    converged: bool = True


def bellman_expectation(mdp: FiniteMDP, policy: np.ndarray, v: np.ndarray) -> np.ndarray:
    """One application of the Bellman operator of π: (T_π v)(s) = Σ_a π(a|s) Σ_s' T(s'|s,a)[R(s,s') + γ v(s')]."""
    return (mdp.as_policy(policy) * mdp.q_values(v)).sum(-1)


def bellman_optimality(mdp: FiniteMDP, v: np.ndarray) -> np.ndarray:
    """One application of the Bellman optimality operator: (T* v)(s) = max_a Σ_s' T(s'|s,a)[R(s,s') + γ v(s')]."""
    return mdp.q_values(v).max(-1)


def evaluate_policy(mdp: FiniteMDP, policy: np.ndarray) -> np.ndarray:
    """V_π exactly, by solving the linear system (I − γP_π) v = r_π.

    Example::

        >>> from fukaku.rl import chain
        >>> v = evaluate_policy(chain(2, slip=0.0, gamma=0.5), np.array([1, 1]))   # always back: 2 per step
        >>> v.round(6).tolist()
        [4.0, 4.0]
    """
    p = mdp.policy_transition(policy)
    return np.linalg.solve(np.eye(mdp.num_states) - mdp.gamma * p, mdp.policy_reward(policy))


def _iterate(mdp: FiniteMDP, operator, v0: np.ndarray | None, tol: float,
             max_iterations: int) -> tuple[np.ndarray, list[float], bool]:
    """v ← operator(v) from ``v0`` (zeros) until ‖v_{k+1} − v_k‖_∞ ≤ tol (1 − γ)/γ, which bounds the distance to
    the fixed point of a γ-contraction by ``tol``. Returns (v, the sup-norm change of each sweep, converged)."""
    v = np.zeros(mdp.num_states) if v0 is None else np.asarray(v0, dtype=np.float64).copy()
    stop = tol * (1 - mdp.gamma) / max(mdp.gamma, 1e-300)
    residuals: list[float] = []
    for _ in range(max_iterations):
        v_next = operator(v)
        residuals.append(float(np.abs(v_next - v).max()))
        v = v_next
        if residuals[-1] <= stop:
            break
    return v, residuals, bool(residuals and residuals[-1] <= stop)


def policy_evaluation(mdp: FiniteMDP, policy: np.ndarray, *, tol: float = 1e-10, max_iterations: int = 100_000,
                      v0: np.ndarray | None = None) -> DPResult:
    """V_π by iterating the Bellman equation v_{k+1} = T_π v_k from ``v0`` (zeros by default) until
    ‖v_{k+1} − v_k‖_∞ ≤ ``tol`` (1 − γ)/γ, which bounds the distance to V_π by ``tol``.

    Returns:
        a :class:`DPResult` with ``residuals`` the sup-norm change of each sweep (it shrinks at least by γ).
    """
    pi = mdp.as_policy(policy)  # checked once, not every sweep
    v, residuals, converged = _iterate(mdp, lambda v: (pi * mdp.q_values(v)).sum(-1), v0, tol, max_iterations)
    return DPResult(value=v, policy=None, q=mdp.q_values(v), iterations=len(residuals), residuals=residuals,
                    converged=converged)


def value_iteration(mdp: FiniteMDP, *, tol: float = 1e-10, max_iterations: int = 100_000,
                    v0: np.ndarray | None = None) -> DPResult:
    """The optimal value V* by iterating the Bellman optimality equation v_{k+1} = max_a Q_k(·, a) until the
    sup-norm change is ≤ ``tol`` (1 − γ)/γ; the policy is greedy with respect to the final Q.

    Example::

        >>> from fukaku.rl import gridworld
        >>> value_iteration(gridworld(["S.G"], gamma=0.9)).policy.tolist()[:2]   # both free cells move right
        [1, 1]
    """
    v, residuals, converged = _iterate(mdp, lambda v: bellman_optimality(mdp, v), v0, tol, max_iterations)
    q = mdp.q_values(v)
    return DPResult(value=v, policy=mdp.greedy(q), q=q, iterations=len(residuals), residuals=residuals,
                    converged=converged)


def policy_iteration(mdp: FiniteMDP, *, policy: np.ndarray | None = None, max_iterations: int = 1000) -> DPResult:
    """The optimal policy by policy iteration: evaluate π exactly (the linear solve), make it greedy with respect
    to Q_π, repeat until no state changes its action (a finite number of steps: each one improves π).

    A state keeps its action when that action is still greedy up to rounding (1e-12 relative), so ties cannot make
    the loop cycle.
    """
    pi = np.zeros(mdp.num_states, dtype=np.int64) if policy is None else np.asarray(policy, dtype=np.int64).copy()
    changes: list[float] = []
    converged = False
    for _ in range(max_iterations):
        v = evaluate_policy(mdp, pi)
        q = mdp.q_values(v)
        best = q.max(-1)
        keep = q[np.arange(mdp.num_states), pi] >= best - 1e-12 * np.maximum(1.0, np.abs(best))
        new = np.where(keep, pi, q.argmax(-1))
        changes.append(float((new != pi).sum()))
        converged = changes[-1] == 0
        if converged:  # v and q are π's already
            break
        pi = new
    else:  # out of iterations: the last improved π is evaluated
        v = evaluate_policy(mdp, pi)
        q = mdp.q_values(v)
    return DPResult(value=v, policy=pi, q=q, iterations=len(changes), residuals=changes, converged=converged)
