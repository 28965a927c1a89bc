"""What the CartPole experiments share: the environment (gymnasium's CartPole-v1 when the ``rl`` extra is
installed, else fukaku's NumPy twin of it, as the image experiments fall back to the digits without MNIST), the
policy and value networks, the random policy's return, and training until CartPole is solved."""
from __future__ import annotations

import time

import numpy as np

import fukaku as fk
from fukaku import nn, optim
from fukaku.rl import evaluate_policy_return, make_cartpole, train_actor_critic, train_reinforce
from fukaku.rl.cartpole import CartPoleTwin

from ....ops._parallel import blas_threads

ENVS = 16                    # episodes per batch, run side by side
EVAL_EPISODES = 100          # the gym leaderboard's criterion: mean return ≥ 195 over 100 consecutive episodes
SOLVED = 195.0
HIDDEN = 64
ITERATIONS = {True: 15, False: 150}          # batches of episodes: quick, full (at most; training stops when solved)
STOP_AT, STOP_AFTER = 475.0, 3               # full run: stop once 3 batches in a row average ≥ 475
REINFORCE_LR, ACTOR_CRITIC_LR = 0.01, 0.01
GAMMA = 0.99


def environment(num_envs: int):
    """``(vector env, description)``: gymnasium's vectorised CartPole-v1, or the NumPy twin without gymnasium."""
    env = make_cartpole(num_envs, backend="auto")
    if isinstance(env, CartPoleTwin):
        return env, "fukaku's NumPy twin of CartPole-v1 (gymnasium is not installed: pip install 'fukaku[rl]')"
    return env, "gymnasium CartPole-v1 (vectorised)"


def describe() -> str:
    """Which CartPole :func:`environment` runs, in words (the environment built to tell is closed again)."""
    env, text = environment(1)
    env.close()
    return text


def network(outputs: int) -> nn.Module:
    """4 → 64 (tanh) → ``outputs``: a policy's logits (2) or a critic's value (1)."""
    return nn.Sequential(nn.Linear(4, HIDDEN), nn.Tanh(), nn.Linear(HIDDEN, outputs))


def random_policy_returns(seed: int) -> np.ndarray:
    """The returns of the uniformly random policy (all-zero logits) over EVAL_EPISODES episodes."""
    class Uniform(nn.Module):
        def forward(self, obs):
            return fk.zeros(obs.shape[0], 2)

    fk.manual_seed(seed)
    return evaluate_policy_return(Uniform(), environment(EVAL_EPISODES)[0], EVAL_EPISODES, seed=seed)


def _until_solved(quick: bool):
    recent: list[float] = []

    def callback(iteration: int, mean_return: float) -> bool:
        recent.append(mean_return)
        return not quick and len(recent) >= STOP_AFTER and min(recent[-STOP_AFTER:]) >= STOP_AT

    return callback


def train(method: str, quick: bool, seed: int) -> dict:
    """Train a policy on CartPole by ``method`` (``"REINFORCE"`` or ``"actor-critic"``) and evaluate it over
    EVAL_EPISODES episodes with sampled actions. Returns the curve (mean batch return against environment
    steps), the evaluation returns, the iterations run and the seconds taken."""
    fk.manual_seed(seed)
    env, _ = environment(ENVS)
    policy = network(2)
    start = time.perf_counter()
    with blas_threads(1):        # 16-row products: threads only cost here
        if method == "REINFORCE":
            history = train_reinforce(policy, optim.Adam(policy.parameters(), lr=REINFORCE_LR), env,
                                      iterations=ITERATIONS[quick], gamma=GAMMA, seed=seed * 100_000,
                                      callback=_until_solved(quick))
        else:
            critic = network(1)
            history = train_actor_critic(policy, critic, optim.Adam([*policy.parameters(), *critic.parameters()],
                                                                    lr=ACTOR_CRITIC_LR), env,
                                         iterations=ITERATIONS[quick], gamma=GAMMA, seed=seed * 100_000,
                                         callback=_until_solved(quick))
        seconds = time.perf_counter() - start
        returns = evaluate_policy_return(policy, environment(EVAL_EPISODES)[0], EVAL_EPISODES,
                                         seed=seed * 100_000 + 50_000)
    return {"steps": np.array(history.env_steps), "curve": np.array(history.mean_returns), "eval": returns,
            "iterations": len(history.mean_returns), "seconds": seconds}


def first_solved(run: dict) -> int | None:
    """The environment steps after which a training batch first averaged ≥ 195 (None if none did)."""
    hit = np.flatnonzero(run["curve"] >= SOLVED)
    return int(run["steps"][hit[0]]) if len(hit) else None
