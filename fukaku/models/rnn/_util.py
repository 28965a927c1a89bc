"""Helpers shared by the recurrent models: the choice of cell, the recurrent layer over padded batches,
the per-layer joining of a bidirectional state, and the checks on token inputs.

Every model here is batch first: sequences are ``(N, T)`` token ids or ``(N, T, features)``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ... import nn
from ...autograd.grad_mode import no_grad
from ...dtypes import int64
from ...errors import ShapeError
from ...nn.modules.module import Module
from ...ops.shape import stack
from ...tensor import Tensor, zeros

CELLS = ("lstm", "gru", "rnn")


def make_rnn(model: str, cell: str, input_size: int, hidden_size: int, num_layers: int = 1,
             dropout: float = 0.0, bidirectional: bool = False) -> Module:
    """``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh, the Elman network) with ``batch_first=True``; the
    dropout between layers only when there is more than one layer (PyTorch warns otherwise)."""
    layers = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
    if cell not in layers:
        raise ValueError(f"{model}: cell must be one of {CELLS}, got {cell!r}")
    return layers[cell](input_size, hidden_size, num_layers=num_layers, batch_first=True,
                        dropout=float(dropout) if num_layers > 1 else 0.0, bidirectional=bidirectional)


def map_state(state, fn: Callable[[Tensor], Tensor]):
    """``fn`` applied to a state: a tensor (RNN, GRU) or the pair ``(h, c)`` (LSTM)."""
    return tuple(fn(s) for s in state) if isinstance(state, tuple) else fn(state)


def top_hidden(state) -> Tensor:
    """The last layer's hidden state ``(N, H)`` of a state ``(num_layers, N, H)`` (h of an LSTM's (h, c))."""
    return (state[0] if isinstance(state, tuple) else state)[-1]


def join_directions(state, num_layers: int):
    """A final state ``(num_layers·D, N, H)`` as ``(num_layers, N, D·H)``: per layer the forward
    direction's features, then the backward one's — the layout of the layer's output features."""
    def join(h: Tensor) -> Tensor:
        d = h.shape[0] // num_layers
        return h.reshape(num_layers, d, h.shape[1], h.shape[2]).transpose(1, 2).reshape(
            num_layers, h.shape[1], d * h.shape[2])
    return map_state(state, join)


def run_rnn(rnn: Module, input: Tensor, lengths=None, state=None):
    """``rnn(input, state)`` over a batch-first input; with ``lengths`` (one per sequence, any order)
    the padded batch goes through ``pack_padded_sequence`` so that the final states are those at each
    sequence's last real step (and a backward direction starts there), and the output comes back
    padded with zeros to the input's length."""
    if lengths is None:
        return rnn(input, state)
    from ...nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    packed = pack_padded_sequence(input, lengths, batch_first=True, enforce_sorted=False)
    output, state = rnn(packed, state)
    output, _ = pad_packed_sequence(output, batch_first=True, total_length=input.shape[1])
    return output, state


def check_tokens(model: str, input: Tensor, name: str = "input") -> None:
    """Raise a ShapeError naming ``model`` unless ``input`` is a batch ``(N, T)`` of integer token ids."""
    if input.ndim != 2 or input.is_floating_point():
        raise ShapeError(f"{model}: expected {name} of token ids, an integer tensor (N, T) (batch first), got "
                         f"{input.dtype} of shape {tuple(input.shape)}; add a batch dimension with x.unsqueeze(0)")


def check_features(model: str, input: Tensor, size: int) -> None:
    """Raise a ShapeError naming ``model`` unless ``input`` is ``(N, T, size)``."""
    if input.ndim != 3 or input.shape[-1] != size:
        raise ShapeError(f"{model}: expected input (N, T, {size}) (batch first), got shape {tuple(input.shape)}; "
                         f"build the model with input_size={input.shape[-1] if input.ndim else '?'}")


@contextmanager
def inference(module: Module) -> Iterator[None]:
    """Eval mode (no dropout) and no gradients inside the block; the module's mode is restored after."""
    training = module.training
    module.eval()
    try:
        with no_grad():
            yield
    finally:
        module.train(training)


def decode_loop(step: Callable, first: tuple, state, max_length: int, pick: Callable[[Tensor], Tensor],
                eos_token: int | None = None, fill: int | None = None):
    """Autoregressive decoding, one step per loop iteration for the whole batch at once.

    ``first = (logits (N, V), extra)`` scores the first new position; ``pick(logits) → (N,)`` int64 ids;
    ``step(token (N, 1), state) → (logits, state, extra)`` reads the picked ids and scores the next
    position. With ``eos_token`` a sequence that has emitted it is done: its later positions hold
    ``fill`` (default the end token), and the loop stops when every sequence is done.
    Returns ``(tokens (N, L), extras)`` with L ≤ ``max_length`` and ``extras`` the L extras.
    """
    logits, extra = first
    fill = eos_token if fill is None else fill
    done = zeros(logits.shape[0]).bool() if eos_token is not None else None
    tokens, extras = [], []
    for i in range(int(max_length)):
        nxt = pick(logits)
        if done is not None:
            nxt = nxt.masked_fill(done, fill)
            done = done | (nxt == eos_token)
        tokens.append(nxt)
        extras.append(extra)
        if i == max_length - 1 or (done is not None and bool(done.all())):
            break
        logits, state, extra = step(nxt.unsqueeze(1), state)
    if not tokens:
        return zeros(logits.shape[0], 0, dtype=int64), extras
    return stack(tokens, 1), extras
