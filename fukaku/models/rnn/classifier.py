"""A recurrent sequence classifier — seed 001 §9.3 (sequence classification from the last state,
softmax(W_y h_N + b_y)), seed 000 §6.1.7 and seed 004 §3.4 (Elman network, LSTM, GRU).

The recurrent layer reads the whole sequence; the last layer's final state h_N (with a bidirectional
layer, [h→_N; h←_1], the forward state after the last step and the backward one after the first) goes
through dropout and one linear layer to the class scores. The softmax is left to the loss
(``nn.CrossEntropyLoss``), as PyTorch classifiers do.

Batch first: token ids ``(N, T)`` (with ``vocab_size``) or features ``(N, T, input_size)``.
"""
from __future__ import annotations

from ...tensor import Tensor
from ._util import top_hidden
from .encoder import _EncoderHead


class SequenceClassifier(_EncoderHead):
    """``SequenceClassifier(input_size, hidden_size, num_classes, num_layers=1, cell='lstm',
    bidirectional=False, dropout=0.0, vocab_size=None, padding_idx=None)``.

    Args:
        input_size: features per step; with ``vocab_size``, the embedding dimension.
        hidden_size: H per direction.
        num_classes: C.
        num_layers, cell, bidirectional, vocab_size, padding_idx: as :class:`RNNEncoder`
            (``cell`` ``'lstm'``, ``'gru'`` or ``'rnn'``).
        dropout: between recurrent layers and before the output layer.

    ``forward(input, lengths=None)``: ``(N, T)`` ids or ``(N, T, input_size)`` → logits ``(N, C)``.
    With ``lengths`` (a padded batch's real lengths, any order) the state at each sequence's own last
    step is used (the batch is packed).

    Submodules: ``encoder`` (an :class:`RNNEncoder`: ``encoder.embedding``, ``encoder.rnn``), ``dropout``,
    ``fc`` (``nn.Linear(D·H, C)``).

    Example::

        >>> model = SequenceClassifier(32, 64, 5, vocab_size=100, cell='gru')
        >>> model(fukaku.randint(0, 100, (8, 20))).shape
        fukaku.Size([8, 5])
    """

    outputs_name = "num_classes"

    def __init__(self, input_size: int, hidden_size: int, num_classes: int, num_layers: int = 1,
                 cell: str = "lstm", bidirectional: bool = False, dropout: float = 0.0,
                 vocab_size: int | None = None, padding_idx: int | None = None) -> None:
        super().__init__(input_size, hidden_size, num_classes, num_layers, cell, bidirectional, dropout, vocab_size,
                         padding_idx)

    def forward(self, input: Tensor, lengths=None) -> Tensor:
        _, state = self.encoder(input, lengths)
        return self.head(top_hidden(state))


__all__ = ["SequenceClassifier"]
