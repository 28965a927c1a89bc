"""Attention over an encoder's states — the "weighted sum of all encoder states used at each output
step" of seed 001 §9.3, and the attention of seed 000 §6.3 written for recurrent encoder–decoders.

A query q (the decoder's state) scores every key k_j (the encoder's state at source position j); the
scores become weights by a softmax over j, and the context is the weighted sum of the values v_j
(the encoder's states again, unless given):

    α_j = softmax_j(score(q, k_j)),        c = Σ_j α_j v_j

- :class:`BahdanauAttention` — additive (Bahdanau, Cho & Bengio 2015, eq. 6):
  score(q, k) = vᵀ tanh(W_q q + W_k k + b);
- :class:`LuongAttention` — multiplicative (Luong, Pham & Manning 2015, eq. 8): ``'dot'`` score = qᵀk,
  ``'general'`` score = qᵀ W k; ``scale=True`` divides by √d, the scaled dot product of seed 000 §6.3.

Both are Modules returning ``(context, weights)`` so that a lab can draw the weights as a heat-map.
Padded source positions are excluded with ``key_padding_mask`` (``True`` = padding, as in
``torch.nn.MultiheadAttention``): their score becomes −∞ and their weight exactly 0. Every row must
keep at least one position, else its weights are NaN (as in PyTorch).

A decoder that attends at every step to the same keys calls :meth:`prepare` once (the key projection
W_k k, or W k, done for all positions in one matrix product) and :meth:`attend` per step.

Shapes (batch first): query ``(N, D_q)`` or ``(N, T, D_q)`` (T queries at once, e.g. all decoder steps
under teacher forcing); keys ``(N, S, D_k)``; values ``(N, S, D_v)``; key_padding_mask ``(N, S)`` bool.
Context ``(N, D_v)`` or ``(N, T, D_v)``; weights ``(N, S)`` or ``(N, T, S)``.
"""
from __future__ import annotations

import math

from ... import nn
from ...errors import ShapeError
from ...nn import functional as F
from ...nn.modules.module import Module
from ...tensor import Tensor


def _check(name: str, query: Tensor, keys: Tensor, values: Tensor, key_padding_mask: Tensor | None,
           query_size: int, key_size: int) -> None:
    """Raise a ShapeError naming the module when the shapes of the four inputs do not fit together."""
    q, k, v = tuple(query.shape), tuple(keys.shape), tuple(values.shape)
    if len(q) not in (2, 3) or q[-1] != query_size:
        raise ShapeError(f"{name}: expected query (N, {query_size}) or (N, T, {query_size}), got shape {q}; "
                         f"build it with query_size={q[-1] if q else '?'} or project the query")
    if len(k) != 3 or k[0] != q[0] or k[-1] != key_size:
        raise ShapeError(f"{name}: expected keys (N, S, {key_size}) with N = {q[0]} (the query's batch), "
                         f"got shape {k}; keys are batch first: (batch, source length, features)")
    if len(v) != 3 or v[:2] != k[:2]:
        raise ShapeError(f"{name}: values {v} must be (N, S, D_v) with the keys' N and S {k[:2]}")
    if key_padding_mask is not None and tuple(key_padding_mask.shape) != k[:2]:
        raise ShapeError(f"{name}: key_padding_mask must have shape (N, S) = {k[:2]}, got "
                         f"{tuple(key_padding_mask.shape)}; True marks the padded source positions")


class _Attention(Module):
    """What both attentions share: masking, the softmax over source positions, the weighted sum."""

    query_size: int
    key_size: int

    def prepare(self, keys: Tensor) -> Tensor:
        """The part of the score that depends on the keys only, for all positions at once."""
        return keys

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        """Scores ``(N, T, S)`` of the queries ``(N, T, D_q)`` against the prepared keys."""
        raise NotImplementedError

    def attend(self, query: Tensor, prepared: Tensor, values: Tensor,
               key_padding_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """``(context, weights)`` of ``query`` over keys already passed through :meth:`prepare`."""
        single = query.ndim == 2
        q = query.unsqueeze(1) if single else query                      # (N, T, D_q)
        scores = self.score(q, prepared)                                 # (N, T, S)
        if key_padding_mask is not None:
            scores = scores.masked_fill(key_padding_mask.unsqueeze(1), float("-inf"))
        weights = F.softmax(scores, dim=-1)
        context = weights @ values                                       # (N, T, D_v)
        if single:
            return context.squeeze(1), weights.squeeze(1)
        return context, weights

    def forward(self, query: Tensor, keys: Tensor, values: Tensor | None = None,
                key_padding_mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
        values = keys if values is None else values
        _check(type(self).__name__, query, keys, values, key_padding_mask, self.query_size, self.key_size)
        return self.attend(query, self.prepare(keys), values, key_padding_mask)


class BahdanauAttention(_Attention):
    """``BahdanauAttention(query_size, key_size, hidden_size, bias=True)``: additive attention,
    score(q, k_j) = vᵀ tanh(W_q q + W_k k_j + b) (Bahdanau et al. 2015, eq. 6; seed 001 §9.3).

    Args:
        query_size: features D_q of the query (the decoder's hidden size).
        key_size: features D_k of a key (the encoder's output size: 2H when bidirectional).
        hidden_size: the size of the tanh layer (Bahdanau's n′).
        bias: a bias b inside the tanh (on ``W_k``); without it the score is exactly vᵀ tanh(W_q q + W_k k).

    Parameters: ``W_q.weight`` (hidden, D_q), ``W_k.weight`` (hidden, D_k) [``W_k.bias``], ``v.weight``
    (1, hidden).

    ``forward(query, keys, values=None, key_padding_mask=None)`` → ``(context, weights)``; see the
    module docstring for the shapes.

    Example::

        >>> att = BahdanauAttention(16, 32, 8)
        >>> context, weights = att(fukaku.randn(4, 16), fukaku.randn(4, 10, 32))
        >>> context.shape, weights.shape
        (fukaku.Size([4, 32]), fukaku.Size([4, 10]))
    """

    def __init__(self, query_size: int, key_size: int, hidden_size: int, bias: bool = True) -> None:
        super().__init__()
        self.query_size, self.key_size, self.hidden_size = int(query_size), int(key_size), int(hidden_size)
        self.W_q = nn.Linear(self.query_size, self.hidden_size, bias=False)
        self.W_k = nn.Linear(self.key_size, self.hidden_size, bias=bias)
        self.v = nn.Linear(self.hidden_size, 1, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.W_k(keys)                                            # (N, S, hidden)

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        # (N, T, 1, hidden) + (N, 1, S, hidden) → tanh → v: (N, T, S)
        hidden = (self.W_q(query).unsqueeze(2) + prepared.unsqueeze(1)).tanh()
        return self.v(hidden).squeeze(-1)

    def extra_repr(self) -> str:
        return f"query_size={self.query_size}, key_size={self.key_size}, hidden_size={self.hidden_size}"


LUONG_SCORES = ("dot", "general")


class LuongAttention(_Attention):
    """``LuongAttention(query_size, key_size=None, score='dot', scale=False)``: multiplicative attention
    (Luong et al. 2015, eq. 8): ``'dot'`` score(q, k_j) = qᵀk_j; ``'general'`` score = qᵀ W k_j.

    Args:
        query_size: features D_q of the query.
        key_size: features D_k of a key (default ``query_size``; ``'dot'`` needs D_k = D_q).
        score: ``'dot'`` (no parameters) or ``'general'`` (``W.weight`` of shape (D_q, D_k), no bias).
        scale: divide the scores by √D_q — the scaled dot product of seed 000 §6.3.

    ``forward(query, keys, values=None, key_padding_mask=None)`` → ``(context, weights)``.
    """

    def __init__(self, query_size: int, key_size: int | None = None, score: str = "dot",
                 scale: bool = False) -> None:
        super().__init__()
        if score not in LUONG_SCORES:
            raise ValueError(f"LuongAttention: score must be one of {LUONG_SCORES}, got {score!r} "
                             "(the additive score is BahdanauAttention)")
        self.query_size = int(query_size)
        self.key_size = self.query_size if key_size is None else int(key_size)
        if score == "dot" and self.key_size != self.query_size:
            raise ValueError(f"LuongAttention: the 'dot' score needs key_size = query_size, got {self.key_size} "
                             f"and {self.query_size}; use score='general' (qᵀ W k) for different sizes")
        self.score_name, self.scale = score, bool(scale)
        if score == "general":
            self.W = nn.Linear(self.key_size, self.query_size, bias=False)

    def prepare(self, keys: Tensor) -> Tensor:
        return self.W(keys) if self.score_name == "general" else keys    # W k_j for all j: (N, S, D_q)

    def score(self, query: Tensor, prepared: Tensor) -> Tensor:
        scores = query @ prepared.transpose(1, 2)                         # (N, T, S)
        return scores / math.sqrt(self.query_size) if self.scale else scores

    def extra_repr(self) -> str:
        return (f"query_size={self.query_size}, key_size={self.key_size}, score={self.score_name!r}, "
                f"scale={self.scale}")


__all__ = ["BahdanauAttention", "LuongAttention"]
