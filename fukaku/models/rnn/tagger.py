"""A recurrent per-step tagger — seed 001 §9.3 (a label per step from each h_t; bidirectional networks:
every output sees the whole sequence), seed 000 §6.1.7 and seed 004 §3.4: y_t = W_y h_t + b_y at every
step t (the output layer y = α_y(W_yh h + b_y), without its squashing α_y: the softmax is left to the loss).

Part-of-speech tagging, named entities, per-step labels of a time series: one score vector per step.
With ``bidirectional=True`` (the default) h_t = [h→_t; h←_t] holds the context on both sides of t.
Train with ``nn.CrossEntropyLoss(ignore_index=…)`` on ``logits.transpose(1, 2)`` (``(N, C, T)``, as
PyTorch's loss wants the classes second) or on ``logits.reshape(-1, C)``.

Batch first: token ids ``(N, T)`` (with ``vocab_size``) or features ``(N, T, input_size)``.
"""
from __future__ import annotations

from ...tensor import Tensor
from .encoder import _EncoderHead


class SequenceTagger(_EncoderHead):
    """``SequenceTagger(input_size, hidden_size, num_tags, num_layers=1, cell='lstm', bidirectional=True,
    dropout=0.0, vocab_size=None, padding_idx=None)``.

    Args:
        input_size: features per step; with ``vocab_size``, the embedding dimension.
        hidden_size: H per direction.
        num_tags: C, the scores per step.
        num_layers, cell, bidirectional, vocab_size, padding_idx: as :class:`RNNEncoder`.
        dropout: between recurrent layers and before the output layer.

    ``forward(input, lengths=None)``: ``(N, T)`` ids or ``(N, T, input_size)`` → logits ``(N, T, C)``.
    With ``lengths`` the batch is packed, so padding never reaches the real steps (a backward
    direction starts at each sequence's last real step); the scores at padded steps are those of a
    zero state, ``fc.bias`` — mask them out of the loss.

    Submodules: ``encoder`` (``encoder.embedding``, ``encoder.rnn``), ``dropout``, ``fc``.
    """

    outputs_name = "num_tags"

    def __init__(self, input_size: int, hidden_size: int, num_tags: int, num_layers: int = 1,
                 cell: str = "lstm", bidirectional: bool = True, dropout: float = 0.0,
                 vocab_size: int | None = None, padding_idx: int | None = None) -> None:
        super().__init__(input_size, hidden_size, num_tags, num_layers, cell, bidirectional, dropout, vocab_size,
                         padding_idx)

    def forward(self, input: Tensor, lengths=None) -> Tensor:
        output, _ = self.encoder(input, lengths)
        return self.head(output)


__all__ = ["SequenceTagger"]
