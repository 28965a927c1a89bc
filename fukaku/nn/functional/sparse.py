"""Embedding lookup and one-hot encoding: ``embedding``, ``one_hot``.

The graph node of the lookup is :class:`fukaku.ops.index.EmbeddingLookup`.
"""
from __future__ import annotations

from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.activation import one_hot
from ...ops.index import EmbeddingLookup
from ...tensor import Tensor

__all__ = ["embedding", "one_hot"]


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight``: integer indices ``(*)`` with a table ``(num_embeddings,
    embedding_dim)`` give ``(*, embedding_dim)``. The row ``padding_idx`` (negative counts from
    the end) receives no gradient, so it stays as it is (zero, in an ``Embedding`` layer)."""
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), "
                         f"got shape {fmt(weight.shape)}")
    index = input._data if isinstance(input, Tensor) else array_module(weight._data).asarray(input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer (int64) tensor, got dtype {index.dtype}; "
                        "convert with .long()")
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):
        raise IndexError(f"embedding: index out of range: indices span [{index.min()}, {index.max()}] but the table "
                         f"has {rows} rows (valid indices 0..{rows - 1})")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx must be within [-{rows}, {rows - 1}] for a table of {rows} rows, "
                             f"got {padding_idx}")
        padding_idx = padding_idx % rows
    return EmbeddingLookup.apply(weight, index=index, padding_idx=padding_idx)
