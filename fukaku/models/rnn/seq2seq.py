"""The encoder–decoder without attention (Sutskever, Vinyals & Le 2014) — seed 001 §9.3: the encoder
compresses the input sequence into its final state, and the decoder, started from that state, produces
the output sequence one token at a time; seed 001 notes that this one fixed-size state loses information
on long sentences, which is what attention (:mod:`.seq2seq_attention`) repairs.

- Encoder: an :class:`~fukaku.models.rnn.RNNEncoder` (embedding → LSTM/GRU/Elman, optionally bidirectional).
  Its final state, the directions joined per layer, is the decoder's initial state, so the decoder's
  hidden size is D·H (2H for a bidirectional encoder).
- Decoder: embedding of the previous target token → recurrent layers → dropout → linear to the target
  vocabulary.
- Training uses teacher forcing: ``model(src, tgt_in)`` feeds the true previous tokens, so the decoder
  runs over all steps in one call. With target sequences ``tgt = [BOS, y_1, …, y_T, EOS]`` train on
  ``logits = model(src, tgt[:, :-1])`` against ``tgt[:, 1:]``.
- Inference: :meth:`Seq2Seq.greedy_decode` feeds back its own argmax from the start token, for at most
  ``max_length`` steps, and stops when every sequence has produced the end token.

Batch first: ``src (N, S)`` and ``tgt (N, T)`` token ids.
"""
from __future__ import annotations

from ... import nn
from ...nn.modules.module import Module
from ...tensor import Tensor, arange, full, tensor
from ._util import check_tokens, decode_loop, inference, make_rnn
from .encoder import RNNEncoder


class Seq2Seq(Module):
    """``Seq2Seq(src_vocab_size, tgt_vocab_size, embedding_dim=64, hidden_size=128, num_layers=1,
    cell='lstm', bidirectional=False, dropout=0.0, padding_idx=None, bos_token=None, eos_token=None)``.

    Args:
        src_vocab_size, tgt_vocab_size: the two vocabularies (they may be the same).
        embedding_dim: size of the source and target embeddings.
        hidden_size: H of the encoder per direction; the decoder has D·H.
        num_layers: layers of the encoder and of the decoder.
        cell: ``'lstm'``, ``'gru'`` or ``'rnn'``, for both.
        bidirectional: a bidirectional encoder.
        dropout: between recurrent layers and before the output layer.
        padding_idx: the padding id of both embeddings.
        bos_token, eos_token: the start and end ids :meth:`greedy_decode` uses unless given there.

    ``forward(src, tgt, src_lengths=None)`` → logits ``(N, T, tgt_vocab_size)`` under teacher forcing
    (``tgt`` is the decoder's input: the start token, then the target shifted right). ``src_lengths``
    (real lengths of a padded source batch, any order) packs the source.

    Submodules: ``encoder`` (``encoder.embedding``, ``encoder.rnn``), ``tgt_embedding``, ``decoder``
    (``nn.LSTM``/``GRU``/``RNN``, batch first), ``dropout``, ``out``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, embedding_dim: int = 64, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "lstm", bidirectional: bool = False, dropout: float = 0.0,
                 padding_idx: int | None = None, bos_token: int | None = None,
                 eos_token: int | None = None) -> None:
        super().__init__()
        self._build(src_vocab_size, tgt_vocab_size, embedding_dim, hidden_size, num_layers, cell, bidirectional,
                    dropout, padding_idx, bos_token, eos_token)

    def _build(self, src_vocab_size, tgt_vocab_size, embedding_dim, hidden_size, num_layers, cell, bidirectional,
               dropout, padding_idx, bos_token, eos_token) -> None:
        """The layers, in state-dict order (a subclass sets its options first, then calls this)."""
        self.src_vocab_size, self.tgt_vocab_size = int(src_vocab_size), int(tgt_vocab_size)
        self.embedding_dim, self.num_layers, self.cell = int(embedding_dim), int(num_layers), cell
        self.padding_idx, self.bos_token, self.eos_token = padding_idx, bos_token, eos_token
        self.encoder = RNNEncoder(self.embedding_dim, hidden_size, num_layers, cell, bidirectional, dropout,
                               vocab_size=self.src_vocab_size, padding_idx=padding_idx)
        self.decoder_size = self.encoder.output_size
        self.tgt_embedding = nn.Embedding(self.tgt_vocab_size, self.embedding_dim, padding_idx=padding_idx)
        self.decoder = make_rnn(type(self).__name__, cell, self._decoder_input_size(), self.decoder_size,
                                num_layers, dropout)
        self._build_attention()
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(self._output_features(), self.tgt_vocab_size)

    def _build_attention(self) -> None:
        """Where a subclass adds its attention layers (between ``decoder`` and ``out``)."""

    def _decoder_input_size(self) -> int:
        return self.embedding_dim

    def _output_features(self) -> int:
        return self.decoder_size

    # ------------------------------------------------------------------ the two halves
    def encode(self, src: Tensor, src_lengths=None) -> tuple:
        """``(outputs (N, S, D·H), state, key_padding_mask (N, S) or None)``: what the decoder needs."""
        check_tokens(type(self).__name__, src, "src")
        outputs, state = self.encoder(src, src_lengths)
        mask = None
        if src_lengths is not None:
            lengths = src_lengths if isinstance(src_lengths, Tensor) else tensor(list(src_lengths))
            mask = arange(src.shape[1]).unsqueeze(0) >= lengths.long().unsqueeze(1)
        return outputs, state, mask

    def decode(self, tgt: Tensor, state, memory: tuple) -> tuple:
        """The decoder over the input tokens ``tgt (N, T)`` from ``state``: ``(logits (N, T, V), state,
        attention weights (N, T, S) or None)``. ``memory`` is :meth:`encode`'s result."""
        output, state = self.decoder(self.tgt_embedding(tgt), state)
        return self.out(self.dropout(output)), state, None

    def teacher_forced(self, src: Tensor, tgt: Tensor, src_lengths=None) -> tuple:
        """``(logits (N, T, V), attention weights (N, T, S) or None)`` with ``tgt`` as the decoder's input."""
        check_tokens(type(self).__name__, tgt, "tgt")
        memory = self.encode(src, src_lengths)
        logits, _, weights = self.decode(tgt, memory[1], memory)
        return logits, weights

    def forward(self, src: Tensor, tgt: Tensor, src_lengths=None) -> Tensor:
        return self.teacher_forced(src, tgt, src_lengths)[0]

    # ------------------------------------------------------------------ inference
    def _greedy(self, src: Tensor, max_length: int, src_lengths, bos_token, eos_token) -> tuple:
        bos = self.bos_token if bos_token is None else bos_token
        eos = self.eos_token if eos_token is None else eos_token
        if bos is None:
            raise ValueError(f"{type(self).__name__}.greedy_decode: no start token; give bos_token= here or "
                             "to the constructor")
        with inference(self):
            memory = self.encode(src, src_lengths)
            start = full((src.shape[0], 1), int(bos)).long()

            def step(token, state):
                logits, state, weights = self.decode(token, state, memory)
                return logits[:, -1], state, None if weights is None else weights[:, -1]

            logits, state, weights = step(start, memory[1])
            return decode_loop(step, (logits, weights), state, max_length, lambda z: z.argmax(-1), eos)

    def greedy_decode(self, src: Tensor, max_length: int, src_lengths=None, bos_token: int | None = None,
                      eos_token: int | None = None) -> Tensor:
        """The argmax translation of ``src (N, S)``: ids ``(N, L)``, L ≤ ``max_length``, without the start
        token (eval mode, no gradients). A sequence that has produced ``eos_token`` keeps producing it,
        and decoding stops early once every sequence has; without an end token it runs ``max_length``
        steps."""
        return self._greedy(src, max_length, src_lengths, bos_token, eos_token)[0]

    def extra_repr(self) -> str:
        return f"src_vocab_size={self.src_vocab_size}, tgt_vocab_size={self.tgt_vocab_size}, cell={self.cell!r}"


__all__ = ["Seq2Seq"]
