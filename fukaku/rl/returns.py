"""The return G_t = r_{t+1} + γ G_{t+1} — seed 002 ch. 4."""
from __future__ import annotations

import numpy as np

from ..tensor import Tensor, tensor

__all__ = ["discounted_returns"]


def discounted_returns(rewards, gamma: float, *, dones=None, bootstrap=None, dim: int = -1):
    """The discounted returns G_t = r_{t+1} + γ G_{t+1} of reward sequences, by the book's recursion run backward
    in time, vectorised over every other axis (a batch of episodes or of parallel environments).

    ``rewards[..., t]`` is r_{t+1}, the reward received after the step at time t, so that
    G_t = Σ_k γ^k r_{t+k+1}.

    Args:
        rewards: an array or tensor of rewards, time along ``dim``.
        gamma: the discount γ.
        dones: optional booleans of the same shape: ``dones[..., t]`` true when the episode ended with the step at
            t (G_t then does not look past it: G_t = r_{t+1}). Several episodes may follow each other on one row.
        bootstrap: optional value estimates V(s_T) of the state after the last step, shape ``rewards`` without
            ``dim`` (the n-step return of actor-critic methods); 0 when omitted.
        dim: the time axis.

    Returns:
        G of the same shape, float64 for arrays; a tensor (of the rewards' floating dtype, outside any graph) when
        ``rewards`` is a tensor.

    Shape:
        rewards ``(*, T, *)`` → G ``(*, T, *)``.

    Example::

        >>> discounted_returns(np.array([1.0, 1.0, 1.0]), 0.5)
        array([1.75, 1.5 , 1.  ])
    """
    as_tensor = isinstance(rewards, Tensor)
    r = rewards.detach().numpy() if as_tensor else np.asarray(rewards)
    if r.ndim == 0:
        raise ValueError("discounted_returns: rewards need a time axis; got a scalar")
    r = np.moveaxis(r.astype(np.float64), dim, 0)
    done = None
    if dones is not None:
        d = dones.numpy() if isinstance(dones, Tensor) else np.asarray(dones)
        if d.shape != np.moveaxis(r, 0, dim).shape:
            raise ValueError(f"discounted_returns: dones must have the rewards' shape {np.moveaxis(r, 0, dim).shape}, "
                             f"got {d.shape}")
        done = np.moveaxis(d.astype(bool), dim, 0)
    g = np.zeros(r.shape[1:])
    if bootstrap is not None:
        b = bootstrap.detach().numpy() if isinstance(bootstrap, Tensor) else np.asarray(bootstrap, dtype=np.float64)
        g = g + b
    out = np.empty_like(r)
    for t in range(r.shape[0] - 1, -1, -1):       # the recursion itself, each step one array op over the batch
        g = r[t] + gamma * (g if done is None else np.where(done[t], 0.0, g))
        out[t] = g
    out = np.moveaxis(out, 0, dim)
    if as_tensor:
        dtype = rewards.dtype if rewards.is_floating_point() else None
        return tensor(out, dtype=dtype) if dtype is not None else tensor(out.astype(np.float32))
    return out
