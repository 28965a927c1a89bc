"""The Transformer encoder–decoder (Vaswani et al. 2017) for sequence-to-sequence tasks — seed 000 §6.3, seed 001
§9.4: the encoder's self-attention reads the whole source; the decoder's masked self-attention sees only the
tokens produced so far (the causal mask) and its cross-attention takes queries from the decoder and keys and
values from the encoder's output.

- Embeddings: source and target token embeddings, initialised N(0, 1/d_model) and scaled by √d_model so that
  they have the scale of the fixed sinusoidal positions added to them
  (:class:`fukaku.nn.SinusoidalPositionalEncoding`); with ``nn.Embedding``'s N(0, 1) the positions would drown.
- ``nn.Transformer`` (batch first) underneath, post-LN as in the paper or pre-LN (``norm_first=True``).
- Training is teacher-forced: with targets ``[BOS, y_1, …, y_T, EOS]`` train ``model(src, tgt[:, :-1])``
  against ``tgt[:, 1:]``; the causal mask keeps position t from seeing t + 1, ….
- :meth:`TransformerSeq2Seq.greedy_decode` encodes once and appends the argmax token, step by step, from BOS
  until every sequence has produced EOS or ``max_length`` tokens.
"""
from __future__ import annotations

import math

from ... import nn
from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...nn.modules.module import Module
from ...ops.shape import cat
from ...tensor import Tensor, full
from ..rnn._util import decode_loop

__all__ = ["TransformerSeq2Seq"]


class TransformerSeq2Seq(Module):
    """``TransformerSeq2Seq(src_vocab_size, tgt_vocab_size, d_model=64, nhead=4, num_encoder_layers=2,
    num_decoder_layers=2, dim_feedforward=None, dropout=0.0, max_len=256, norm_first=False, activation='relu',
    padding_idx=None, bos_token=None, eos_token=None)``.

    Args:
        src_vocab_size, tgt_vocab_size: the vocabularies (they may be the same).
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward (default 4·d_model), dropout,
            activation, norm_first: ``nn.Transformer``'s.
        max_len: the longest source or target the sinusoidal table covers.
        padding_idx: the padding id of both vocabularies; padded positions are masked as keys.
        bos_token, eos_token: what :meth:`greedy_decode` starts from and stops at, unless given there.

    ``forward(src (N, S), tgt (N, T)) → logits (N, T, tgt_vocab_size)`` under teacher forcing.
    Submodules: ``src_embedding``, ``tgt_embedding``, ``positional``, ``transformer``, ``out``.
    """

    def __init__(self, src_vocab_size: int, tgt_vocab_size: int, d_model: int = 64, nhead: int = 4,
                 num_encoder_layers: int = 2, num_decoder_layers: int = 2, dim_feedforward: int | None = None,
                 dropout: float = 0.0, max_len: int = 256, norm_first: bool = False, activation: str = "relu",
                 padding_idx: int | None = None, bos_token: int | None = None, eos_token: int | None = None) -> None:
        super().__init__()
        self.d_model, self.padding_idx = int(d_model), padding_idx
        self.bos_token, self.eos_token = bos_token, eos_token
        self.src_embedding = nn.Embedding(src_vocab_size, d_model, padding_idx=padding_idx)
        self.tgt_embedding = nn.Embedding(tgt_vocab_size, d_model, padding_idx=padding_idx)
        for embedding in (self.src_embedding, self.tgt_embedding):   # N(0, 1/d): ×√d gives unit scale, as the
            nn.init.normal_(embedding.weight, 0.0, d_model ** -0.5)  # positions have (Vaswani et al.; fairseq)
            if padding_idx is not None:
                with no_grad():
                    embedding.weight[padding_idx] = 0.0
        self.positional = nn.SinusoidalPositionalEncoding(d_model, max_len, dropout)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers,
                                          dim_feedforward or 4 * d_model, dropout, activation, batch_first=True,
                                          norm_first=norm_first)
        self.out = nn.Linear(d_model, tgt_vocab_size)

    def _padding(self, tokens: Tensor) -> Tensor | None:
        return None if self.padding_idx is None else tokens == self.padding_idx

    def _check(self, name: str, tokens: Tensor) -> None:
        if tokens.dim() != 2:
            raise ShapeError(f"TransformerSeq2Seq: {name} must be (N, length) token ids, got shape "
                             f"{tuple(tokens.shape)}")

    def encode(self, src: Tensor) -> Tensor:
        """The encoder's output, the memory ``(N, S, d_model)``."""
        self._check("src", src)
        h = self.positional(self.src_embedding(src) * math.sqrt(self.d_model))
        return self.transformer.encoder(h, src_key_padding_mask=self._padding(src))

    def decode(self, tgt: Tensor, memory: Tensor, src: Tensor) -> Tensor:
        """Logits ``(N, T, tgt_vocab)`` of the decoder on ``tgt`` (causally masked) attending to ``memory``."""
        self._check("tgt", tgt)
        h = self.positional(self.tgt_embedding(tgt) * math.sqrt(self.d_model))
        causal = nn.Transformer.generate_square_subsequent_mask(tgt.shape[1], dtype=h.dtype)
        h = self.transformer.decoder(h, memory, tgt_mask=causal, tgt_key_padding_mask=self._padding(tgt),
                                     memory_key_padding_mask=self._padding(src), tgt_is_causal=True)
        return self.out(h)

    def forward(self, src: Tensor, tgt: Tensor) -> Tensor:
        return self.decode(tgt, self.encode(src), src)

    def greedy_decode(self, src: Tensor, max_length: int, bos_token: int | None = None,
                      eos_token: int | None = None) -> Tensor:
        """The argmax output ``(N, ≤ max_length)`` for ``src``, without the BOS token; after a sequence's EOS its
        remaining positions hold EOS (or the padding id when there is one)."""
        bos = self.bos_token if bos_token is None else bos_token
        eos = self.eos_token if eos_token is None else eos_token
        if bos is None:
            raise ValueError("TransformerSeq2Seq.greedy_decode: no start token; pass bos_token= here or to the "
                             "constructor")
        filler = eos if self.padding_idx is None else self.padding_idx
        with no_grad():
            memory = self.encode(src)
            start = full((src.shape[0], 1), bos, dtype=src.dtype)

            def step(token: Tensor, tokens: Tensor):  # the decoder reads every token so far, BOS first
                tokens = cat([tokens, token.to(tokens.dtype)], dim=1)
                return self.decode(tokens, memory, src)[:, -1], tokens, None

            first = (self.decode(start, memory, src)[:, -1], None)
            new, _ = decode_loop(step, first, start, max_length, lambda logits: logits.argmax(-1), eos, filler)
        return new.to(src.dtype)
