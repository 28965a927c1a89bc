"""Multi-layer recurrent networks as functions of their weights: what ``nn.RNN``/``LSTM``/``GRU`` call.

:func:`recurrent` stacks layers and directions of the fused node
:class:`fukaku.ops.recurrent.RecurrentSequence` (one node per layer and direction, its backward
BPTT in NumPy). :func:`recurrent_reference` computes the same function with the cells of
:mod:`fukaku.ops.recurrent` in a Python loop over time: a graph of tensor ops, differentiable to any
order and in forward mode — the layers use it by themselves under forward-mode AD, and with
``layer.fused = False``. (A backward with ``create_graph=True`` through the fused node works too: the
node then recomputes its layer this way to differentiate it.)

The single-step cells are :func:`fukaku.rnn_tanh_cell`, :func:`fukaku.rnn_relu_cell`,
:func:`fukaku.lstm_cell` and :func:`fukaku.gru_cell` (PyTorch has them at top level too).
"""
from __future__ import annotations

from collections.abc import Sequence

from ...autograd.grad_mode import state
from ...ops.recurrent import MODES, RecurrentSequence, composed_layer, gate_count
from ...ops.shape import cat, stack
from ...tensor import Tensor
from .dropout import dropout as _dropout

__all__ = ["recurrent", "recurrent_reference"]


def _layout(weights: Sequence[Tensor], mode: str, bias: bool):
    """(w_ih, w_hh, b_ih, b_hh, w_hr) of one layer-direction's parameter list (PyTorch's order)."""
    w = list(weights)
    w_ih, w_hh = w[0], w[1]
    b_ih, b_hh = (w[2], w[3]) if bias else (None, None)
    w_hr = w[4 if bias else 2] if len(w) > (4 if bias else 2) else None
    return w_ih, w_hh, b_ih, b_hh, w_hr


def _has_tangent(tensors) -> bool:
    level = state.forward_level
    return any(t is not None and t._tangent is not None and t._tangent[0] == level for t in tensors)


def recurrent(input: Tensor, hx: Tensor, cx: Tensor | None, weights: Sequence[Sequence[Tensor]], mode: str,
              bias: bool = True, num_layers: int = 1, dropout: float = 0.0, training: bool = False,
              bidirectional: bool = False, batch_sizes: Sequence[int] | None = None, fused: bool = True
              ) -> tuple[Tensor, Tensor, Tensor | None]:
    """Run ``num_layers`` recurrent layers (each in one or two directions) over a time-major sequence.

    Args:
        input: (T, B, I), time-major; with ``batch_sizes`` a padded variable-length batch sorted by
            decreasing length (row b is valid at step t iff b < batch_sizes[t]).
        hx: initial h, (num_layers · D, B, P); cx: initial c (num_layers · D, B, H) for LSTM, else None.
        weights: per layer and direction (l0, l0_reverse, l1, …) the list
            ``[w_ih, w_hh, (b_ih, b_hh), (w_hr)]`` in PyTorch's order.
        mode: ``"RNN_TANH"``, ``"RNN_RELU"``, ``"LSTM"``, ``"GRU"`` or ``"GRU_TEXTBOOK"``.
        dropout: applied to the outputs of every layer but the last when ``training``.
        fused: False runs :func:`recurrent_reference` instead (a graph of tensor ops). Under forward-mode AD
            that path is taken anyway (the fused node has no forward rule).

    Returns:
        output (T, B, D · P) (0 at the padded steps), h_n (num_layers · D, B, P), c_n (or None).
    """
    if mode not in MODES:
        raise ValueError(f"recurrent: unknown mode {mode!r}; expected one of {', '.join(MODES)}")
    if (mode == "LSTM") != (cx is not None):
        raise ValueError(f"recurrent: mode {mode} {'needs' if mode == 'LSTM' else 'takes no'} initial cell state cx")
    flat_inputs = [input, hx, cx] + [w for ws in weights for w in ws]
    if not fused or (state.forward_level and _has_tangent(flat_inputs)):
        return recurrent_reference(input, hx, cx, weights, mode, bias, num_layers, dropout, training,
                                   bidirectional, batch_sizes)
    bs = None if batch_sizes is None else tuple(int(b) for b in batch_sizes)

    def fused_layer(x: Tensor, h0: Tensor, c0: Tensor | None, w: Sequence[Tensor], reverse: bool):
        T, B = x.shape[0], x.shape[1]
        w_ih, w_hh, b_ih, b_hh, w_hr = _layout(w, mode, bias)
        P, H = w_hh.shape[1], w_hh.shape[0] // gate_count(mode)
        args = [x, h0] + ([c0] if c0 is not None else []) + list(w)
        flat = RecurrentSequence.apply(*args, mode=mode, bias=bias, proj=w_hr is not None, reverse=reverse,
                                       batch_sizes=bs)
        n = T * B * P
        return (flat[:n].reshape(T, B, P), flat[n:n + B * P].reshape(B, P),
                flat[n + B * P:].reshape(B, H) if c0 is not None else None)

    return _stacked(fused_layer, input, hx, cx, weights, num_layers, dropout, training, bidirectional)


def recurrent_reference(input: Tensor, hx: Tensor, cx: Tensor | None, weights: Sequence[Sequence[Tensor]],
                        mode: str, bias: bool = True, num_layers: int = 1, dropout: float = 0.0,
                        training: bool = False, bidirectional: bool = False,
                        batch_sizes: Sequence[int] | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
    """:func:`recurrent` computed with the cells, step by step (:func:`fukaku.ops.recurrent.composed_layer`):
    a graph of tensor ops (slower; differentiable to any order, in reverse and forward mode). Same
    arguments and results."""
    def composed(x: Tensor, h: Tensor, c: Tensor | None, w: Sequence[Tensor], reverse: bool):
        return composed_layer(x, h, c, *_layout(w, mode, bias), mode, reverse, batch_sizes)

    return _stacked(composed, input, hx, cx, weights, num_layers, dropout, training, bidirectional)


def _stacked(run_layer, input: Tensor, hx: Tensor, cx: Tensor | None, weights, num_layers: int, dropout: float,
             training: bool, bidirectional: bool) -> tuple[Tensor, Tensor, Tensor | None]:
    """Layers and directions around ``run_layer(x, h0, c0, weights, reverse) -> (outputs, h_T, c_T)``: each
    layer reads the previous one's outputs (both directions concatenated, dropout between layers in
    training); the final states stacked in PyTorch's order (l0, l0_reverse, l1, …)."""
    D = 2 if bidirectional else 1
    layer_input = input
    h_n, c_n = [], []
    for layer in range(num_layers):
        outs = []
        for direction in range(D):
            k = layer * D + direction
            out, h, c = run_layer(layer_input, hx[k], None if cx is None else cx[k], weights[k], direction == 1)
            outs.append(out)
            h_n.append(h)
            c_n.append(c)
        layer_input = outs[0] if D == 1 else cat(outs, 2)
        if dropout and training and layer < num_layers - 1:
            layer_input = _dropout(layer_input, dropout, True)
    return layer_input, stack(h_n, 0), (None if cx is None else stack(c_n, 0))
