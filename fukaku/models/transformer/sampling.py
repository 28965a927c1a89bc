"""Choosing the next token from a language model's scores: greedy, temperature, top-k and top-p (nucleus).

Temperature and top-k are :func:`fukaku.models.rnn.sample_logits` (the character LSTM's sampler; one
implementation serves both families). Top-p (Holtzman et al. 2020, "The curious case of neural text
degeneration") is added in front of it by :func:`nucleus_filter`: of the distribution after temperature and
top-k, keep the smallest set of most likely tokens whose probabilities sum to at least ``top_p``, and
sample among them.
"""
from __future__ import annotations

from ...nn import functional as F
from ...tensor import Generator, Tensor
from ..rnn.char_lm import sample_logits


def nucleus_filter(logits: Tensor, top_p: float, temperature: float = 1.0, top_k: int | None = None) -> Tensor:
    """``logits`` ``(N, V)`` with −inf outside each row's nucleus: the fewest most likely tokens whose
    probabilities under softmax(logits / temperature), restricted to the ``top_k`` largest, sum to at least
    ``top_p`` (the most likely token is always kept). ``top_p = 1`` keeps every token."""
    top_p = float(top_p)
    if not 0 < top_p <= 1:
        raise ValueError(f"nucleus_filter: top_p must be in (0, 1], got {top_p}")
    logits = logits.detach()
    if top_p == 1 or temperature == 0:
        return logits
    scaled = logits / float(temperature)
    if top_k is not None and int(top_k) < logits.shape[-1]:
        kth = scaled.topk(int(top_k), dim=-1).values[..., -1:]
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    probs, order = F.softmax(scaled, dim=-1).sort(dim=-1, descending=True)
    outside = (probs.cumsum(-1) - probs) >= top_p  # the mass before a token already reaches top_p
    return logits.masked_fill(outside.gather(-1, order.argsort(-1)), float("-inf"))


def sample_tokens(logits: Tensor, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                  generator: Generator | None = None) -> Tensor:
    """One id per row of ``logits`` ``(N, V)`` → ``(N,)`` int64: greedy (``temperature=0``), else drawn from
    softmax(logits / temperature) over the ``top_k`` largest logits and then the ``top_p`` nucleus (each
    None: no restriction)."""
    if top_p is not None:
        logits = nucleus_filter(logits, top_p, temperature, top_k)
    return sample_logits(logits, temperature, top_k, generator)


__all__ = ["nucleus_filter", "sample_tokens"]
