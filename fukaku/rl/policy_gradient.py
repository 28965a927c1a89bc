"""Policy gradients with a fukaku policy network (seed 002 ch. 4's return G_t, optimised directly): REINFORCE and
an n-step actor-critic, on vector environments with gymnasium's API (CartPole-v1: :mod:`fukaku.rl.cartpole`).

The policy is an ``nn.Module`` mapping observations to action logits, and its action distribution is
``fukaku.distributions.Categorical``, exactly as a PyTorch program writes it::

    dist = Categorical(logits=policy(obs))
    action = dist.sample()
    loss = -(dist.log_prob(action) * G).sum()

REINFORCE (Williams, 1992) follows ∇J(θ) = E[Σ_t ∇log π_θ(a_t|s_t) (G_t − b)] with the Monte-Carlo return G_t of
whole episodes and a baseline b (here the returns are normalised across the batch: minus their mean, over their
standard deviation). The actor-critic replaces G_t − b by the advantage r_{t+1} + … + γ^n V(s_{t+n}) − V(s_t) of a
learned critic V and updates every n steps.

Rollouts run ``num_envs`` episodes side by side; an environment that has finished waits (its later steps are
masked out) until every episode of the batch is over, then all are reset together.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..autograd.grad_mode import no_grad
from ..distributions import Categorical
from ..nn.modules.module import Module
from ..optim.optimizer import Optimizer
from ..tensor import Tensor, tensor
from .returns import discounted_returns

__all__ = ["Rollout", "TrainingHistory", "rollout", "reinforce_loss", "train_reinforce", "train_actor_critic", "evaluate_policy_return"]


@dataclass
class Rollout:
    """A batch of episodes run side by side, time first: ``obs`` ``(T, N, obs_dim)`` float32, ``actions``
    ``(T, N)`` int64, ``rewards`` ``(T, N)``, ``valid`` ``(T, N)`` (the step belongs to the episode), ``terminated``
    and ``truncated`` ``(T, N)`` (the episode ended at this step, by failure or by the time limit); the rewards of
    steps past an episode's end are 0."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    valid: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray

    @property
    def episode_returns(self) -> np.ndarray:
        """The undiscounted return of each of the N episodes."""
        return self.rewards.sum(0)


def _act(policy: Module | Callable[[np.ndarray], np.ndarray], obs: np.ndarray, greedy: bool) -> np.ndarray:
    if not isinstance(policy, Module):  # a function of the observations giving the actions (an expert)
        return np.asarray(policy(obs))
    with no_grad():
        logits = policy(tensor(obs))
        if greedy:
            return logits.argmax(-1).numpy()
        return Categorical(logits=logits, validate_args=False).sample().numpy()


def rollout(env, policy: Module | Callable[[np.ndarray], np.ndarray], *, seed: int | None = None, greedy: bool = False, max_steps: int = 100_000) -> Rollout:
    """Run one episode in each of the ``env.num_envs`` environments of a vector environment, actions sampled from
    ``Categorical(logits=policy(obs))`` (or its argmax with ``greedy``), until all have ended.

    Args:
        env: a vector environment with gymnasium's API (``make_cartpole(n)``).
        policy: observations ``(N, obs_dim)`` → logits ``(N, actions)``; or any other function of the
            observations that gives the actions ``(N,)`` itself (an expert controller).
        seed: passed to ``env.reset`` (the actions draw from fukaku's default generator: ``fukaku.manual_seed``).
        greedy: take the most likely action instead of sampling.
    """
    obs, _ = env.reset(seed=seed)
    n = obs.shape[0]
    alive = np.ones(n, dtype=bool)
    steps: dict[str, list] = {k: [] for k in ("obs", "actions", "rewards", "valid", "terminated", "truncated")}
    for _ in range(max_steps):
        actions = _act(policy, obs, greedy)
        next_obs, reward, terminated, truncated, _ = env.step(actions)
        for key, value in zip(steps, (obs, actions, reward, alive.copy(), terminated & alive, truncated & alive)):
            steps[key].append(np.asarray(value))
        alive &= ~(terminated | truncated)
        obs = next_obs
        if not alive.any():
            break
    stacked = {k: np.stack(v) for k, v in steps.items()}
    return Rollout(obs=stacked["obs"].astype(np.float32), actions=stacked["actions"].astype(np.int64),
                   rewards=stacked["rewards"].astype(np.float64) * stacked["valid"], valid=stacked["valid"],
                   terminated=stacked["terminated"], truncated=stacked["truncated"])


def reinforce_loss(policy: Module, batch: Rollout, gamma: float, baseline: str = "normalize") -> Tensor:
    """The REINFORCE surrogate loss of a batch: −Σ_{episodes, t} log π(a_t|s_t) (G_t − b) / N, whose gradient is
    the policy-gradient estimate (with a minus sign: minimising it ascends the expected return).

    Args:
        policy: observations → logits.
        batch: a :class:`Rollout`.
        gamma: the discount γ of G_t.
        baseline: ``"normalize"`` (G minus its mean over the batch's steps, divided by its standard deviation),
            ``"mean"`` (minus the mean only) or ``"none"``.
    """
    if baseline not in ("normalize", "mean", "none"):
        raise ValueError(f"reinforce_loss: baseline must be 'normalize', 'mean' or 'none', got {baseline!r}")
    g = discounted_returns(batch.rewards, gamma, dones=batch.terminated | batch.truncated, dim=0)
    valid = batch.valid
    g = g[valid]
    if baseline != "none":
        g = g - g.mean()
        if baseline == "normalize":
            g = g / (g.std() + 1e-8)
    dist = Categorical(logits=policy(tensor(batch.obs[valid])))
    log_prob = dist.log_prob(tensor(batch.actions[valid]))
    return -(log_prob * tensor(g.astype(np.float32))).sum() / batch.obs.shape[1]


@dataclass
class TrainingHistory:
    """Per update: the mean undiscounted episode return of the batch, and the environment steps so far."""

    mean_returns: list[float] = field(default_factory=list)
    env_steps: list[int] = field(default_factory=list)


def train_reinforce(policy: Module, optimizer: Optimizer, env, *, iterations: int, gamma: float = 0.99,
                    baseline: str = "normalize", seed: int = 0,
                    callback: Callable[[int, float], bool | None] | None = None) -> TrainingHistory:
    """REINFORCE: each iteration runs one episode per environment of ``env``, then takes one optimizer step on
    :func:`reinforce_loss`.

    Args:
        policy, optimizer: the policy network (observations → logits) and an optimizer over its parameters.
        env: a vector environment (``make_cartpole(num_envs)``); num_envs is the batch of episodes.
        iterations: the number of updates.
        seed: ``env.reset`` gets ``seed + iteration``.
        callback: called as ``callback(iteration, mean_return)`` after each update; returning True stops.

    Returns:
        a :class:`TrainingHistory`.
    """
    history = TrainingHistory()
    steps = 0
    for it in range(iterations):
        batch = rollout(env, policy, seed=seed + it)
        optimizer.zero_grad()
        reinforce_loss(policy, batch, gamma, baseline).backward()
        optimizer.step()
        steps += int(batch.valid.sum())
        history.mean_returns.append(float(batch.episode_returns.mean()))
        history.env_steps.append(steps)
        if callback is not None and callback(it, history.mean_returns[-1]):
            break
    return history


def train_actor_critic(actor: Module, critic: Module, optimizer: Optimizer, env, *, iterations: int,
                       n_steps: int = 20, gamma: float = 0.99, value_coef: float = 0.5, entropy_coef: float = 0.01,
                       normalize_advantages: bool = False, seed: int = 0,
                       callback: Callable[[int, float], bool | None] | None = None) -> TrainingHistory:
    """The n-step advantage actor-critic: every ``n_steps`` steps of the running batch of episodes, the actor
    follows ∇log π(a_t|s_t) A_t with A_t = r_{t+1} + γ r_{t+2} + … + γ^k V(s_{t+k}) − V(s_t) (k ≤ n, V of a
    terminal state 0; at the time limit V of the last observation stands in for the rest of the episode), and
    the critic V regresses on the same n-step return (squared error, weight ``value_coef``); an entropy bonus
    (``entropy_coef``) keeps the policy exploring.

    Args:
        actor: observations → logits; critic: observations → ``(N, 1)`` values.
        optimizer: over the parameters of both.
        env: a vector environment (``make_cartpole(num_envs)``).
        iterations: batches of episodes (each gives several updates).
        normalize_advantages: divide A by its standard deviation within each update.

    Returns:
        a :class:`TrainingHistory` (one entry per batch of episodes).
    """
    history = TrainingHistory()
    steps = 0
    for it in range(iterations):
        obs, _ = env.reset(seed=seed + it)
        n = obs.shape[0]
        alive = np.ones(n, dtype=bool)
        returns = np.zeros(n)
        while alive.any():
            seg = {k: [] for k in ("obs", "actions", "rewards", "valid", "done")}
            for _ in range(n_steps):
                actions = _act(actor, obs, greedy=False)
                next_obs, reward, terminated, truncated, _ = env.step(actions)
                reward = np.asarray(reward, dtype=np.float64) * alive
                returns += reward
                if (truncated & alive & ~terminated).any():  # the time limit: bootstrap from V(final observation)
                    cut = truncated & alive & ~terminated
                    with no_grad():
                        reward[cut] += gamma * critic(tensor(next_obs[cut])).numpy().reshape(-1)
                for key, value in zip(seg, (obs, actions, reward, alive.copy(), (terminated | truncated) & alive)):
                    seg[key].append(np.asarray(value))
                alive = alive & ~(terminated | truncated)
                obs = next_obs
                if not alive.any():
                    break
            s = {k: np.stack(v) for k, v in seg.items()}
            with no_grad():
                bootstrap = critic(tensor(obs)).numpy().reshape(-1) * alive
            g = discounted_returns(s["rewards"], gamma, dones=s["done"], bootstrap=bootstrap, dim=0)
            valid = s["valid"]
            x = tensor(s["obs"][valid].astype(np.float32))
            value = critic(x).reshape(-1)
            target = tensor(g[valid].astype(np.float32))
            advantage = (target - value).detach()
            if normalize_advantages and advantage.numel() > 1:
                advantage = (advantage - advantage.mean()) / (advantage.std() + 1e-8)
            dist = Categorical(logits=actor(x))
            log_prob = dist.log_prob(tensor(s["actions"][valid]))
            loss = (-(log_prob * advantage).mean() + value_coef * ((target - value) ** 2).mean()
                    - entropy_coef * dist.entropy().mean())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += int(valid.sum())
        history.mean_returns.append(float(returns.mean()))
        history.env_steps.append(steps)
        if callback is not None and callback(it, history.mean_returns[-1]):
            break
    return history


def evaluate_policy_return(policy: Module | Callable[[np.ndarray], np.ndarray], env, episodes: int, *, seed: int = 10_000, greedy: bool = False) -> np.ndarray:
    """The undiscounted returns of ``episodes`` episodes of ``policy`` (sampled actions, or greedy), run
    ``env.num_envs`` at a time; shape ``(episodes,)``."""
    out: list[np.ndarray] = []
    k = 0
    while sum(len(x) for x in out) < episodes:
        out.append(rollout(env, policy, seed=seed + k, greedy=greedy).episode_returns)
        k += 1
    return np.concatenate(out)[:episodes]
