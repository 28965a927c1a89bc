"""Truncated back-propagation through time: train a recurrent model on a long sequence in chunks.

Back-propagation through time unrolls the recurrence h_t = f(W_h h_{t−1} + W_x x_t + b) over the
whole sequence; on a long one that costs memory proportional to its length and multiplies many
Jacobians together. Truncated BPTT (seed 001 §9.3: "going back k = 10–100 steps") cuts the
sequence into chunks of k steps: the model runs over one chunk starting from the state the
previous chunk ended in, the loss of that chunk is back-propagated — through those k steps only,
because the carried state was *detached* from the graph — and the optimizer steps. The forward
pass still sees the whole history through the carried state; only the gradient is truncated.

::

    state = None
    for x, y in zip(inputs.split(k), targets.split(k)):      # time-major chunks of k steps
        output, state = model(x, state)
        loss = loss_fn(output, y)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        state = detach_state(state)                           # the gradient stops here

is what :func:`truncated_bptt` does (with gradient clipping and the per-chunk losses).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ...tensor import Tensor
from .clip_grad import clip_grad_norm_

__all__ = ["detach_state", "truncated_bptt", "BPTTResult"]


def detach_state(state: Any) -> Any:
    """``state`` with every tensor in it detached from the graph: a tensor, None, or tuples, lists and
    dicts of them, nested (an LSTM's ``(h, c)``, a list of per-layer states); the structure is kept.

    The values are shared, not copied: the next chunk starts from the same numbers, but no gradient
    flows back into the chunk that computed them.

    Example::

        >>> output, (h, c) = lstm(x_chunk, state)
        >>> state = detach_state((h, c))
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    if isinstance(state, tuple) and hasattr(state, "_fields"):  # a named tuple keeps its type
        return type(state)(*(detach_state(s) for s in state))
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    if isinstance(state, dict):
        return {key: detach_state(value) for key, value in state.items()}
    raise TypeError(f"detach_state: expected a Tensor, None, or a tuple, list or dict of them, got "
                    f"{type(state).__name__}")


class BPTTResult(NamedTuple):
    """What :func:`truncated_bptt` returns: the loss of each chunk (floats), each chunk's number of
    steps, and the final state (detached), to carry into the next call."""

    losses: list[float]
    steps: list[int]
    state: Any

    @property
    def loss(self) -> float:
        """The mean of the chunk losses weighted by their lengths: the mean per step when ``loss_fn``
        averages over the steps of a chunk."""
        total = sum(self.steps)
        return sum(loss * n for loss, n in zip(self.losses, self.steps)) / total if total else float("nan")


def truncated_bptt(model: Callable, inputs: Tensor, targets: Tensor | None, loss_fn: Callable, optimizer=None,
                   k: int = 35, *, state: Any = None, batch_first: bool = False, max_grad_norm: float | None = None,
                   parameters=None) -> BPTTResult:
    """Run ``model`` over ``inputs`` in chunks of ``k`` steps, back-propagating each chunk's loss
    through that chunk only (seed 001 §9.3).

    For each chunk: ``output, state = model(x_chunk, state)``; ``loss = loss_fn(output, y_chunk)``
    (``loss_fn(output)`` when ``targets`` is None); then, with an ``optimizer``,
    ``optimizer.zero_grad()``, ``loss.backward()``, clipping to ``max_grad_norm``, and
    ``optimizer.step()`` — without one, ``loss.backward()`` only, so the chunks' gradients add up
    in ``.grad`` for the caller to use. The state is detached (:func:`detach_state`) before it
    goes into the next chunk.

    Args:
        model: called as ``model(x, state)`` and returning ``(output, new_state)``, as ``nn.RNN``,
            ``nn.LSTM`` (state ``(h, c)``) and ``nn.GRU`` do; the first call gets ``state``.
        inputs: the sequence, time along dim 0 (dim 1 with ``batch_first``).
        targets: split along the same dim as ``inputs`` (it must have as many steps), or None.
        loss_fn: the loss of one chunk, a scalar tensor.
        optimizer: stepped after every chunk (None: gradients accumulate, nothing is stepped).
        k: the truncation length, in steps; the last chunk may be shorter.
        state: the initial state (None: the model's default, zeros for PyTorch's layers).
        batch_first: time is dim 1 of ``inputs`` and ``targets``.
        max_grad_norm: clip the gradients of ``parameters`` to this total 2-norm before each step.
        parameters: what to clip (default: ``model.parameters()``).

    Returns:
        a :class:`BPTTResult`: the per-chunk losses and lengths and the final state, detached, so a
        following call continues the same sequence (``state=result.state``).

    Example::

        >>> result = truncated_bptt(lstm_lm, x, y, lambda out, y: F.cross_entropy(out.flatten(0, 1), y.flatten()),
        ...                         optimizer, k=35, max_grad_norm=5.0)
        >>> result.loss, result.state            # mean loss per step; (h, c) to carry on
    """
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"truncated_bptt: k (the truncation length in steps) must be a positive int, got {k!r}")
    dim = 1 if batch_first else 0
    if not isinstance(inputs, Tensor) or inputs.ndim <= dim:
        raise ValueError(f"truncated_bptt: inputs must be a tensor with time along dim {dim} "
                         f"(batch_first={batch_first}), got {getattr(inputs, 'shape', type(inputs).__name__)}")
    if targets is not None and (targets.ndim <= dim or targets.shape[dim] != inputs.shape[dim]):
        raise ValueError(f"truncated_bptt: inputs {tuple(inputs.shape)} and targets {tuple(targets.shape)} must have "
                         f"the same number of steps along dim {dim} (batch_first={batch_first})")
    if max_grad_norm is not None and parameters is None:
        parameters = model.parameters()
    parameters = list(parameters) if parameters is not None else None
    x_chunks = inputs.split(k, dim)
    y_chunks = targets.split(k, dim) if targets is not None else [None] * len(x_chunks)
    losses, steps = [], []
    for x, y in zip(x_chunks, y_chunks):
        output, state = model(x, state)
        loss = loss_fn(output) if y is None else loss_fn(output, y)
        if optimizer is not None:
            optimizer.zero_grad()
        loss.backward()
        if max_grad_norm is not None:
            clip_grad_norm_(parameters, max_grad_norm)
        if optimizer is not None:
            optimizer.step()
        state = detach_state(state)
        losses.append(float(loss.item()))
        steps.append(int(x.shape[dim]))
    return BPTTResult(losses, steps, state)
