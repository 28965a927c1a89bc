"""The (bidirectional) recurrent encoder — seed 001 §9.3: a bidirectional LSTM reads the sequence forwards
and backwards and combines the two states, and the encoder of an encoder–decoder compresses the input
sequence into its states.

At step t the forward direction has read x_1 … x_t and the backward one x_T … x_t; the output at t is
their concatenation [h→_t; h←_t] (2H features), so every position sees the whole sequence. The final state
joins, per layer, the forward direction's state after x_T and the backward one's after x_1, in the same
order, giving ``(num_layers, N, 2H)``: the initial state of a decoder of hidden size 2H (what
:class:`~fukaku.models.rnn.Seq2Seq` does; no bridging layer is needed).

Batch first throughout: token ids ``(N, T)`` (with ``vocab_size``) or features ``(N, T, input_size)``.
"""
from __future__ import annotations

from ... import nn
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_features, check_tokens, join_directions, make_rnn, run_rnn


class RNNEncoder(Module):
    """``RNNEncoder(input_size, hidden_size, num_layers=1, cell='lstm', bidirectional=True, dropout=0.0,
    vocab_size=None, padding_idx=None)``.

    Args:
        input_size: features per step; with ``vocab_size``, the embedding dimension.
        hidden_size: H, per direction.
        num_layers: stacked recurrent layers.
        cell: ``'lstm'``, ``'gru'`` or ``'rnn'`` (Elman, tanh).
        bidirectional: read both ways (D = 2) or forwards only (D = 1).
        dropout: between recurrent layers (as ``nn.LSTM``'s).
        vocab_size: when given, the input is token ids and an ``nn.Embedding(vocab_size, input_size)``
            comes first.
        padding_idx: the embedding's padding row.

    ``forward(input, lengths=None)`` → ``(output, state)``: ``output`` ``(N, T, D·H)``; ``state``
    ``(num_layers, N, D·H)`` (a pair ``(h, c)`` for an LSTM), the directions joined per layer.
    ``lengths`` (N,) — real lengths of a padded batch, in any order — packs the batch so that each
    sequence ends (and the backward direction starts) at its last real step; padded outputs are zero.

    Submodules: ``embedding`` (with ``vocab_size``), ``rnn``, so the state dict is that of a PyTorch
    module holding ``nn.Embedding`` and ``nn.LSTM(..., batch_first=True)`` under these names.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, cell: str = "lstm",
                 bidirectional: bool = True, dropout: float = 0.0, vocab_size: int | None = None,
                 padding_idx: int | None = None) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.num_layers = int(input_size), int(hidden_size), int(num_layers)
        self.cell, self.bidirectional, self.vocab_size = cell, bool(bidirectional), vocab_size
        self.num_directions = 2 if bidirectional else 1
        if vocab_size is not None:
            self.embedding = nn.Embedding(vocab_size, self.input_size, padding_idx=padding_idx)
        self.rnn = make_rnn(type(self).__name__, cell, self.input_size, self.hidden_size, self.num_layers,
                            dropout, self.bidirectional)

    @property
    def output_size(self) -> int:
        """D·H: features of each output step and of each layer's joined final state."""
        return self.num_directions * self.hidden_size

    def embed(self, input: Tensor) -> Tensor:
        """Token ids through the embedding, or features checked and passed on."""
        name = type(self).__name__
        if self.vocab_size is not None:
            check_tokens(name, input)
            return self.embedding(input)
        check_features(name, input, self.input_size)
        return input

    def forward(self, input: Tensor, lengths=None):
        output, state = run_rnn(self.rnn, self.embed(input), lengths)
        return output, join_directions(state, self.num_layers)


class _EncoderHead(Module):
    """An :class:`RNNEncoder` then dropout and one linear layer ``fc`` (D·H → ``out_features``): what the
    sequence classifier (on the final state) and the tagger (on every step) share. Submodules ``encoder``,
    ``dropout``, ``fc``; ``out_features`` is also kept under the subclass's name for it (:attr:`outputs_name`)."""

    outputs_name = "out_features"

    def __init__(self, input_size: int, hidden_size: int, out_features: int, num_layers: int, cell: str,
                 bidirectional: bool, dropout: float, vocab_size: int | None, padding_idx: int | None) -> None:
        super().__init__()
        self.encoder = RNNEncoder(input_size, hidden_size, num_layers, cell, bidirectional, dropout,
                                  vocab_size, padding_idx)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.encoder.output_size, int(out_features))
        setattr(self, self.outputs_name, int(out_features))

    def head(self, features: Tensor) -> Tensor:
        return self.fc(self.dropout(features))


__all__ = ["RNNEncoder"]
