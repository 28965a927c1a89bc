"""The encoder–decoder with attention — seed 001 §9.3: at each output step the decoder takes a weighted
sum of *all* the encoder's states, so the input is no longer squeezed into one final state (seed 000 §6.3
gives the attention formula). The encoder may be bidirectional, so each state it offers describes its
position in the context of the whole input.

Two decoders, each as its paper has it (``attention=``):

- ``'bahdanau'`` (Bahdanau, Cho & Bengio 2015): at step t the previous decoder state s_{t−1} (top layer)
  is the query of the additive :class:`~fukaku.models.rnn.BahdanauAttention`; the context c_t joins the
  embedding of the previous token as the recurrent layer's input, [e(y_{t−1}); c_t] → s_t; the output
  is W_o [s_t; c_t] + b (the paper's deep maxout output is replaced by this linear layer). The context
  feeds the recurrence, so even teacher-forced training steps through time.
- ``'dot'`` / ``'general'`` (Luong, Pham & Manning 2015, global attention): the recurrent layer runs
  first, s_t = RNN(e(y_{t−1}), s_{t−1}); s_t queries :class:`~fukaku.models.rnn.LuongAttention`
  (sᵀk or sᵀWk); the attentional state h̃_t = tanh(W_c [c_t; s_t]) gives the output W_o h̃_t + b.
  Without Luong's input feeding, so under teacher forcing the recurrent layer and the attention run
  over all steps at once.

The keys and values are the encoder's outputs ``(N, S, D·H)``; padded source positions (with
``src_lengths``) get weight 0. ``forward(..., return_attention=True)`` and
``greedy_decode(..., return_attention=True)`` also return the weights ``(N, T, S)`` — row t is where
output t looked, for a heat-map. Everything else (teacher forcing, greedy decoding, end token, the
decoder's initial state) is :class:`~fukaku.models.rnn.Seq2Seq`'s.

Batch first: ``src (N, S)`` and ``tgt (N, T)`` token ids.
"""
from __future__ import annotations

from ... import nn
from ...nn.modules.module import Module
from ...ops.shape import cat, stack
from ...tensor import Tensor
from ._util import top_hidden
from .attention import BahdanauAttention, LuongAttention
from .seq2seq import Seq2Seq

ATTENTIONS = ("bahdanau", "dot", "general")


class Seq2SeqAttention(Seq2Seq):
    """``Seq2SeqAttention(src_vocab_size, tgt_vocab_size, embedding_dim=64, hidden_size=128, num_layers=1,
    cell='lstm', bidirectional=False, dropout=0.0, padding_idx=None, bos_token=None, eos_token=None,
    attention='bahdanau', attention_size=None)``.

    Args:
        attention: ``'bahdanau'`` (additive), ``'dot'`` or ``'general'`` (Luong); see the module docstring.
        attention_size: the hidden size of the additive score (default the decoder's size D·H).
        The others: as :class:`~fukaku.models.rnn.Seq2Seq`.

    ``forward(src, tgt, src_lengths=None, return_attention=False)`` → logits ``(N, T, V)``, or
    ``(logits, weights (N, T, S))``.

    Submodules: ``encoder``, ``tgt_embedding``, ``decoder``, ``attention``, [``combine`` (Luong's W_c,
    no bias)], ``dropout``, ``out``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embedding_dim: int = 64, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "lstm", bidirectional: bool = False, dropout: float = 0.0,
                 padding_idx: int | None = None, bos_token: int | None = None, eos_token: int | None = None,
                 attention: str = "bahdanau", attention_size: int | None = None) -> None:
        if attention not in ATTENTIONS:
            raise ValueError(f"Seq2SeqAttention: attention must be one of {ATTENTIONS}, got {attention!r}")
        Module.__init__(self)
        self.attention_type, self.attention_size = attention, attention_size
        self._build(src_vocab_size, tgt_vocab_size, embedding_dim, hidden_size, num_layers, cell, bidirectional,
                    dropout, padding_idx, bos_token, eos_token)

    def _build_attention(self) -> None:
        size = self.decoder_size                       # queries, keys and values all have D·H features
        if self.attention_type == "bahdanau":
            hidden = size if self.attention_size is None else int(self.attention_size)
            self.attention = BahdanauAttention(size, size, hidden)
        else:
            self.attention = LuongAttention(size, size, score=self.attention_type)
            self.combine = nn.Linear(2 * size, size, bias=False)

    def _decoder_input_size(self) -> int:
        return self.embedding_dim + (self.decoder_size if self.attention_type == "bahdanau" else 0)

    def _output_features(self) -> int:
        return 2 * self.decoder_size if self.attention_type == "bahdanau" else self.decoder_size

    def encode(self, src: Tensor, src_lengths=None) -> tuple:
        """As :meth:`Seq2Seq.encode`, plus the keys prepared for the score once for all decoder steps."""
        outputs, state, mask = super().encode(src, src_lengths)
        return outputs, state, mask, self.attention.prepare(outputs)

    def decode(self, tgt: Tensor, state, memory: tuple) -> tuple:
        keys, _, mask, prepared = memory
        embedded = self.tgt_embedding(tgt)
        if self.attention_type == "bahdanau":
            outputs, weights = [], []
            for t in range(tgt.shape[1]):              # the context enters the recurrence: step by step
                context, w = self.attention.attend(top_hidden(state), prepared, keys, mask)
                s, state = self.decoder(cat([embedded[:, t], context], -1).unsqueeze(1), state)
                outputs.append(cat([s[:, 0], context], -1))
                weights.append(w)
            features, weights = stack(outputs, 1), stack(weights, 1)
        else:
            s, state = self.decoder(embedded, state)   # all steps at once, then attention for all of them
            context, weights = self.attention.attend(s, prepared, keys, mask)
            features = self.combine(cat([context, s], -1)).tanh()
        return self.out(self.dropout(features)), state, weights

    def forward(self, src: Tensor, tgt: Tensor, src_lengths=None, return_attention: bool = False):
        logits, weights = self.teacher_forced(src, tgt, src_lengths)
        return (logits, weights) if return_attention else logits

    def greedy_decode(self, src: Tensor, max_length: int, src_lengths=None, bos_token: int | None = None,
                      eos_token: int | None = None, return_attention: bool = False):
        """As :meth:`Seq2Seq.greedy_decode`; with ``return_attention`` also the weights ``(N, L, S)`` of each
        produced token over the source."""
        tokens, weights = self._greedy(src, max_length, src_lengths, bos_token, eos_token)
        if not return_attention:
            return tokens
        return tokens, stack(weights, 1) if weights else None

    def extra_repr(self) -> str:
        return super().extra_repr() + f", attention={self.attention_type!r}"


__all__ = ["Seq2SeqAttention"]
