"""Embedding lookups and one-hot encoding: ``embedding``, ``embedding_bag``, ``one_hot``.

The graph node of the lookup is :class:`fukaku.ops.index.EmbeddingLookup`; a bag's sum or mean
adds the looked-up rows into their bag (:class:`fukaku.ops.index.IndexAccumulate`), and a bag's
max picks, per embedding dimension, the one entry of the table it came from (indexing), so the
gradient of each reduction is the adjoint of those ops.
"""
from __future__ import annotations

import numpy as np

from ...autograd.function import constant, constant_like
from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.activation import one_hot
from ...ops.elementwise import where
from ...ops.index import EmbeddingLookup, GetItem, IndexAccumulate, check_rows
from ...ops.shape import reshape
from ...tensor import Tensor, bump_version

__all__ = ["embedding", "embedding_bag", "one_hot"]

_BAG_MODES = ("sum", "mean", "max")


def _indices(op: str, input, weight: Tensor, in_range: bool = True) -> np.ndarray:
    """The integer index array of ``input``, each checked to name a row of ``weight`` unless ``in_range`` is
    False (the lookup op checks them itself, on every call: :func:`fukaku.ops.index.check_rows`)."""
    index = input._data if isinstance(input, Tensor) else array_module(weight._data).asarray(input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be an integer (int64) tensor, got dtype {index.dtype}; "
                        "convert with .long()")
    if in_range:
        check_rows(op, index, weight.shape[0])
    return index


def _padding_row(op: str, padding_idx: int | None, rows: int) -> int | None:
    """``padding_idx`` as a row number (negative counts from the end), checked against the table."""
    if padding_idx is None:
        return None
    if not -rows <= padding_idx < rows:
        raise ValueError(f"{op}: padding_idx must be within [-{rows}, {rows - 1}] for a table of {rows} rows, "
                         f"got {padding_idx}")
    return padding_idx % rows


def _table(op: str, weight: Tensor) -> None:
    if weight.ndim != 2:
        raise ShapeError(f"{op}: weight must be 2-d (num_embeddings, embedding_dim), got shape {fmt(weight.shape)}")


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight``: integer indices ``(*)`` with a table ``(num_embeddings,
    embedding_dim)`` give ``(*, embedding_dim)``. The row ``padding_idx`` (negative counts from
    the end) receives no gradient, so it stays as it is (zero, in an ``Embedding`` layer)."""
    _table("embedding", weight)
    index = _indices("embedding", input, weight, in_range=False)
    padding_idx = _padding_row("embedding", padding_idx, weight.shape[0])
    return EmbeddingLookup.apply(weight, index=index, padding_idx=padding_idx)


# ----------------------------------------------------------------------------- bags
def _bag_starts(op: str, index: np.ndarray, offsets, include_last_offset: bool) -> tuple[np.ndarray, np.ndarray]:
    """The flat indices and the position where each bag starts in them, from torch's two layouts:
    a 2-d input ``(B, N)`` of B bags of N, or a 1-d input with 1-d ``offsets``."""
    xp = array_module(index)
    if index.ndim == 2:
        if offsets is not None:
            raise ValueError(f"{op}: if input is 2D, then offsets has to be None, as input is treated is a "
                             f"mini-batch of fixed length sequences. However, found offsets of type {type(offsets)}")
        bags, length = index.shape
        return index.reshape(-1), xp.arange(bags, dtype=np.int64) * length
    if index.ndim != 1:
        raise ShapeError(f"{op}: input has to be 1D or 2D Tensor, but got Tensor of dimension {index.ndim} "
                         f"(shape {fmt(index.shape)})")
    if offsets is None:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor but got None; a 1-d input needs the start of each "
                         "bag in it (or pass a 2-d input of equal-length bags)")
    starts = offsets._data if isinstance(offsets, Tensor) else xp.asarray(offsets)
    if starts.ndim != 1:
        raise ValueError(f"{op}: offsets has to be a 1D Tensor, got shape {fmt(starts.shape)}")
    if starts.dtype.kind not in "iu":
        raise TypeError(f"{op}: offsets must be an integer (int64) tensor, got dtype {starts.dtype}")
    if include_last_offset:
        starts = starts[:-1]  # the last offset closes the last bag, which runs to the end of input as in torch
    starts = starts.astype(np.int64, copy=False)
    if starts.size:
        if starts[0] != 0:
            raise ValueError(f"{op}: offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                             f"from position 0. However, got {starts[0]}")
        if starts[-1] > index.size:
            raise ValueError(f"{op}: offsets[-1] can not be greater than input's length {index.size} but got "
                             f"offsets[-1] of {starts[-1]}")
        if (starts[1:] < starts[:-1]).any():
            raise ValueError(f"{op}: offsets must be non-decreasing (each bag starts where the previous one ends), "
                             f"got {starts.tolist()}")
    return index, starts


def _renorm_(weight: Tensor, index: np.ndarray, max_norm: float, norm_type: float) -> None:
    """Rescale, in place and outside the graph, each row of ``weight`` named in ``index`` whose
    ``norm_type``-norm exceeds ``max_norm`` to norm ``max_norm`` (torch's ``embedding_renorm_``,
    with its 1e-7 in the denominator)."""
    xp = array_module(weight._data)
    rows = xp.unique(index)
    if not rows.size:
        return
    table = weight._data
    norms = xp.linalg.norm(table[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if big.any():
        table[rows[big]] *= (max_norm / (norms[big] + 1e-7))[:, None].astype(table.dtype)
        bump_version(weight)


def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                  per_sample_weights: Tensor | None = None, include_last_offset: bool = False,
                  padding_idx: int | None = None) -> Tensor:
    """Sums, means or maxes of bags of embeddings, without forming a tensor per bag entry first
    (as ``torch.nn.functional.embedding_bag``).

    Args:
        input: int64 indices, ``(B, N)`` (B bags of N) or ``(L,)`` (bags laid end to end).
        weight: the table ``(num_embeddings, embedding_dim)``.
        offsets: with a 1-d input, the start of each bag ``(B,)`` (``(B + 1,)`` with
            ``include_last_offset``); must be None for a 2-d input. An empty bag gives zeros.
        max_norm: rows named in ``input`` with a larger ``norm_type``-norm are rescaled to it,
            in place, before the lookup (this modifies ``weight``, as in torch).
        mode: 'sum', 'mean' (the default) or 'max' (per embedding dimension; the gradient goes to
            the entry that holds the max, the first one on a tie).
        per_sample_weights: the input's shape; each row is scaled by its weight before the sum
            (mode 'sum' only), and the weights get gradients too.
        padding_idx: entries equal to it are left out of their bag (not counted by 'mean', never
            the max) and the padding row gets no gradient.
        scale_grad_by_freq, sparse: only False (fukaku has no sparse gradients).

    Shape: ``(B, embedding_dim)``.

    Example::

        >>> F.embedding_bag(fk.tensor([1, 2, 4, 5, 4, 3]), table, fk.tensor([0, 2]), mode="sum")  # 2 bags
    """
    op = "embedding_bag"
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}: input and weight must be fukaku tensors, got {type(input).__name__} and "
                        f"{type(weight).__name__}")
    _table(op, weight)
    if per_sample_weights is not None and per_sample_weights.shape != input.shape:
        raise ShapeError(f"{op}: per_sample_weights of shape {fmt(per_sample_weights.shape)} must have the input's "
                         f"shape {fmt(input.shape)} (one weight per index)")
    if mode not in _BAG_MODES:
        raise ValueError(f"{op}: mode has to be one of sum, mean or max, got {mode!r}")
    if mode == "max" and (scale_grad_by_freq or sparse):
        raise ValueError(f"{op}: max mode does not support "
                         + ("scaling the gradient by the frequency" if scale_grad_by_freq else "sparse weights"))
    if sparse:
        raise NotImplementedError(f"{op}: sparse=True (a sparse gradient for weight) is not available: fukaku's "
                                  "gradients are dense; use sparse=False (the values are the same)")
    if scale_grad_by_freq:
        raise NotImplementedError(f"{op}: scale_grad_by_freq=True is not available in fukaku; use False")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError(f"{op}: per_sample_weights was not None. per_sample_weights is only supported "
                                  f"for mode='sum' (got mode={mode!r})")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise TypeError(f"{op}: per_sample_weights has dtype {per_sample_weights.dtype} but weight has dtype "
                        f"{weight.dtype}; convert one of them")
    index = _indices(op, input, weight)
    flat, starts = _bag_starts(op, index, offsets, include_last_offset)
    padding_idx = _padding_row(op, padding_idx, weight.shape[0])
    if max_norm is not None:
        _renorm_(weight, flat, max_norm, norm_type)
    if not starts.size:  # no bags: (0, embedding_dim), still a result of the table's graph
        return weight[:0]
    xp = array_module(weight._data)
    positions = flat.size
    bag = xp.searchsorted(starts, xp.arange(positions), side="right") - 1  # the bag of each position
    counted = xp.ones(positions, bool) if padding_idx is None else flat != padding_idx
    shape = (starts.size, weight.shape[1])
    if mode == "max" and counted.any():
        return _bag_max(weight, flat, bag, counted, shape)
    rows = EmbeddingLookup.apply(weight, index=flat, padding_idx=padding_idx)
    if not counted.all():
        rows = rows * constant(counted[:, None].astype(weight.dtype))
    if per_sample_weights is not None:
        rows = rows * reshape(per_sample_weights, (positions, 1))
    out = IndexAccumulate.apply(rows, key=(bag,), basic=False, shape=shape)
    if mode == "mean":
        sizes = xp.zeros(shape[0], weight.dtype)
        xp.add.at(sizes, bag, counted)
        out = out / constant(xp.maximum(sizes, 1)[:, None])  # an empty bag: 0 / 1
    return out


def _bag_max(weight: Tensor, flat: np.ndarray, bag: np.ndarray, counted: np.ndarray, shape: tuple) -> Tensor:
    """Per bag and embedding dimension, the largest counted entry: the table element it is,
    picked by indexing (so its gradient goes to that one element)."""
    xp = array_module(weight._data)
    positions = flat.size
    values = xp.where(counted[:, None], weight._data[flat], -np.inf)
    best = xp.full(shape, -np.inf, values.dtype)
    xp.maximum.at(best, bag, values)
    hit = (values == best[bag]) & counted[:, None]
    first = xp.full(shape, positions, np.int64)  # the first position that holds the max (torch's tie rule)
    xp.minimum.at(first, bag, xp.where(hit, xp.arange(positions)[:, None], positions))
    empty = first == positions
    word = flat[xp.minimum(first, positions - 1)]
    out = GetItem.apply(weight, key=(word, xp.arange(shape[1])[None, :]), basic=False)
    if empty.any():
        out = where(constant(empty), constant_like(0, weight._data), out)
    return out
