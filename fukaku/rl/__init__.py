"""Reinforcement learning — seed 002 ch. 4 ("Games and machine learning").

The chapter's basics as code: the Markov decision process (s, a, T(s'|s,a), R(s,s')) as arrays
(:class:`FiniteMDP`, :func:`gridworld`, :func:`chain`), the return G_t = r_{t+1} + γ G_{t+1}
(:func:`discounted_returns`), the Bellman equation V_π(s) = Σ_a π(a|s) Σ_s' T(s'|s,a)[R(s,s') + γ V_π(s')] solved
by iteration and as the linear system (I − γP_π)v = r_π (:func:`policy_evaluation`, :func:`evaluate_policy`),
optimal control by :func:`value_iteration` and :func:`policy_iteration`, tabular :func:`q_learning` and
:func:`sarsa`; policy gradients with a fukaku network and ``fukaku.distributions.Categorical``
(:func:`train_reinforce`, :func:`train_actor_critic`) on CartPole-v1 (:func:`make_cartpole`: gymnasium, the
optional extra ``pip install 'fukaku[rl]'``, or its NumPy twin); and the chapter's imitation learning as
behaviour cloning (:func:`behaviour_cloning`). See docs/rl.md.
"""
from .cartpole import CartPoleTwin, make_cartpole, require_gymnasium
from .chain import CHAIN_ACTIONS, chain
from .dynamic_programming import (DPResult, bellman_expectation, bellman_optimality, evaluate_policy,
                                  policy_evaluation, policy_iteration, value_iteration)
from .gridworld import GRID_ACTIONS, gridworld
from .imitation import (behaviour_cloning, cartpole_expert, clone_policy_table, demonstrations,
                        mdp_demonstrations)
from .mdp import FiniteMDP
from .policy_gradient import (Rollout, TrainingHistory, evaluate_policy_return, reinforce_loss, rollout,
                              train_actor_critic, train_reinforce)
from .returns import discounted_returns
from .temporal_difference import TDResult, epsilon_greedy, q_learning, sarsa

__all__ = [
    "FiniteMDP", "gridworld", "GRID_ACTIONS", "chain", "CHAIN_ACTIONS",
    "discounted_returns",
    "DPResult", "bellman_expectation", "bellman_optimality", "evaluate_policy", "policy_evaluation",
    "value_iteration", "policy_iteration",
    "TDResult", "epsilon_greedy", "q_learning", "sarsa",
    "make_cartpole", "CartPoleTwin", "require_gymnasium",
    "Rollout", "TrainingHistory", "rollout", "reinforce_loss", "train_reinforce", "train_actor_critic",
    "evaluate_policy_return",
    "cartpole_expert", "demonstrations", "mdp_demonstrations", "behaviour_cloning", "clone_policy_table",
]
