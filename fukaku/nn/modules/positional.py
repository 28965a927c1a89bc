"""Positional information for attention — seed 001 §9.4 (positions; seed 000 §6.3 leaves them out).

Self-attention treats its input as a set: permuting the tokens permutes the outputs the same way.
Order enters through one of three encodings, each a Module here (PyTorch has none of them as a layer):

- :class:`SinusoidalPositionalEncoding` — Vaswani et al. (2017): a fixed table
  ``PE[t, 2i] = sin(t / 10000^(2i/d))``, ``PE[t, 2i+1] = cos(t / 10000^(2i/d))`` added to the token
  embeddings;
- :class:`LearnedPositionalEmbedding` — GPT's: an ``Embedding`` of positions ``0 … max_len − 1``
  whose vectors are learned (state-dict key ``weight``, as ``nn.Embedding``);
- :class:`RotaryPositionalEmbedding` — RoPE (Su et al. 2021): each pair ``(x_{2i}, x_{2i+1})`` of a
  query or key at position t is rotated by the angle ``t·θ_i``, ``θ_i = base^(−2i/d)``, so the dot
  product of a query at t and a key at s depends on t − s only. It is applied to q and k (not added to
  the embeddings); ``offset`` shifts the positions for incremental decoding with a KV cache.

Each holds a table of ``max_len`` positions; a longer sequence is a ``ShapeError`` naming both lengths
and the fix.
"""
from __future__ import annotations

import numpy as np

from ... import dtypes
from ...backends import default_module
from ...errors import ShapeError
from ...ops.shape import stack
from ...tensor import Tensor, arange, wrap
from .. import functional as F
from .dropout import Dropout
from .module import Module
from .sparse import Embedding
from .utils import check_size


def _check_length(layer: str, length: int, offset: int, max_len: int) -> None:
    if offset < 0:
        raise ValueError(f"{layer}: offset must be >= 0, got {offset}")
    if offset + length > max_len:
        where = f"positions {offset} … {offset + length - 1}" if offset else f"a sequence of {length} positions"
        raise ShapeError(f"{layer}: {where} do not fit in the table of max_len={max_len} positions; build it with "
                         f"max_len >= {offset + length} or feed shorter sequences (crop the context to the last "
                         f"{max_len - offset} tokens)")


def sinusoidal_table(max_len: int, d_model: int, base: float = 10000.0) -> np.ndarray:
    """Vaswani et al.'s table ``(max_len, d_model)`` in float64: ``sin(t·ω_i)`` in the even columns and
    ``cos(t·ω_i)`` in the odd ones, ``ω_i = base^(−2i/d_model)`` (an odd ``d_model`` drops the last cos)."""
    xp = default_module()
    position = xp.arange(max_len, dtype=np.float64)[:, None]
    omega = base ** (-xp.arange(0, d_model, 2, dtype=np.float64) / d_model)
    table = xp.zeros((max_len, d_model), dtype=np.float64)
    table[:, 0::2] = xp.sin(position * omega)
    table[:, 1::2] = xp.cos(position * omega)[:, : d_model // 2]
    return table


class SinusoidalPositionalEncoding(Module):
    """``SinusoidalPositionalEncoding(d_model, max_len=5000, dropout=0.0, base=10000.0, batch_first=True)``:
    ``x + PE[:T]`` followed by dropout, with Vaswani et al.'s fixed table (no parameters).

    Shape: ``(N, T, d_model)`` (``batch_first``) or ``(T, N, d_model)``, or ``(T, d_model)``; the same shape out.
    ``forward(x, offset=0)`` uses positions ``offset … offset + T − 1`` (incremental decoding).
    ``pe`` is the table ``(max_len, d_model)`` in the default dtype.

    Examples::

        >>> pos = nn.SinusoidalPositionalEncoding(16, max_len=100)
        >>> pos(fukaku.zeros(2, 10, 16)).shape
        fukaku.Size([2, 10, 16])
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0, base: float = 10000.0,
                 batch_first: bool = True) -> None:
        super().__init__()
        layer = type(self).__name__
        self.d_model = check_size(d_model, "d_model", layer, minimum=1)
        self.max_len = check_size(max_len, "max_len", layer, minimum=1)
        self.base, self.batch_first = float(base), bool(batch_first)
        self._table = sinusoidal_table(self.max_len, self.d_model, self.base)  # float64; cast per call
        self.dropout = Dropout(dropout)

    @property
    def pe(self) -> Tensor:
        """The table ``(max_len, d_model)`` in the default dtype."""
        return wrap(self._table.astype(dtypes.get_default_dtype()))

    def forward(self, input: Tensor, offset: int = 0) -> Tensor:
        layer = type(self).__name__
        if input.ndim not in (2, 3) or input.shape[-1] != self.d_model:
            raise ShapeError(f"{layer}: expected input (N, T, {self.d_model}) or (T, {self.d_model}), got shape "
                             f"{tuple(input.shape)}; build it with d_model={input.shape[-1] if input.ndim else '?'}")
        time_dim = 1 if input.ndim == 3 and self.batch_first else 0
        length = input.shape[time_dim]
        _check_length(layer, length, int(offset), self.max_len)
        table = self._table[offset:offset + length].astype(input._data.dtype)
        if input.ndim == 3 and not self.batch_first:
            table = table[:, None, :]
        return self.dropout(input + wrap(table))

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, max_len={self.max_len}"


class LearnedPositionalEmbedding(Embedding):
    """``LearnedPositionalEmbedding(max_len, d_model)``: an ``nn.Embedding`` of positions (GPT's ``wpe``).

    ``forward(input, offset=0)`` takes token ids ``(N, T)`` or ``(T,)`` (only their length T is read) and
    returns the vectors ``(T, d_model)`` of positions ``offset … offset + T − 1``, to be added (broadcast)
    to the token embeddings. State-dict key ``weight`` ``(max_len, d_model)``, N(0, 1) as ``nn.Embedding`` (GPT-2
    initialises N(0, 0.02), which :class:`fukaku.models.GPT` does).
    """

    def __init__(self, max_len: int, d_model: int, *, device=None, dtype=None) -> None:
        super().__init__(max_len, d_model, device=device, dtype=dtype)
        self.max_len = self.num_embeddings

    def forward(self, input: Tensor, offset: int = 0) -> Tensor:
        length = input.shape[-1] if input.ndim == 1 else input.shape[1]
        _check_length(type(self).__name__, length, int(offset), self.max_len)
        return F.embedding(arange(offset, offset + length, device=self.weight.device), self.weight)


class RotaryPositionalEmbedding(Module):
    """``RotaryPositionalEmbedding(head_dim, max_len=4096, base=10000.0)``: RoPE (Su et al. 2021), applied
    to queries and keys before their dot products.

    The pair ``(x_{2i}, x_{2i+1})`` of a vector at position t becomes
    ``(x_{2i} cos tθ_i − x_{2i+1} sin tθ_i,  x_{2i} sin tθ_i + x_{2i+1} cos tθ_i)``, ``θ_i = base^(−2i/d)``:
    a rotation, so norms are kept, and ``⟨R_t q, R_s k⟩ = ⟨q, R_{s−t} k⟩`` depends on the offset s − t only.

    Shape: ``(…, T, head_dim)`` (e.g. ``(N, heads, T, head_dim)``) → the same; head_dim is even.
    ``forward(x, offset=0)``: positions ``offset … offset + T − 1`` (the tokens already in a KV cache).
    No parameters.
    """

    def __init__(self, head_dim: int, max_len: int = 4096, base: float = 10000.0) -> None:
        super().__init__()
        layer = type(self).__name__
        self.head_dim = check_size(head_dim, "head_dim", layer, minimum=2)
        if self.head_dim % 2:
            raise ValueError(f"{layer}: head_dim must be even (RoPE rotates pairs of features), got {head_dim}")
        self.max_len = check_size(max_len, "max_len", layer, minimum=1)
        self.base = float(base)
        xp = default_module()
        theta = self.base ** (-xp.arange(0, self.head_dim, 2, dtype=np.float64) / self.head_dim)
        angle = xp.arange(self.max_len, dtype=np.float64)[:, None] * theta  # (max_len, head_dim/2)
        # cos and sin repeated per pair, and sin signed so that x·cos + swap(x)·sin is the rotation
        self._cos = xp.repeat(xp.cos(angle), 2, axis=1)
        sin = xp.repeat(xp.sin(angle), 2, axis=1)
        sin[:, 0::2] *= -1
        self._sin = sin

    def forward(self, input: Tensor, offset: int = 0) -> Tensor:
        layer = type(self).__name__
        if input.ndim < 2 or input.shape[-1] != self.head_dim:
            raise ShapeError(f"{layer}: expected input (…, T, {self.head_dim}), got shape {tuple(input.shape)}; "
                             f"build it with head_dim={input.shape[-1] if input.ndim else '?'}")
        length = input.shape[-2]
        _check_length(layer, length, int(offset), self.max_len)
        dt = input._data.dtype
        cos = wrap(self._cos[offset:offset + length].astype(dt))
        sin = wrap(self._sin[offset:offset + length].astype(dt))
        pairs = input.unflatten(-1, (self.head_dim // 2, 2))
        swapped = stack([pairs[..., 1], pairs[..., 0]], -1).flatten(-2)  # (x1, x0, x3, x2, …)
        return input * cos + swapped * sin

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, max_len={self.max_len}, base={self.base:g}"


__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "RotaryPositionalEmbedding",
           "sinusoidal_table"]
