"""Batches of variable-length sequences (``torch.nn.utils.rnn``): padding and packing.

A batch of sequences of different lengths is stored either *padded* — one tensor ``T × B × *``
(``B × T × *`` with ``batch_first``) whose short sequences are filled up with a padding value — or
*packed*: a :class:`PackedSequence`, whose ``data`` holds only the real steps, time-major (all
sequences' first steps, then all second steps …, the sequences sorted by decreasing length), and
whose ``batch_sizes[t]`` says how many sequences are still running at step t. A recurrent layer
given a packed batch runs step t on the first ``batch_sizes[t]`` rows only, so no padding enters
its state (seed 000 §6.1.7 runs the recurrence over a sequence's own length).

Packing and padding are index operations on the data (one gather or one scatter, no loop over the
sequences), so gradients flow through them: ``pad_packed_sequence(pack_padded_sequence(x, …))``
passes the gradient of the real steps back to ``x`` and none to its padding.

Example::

    >>> from fukaku.nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> packed = pack_sequence([fukaku.tensor([1, 2, 3]), fukaku.tensor([4, 5]), fukaku.tensor([6])])
    >>> packed.data, packed.batch_sizes
    (tensor([1, 4, 6, 2, 5, 3]), tensor([3, 2, 1]))
    >>> pad_packed_sequence(packed, batch_first=True)
    (tensor([[1, 2, 3],
            [4, 5, 0],
            [6, 0, 0]]), tensor([3, 2, 1]))
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

import numpy as np

from ... import dtypes
from ...backends import array_module, default_module
from ...ops._util import fmt
from ...ops.index import SetItem
from ...ops.shape import cat
from ...tensor import Tensor, wrap

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences, as ``torch.nn.utils.rnn.PackedSequence``.

    Made by :func:`pack_padded_sequence` or :func:`pack_sequence`, not by hand. A named tuple of

    - ``data`` (``N × *``, N the sum of the lengths): the steps of all sequences, time-major,
      the sequences in order of decreasing length;
    - ``batch_sizes`` (int64, length the longest sequence's): how many sequences have step t;
    - ``sorted_indices`` (int64 or None): ``data``'s sequence b is the input's sequence
      ``sorted_indices[b]`` (None when the input was already sorted);
    - ``unsorted_indices``: the inverse permutation, which restores the input's order.

    Example: the sequences ``abc`` and ``x`` pack to data ``axbc`` with ``batch_sizes=[2, 1, 1]``.
    """

    def __new__(cls, data: Tensor, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PyTorch's legacy form: data is the pair (data, batch_sizes)
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise TypeError("PackedSequence: without batch_sizes, data must be the pair (data, batch_sizes); "
                                "make packed sequences with pack_padded_sequence or pack_sequence")
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """``data.to(*args, **kwargs)``; ``self`` when that changes nothing (the index tensors keep int64)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cpu(self, *args, **kwargs) -> PackedSequence:
        """Itself: fukaku's tensors live in host memory."""
        return self.to(*args, **kwargs)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        """Refused with :class:`fukaku.DeviceError`, as ``Tensor.cuda``: fukaku has no GPU backend."""
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def pin_memory(self) -> PackedSequence:
        """Itself: there is no pinned memory without an accelerator."""
        return self

    def is_pinned(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        """False: fukaku's tensors live in host memory."""
        return False


def _conversion(name: str, dtype: dtypes.dtype):
    """The method ``packed.<name>()``: ``packed.to(dtype)``, as on a tensor."""
    def convert(self: PackedSequence) -> PackedSequence:
        return self.to(dtype=dtype)

    convert.__name__ = convert.__qualname__ = name
    convert.__doc__ = f"``packed.{name}()`` is ``packed.to({dtype!r})``: the data converted, the indices kept."
    return convert


for _name, _dtype in [("double", dtypes.float64), ("float", dtypes.float32), ("half", dtypes.float16),
                      ("long", dtypes.int64), ("int", dtypes.int32), ("short", dtypes.int16), ("char", dtypes.int8),
                      ("byte", dtypes.uint8)]:
    setattr(PackedSequence, _name, _conversion(_name, _dtype))


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (1-d int64): ``out[permutation[i]] = i``; None for None."""
    if permutation is None:
        return None
    p = permutation._data
    out = array_module(p).empty_like(p)
    out[p] = array_module(p).arange(p.size, dtype=p.dtype)
    return wrap(out)


def _host_int64(values, op: str, what: str) -> np.ndarray:
    """A list or tensor of integers (``lengths``) as a 1-d int64 host array."""
    xp = default_module()
    if isinstance(values, Tensor):
        arr = values._data
    else:
        values = list(values)
        arr = xp.asarray([int(v.item()) if isinstance(v, Tensor) else int(v) for v in values], dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{op}: '{what}' must be a 1-d list or tensor of sequence lengths, got shape {fmt(arr.shape)}")
    return xp.asarray(arr).astype(np.int64)


def _batch_sizes(sorted_lengths: np.ndarray) -> np.ndarray:
    """For lengths sorted in decreasing order: how many of them exceed t, for t = 0 … max − 1."""
    xp = default_module()
    steps = xp.arange(int(sorted_lengths[0]) if sorted_lengths.size else 0)
    return (steps[:, None] < sorted_lengths[None, :]).sum(axis=1).astype(np.int64)


def _step_positions(batch_sizes: np.ndarray, xp) -> tuple[np.ndarray, np.ndarray]:
    """The (time step, batch row) of each row of packed data, in packed (time-major) order."""
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    mask = xp.arange(batch)[None, :] < xp.asarray(batch_sizes)[:, None]  # (T, B): row b runs at step t
    t, b = xp.nonzero(mask)
    return t, b


def pack_padded_sequence(input: Tensor, lengths: Tensor | Sequence[int], batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch ``T × B × *`` (``B × T × *`` with ``batch_first``) of sequences of ``lengths``.

    Args:
        input: the padded batch; steps past a sequence's length are dropped.
        lengths: each sequence's length (a list or an integer tensor), all ≥ 1 and ≤ T.
        batch_first: ``input`` is ``B × T × *``.
        enforce_sorted: require ``lengths`` in decreasing order (``sorted_indices`` is then None);
            with False the batch is sorted here and the order is restored by
            :func:`pad_packed_sequence`.

    Returns:
        a :class:`PackedSequence`; its ``data`` stays in the graph (the gradient goes back to
        the real steps of ``input``).

    Example::

        >>> x = fukaku.tensor([[1, 2, 0], [3, 0, 0], [4, 5, 6]])
        >>> pack_padded_sequence(x, [2, 1, 3], batch_first=True, enforce_sorted=False).data
        tensor([4, 1, 3, 5, 2, 6])
    """
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"{op}: input must have at least 2 dimensions (T × B × * or, with batch_first, "
                         f"B × T × *), got shape {fmt(input.shape)}")
    lengths = _host_int64(lengths, op, "lengths")
    b_dim, t_dim = (0, 1) if batch_first else (1, 0)
    batch, steps = input.shape[b_dim], input.shape[t_dim]
    if lengths.size != batch:
        raise ValueError(f"{op}: expected len(lengths) to be equal to batch_size, but got {lengths.size} "
                         f"(batch_size={batch}, input shape {fmt(input.shape)}, batch_first={batch_first})")
    xp = default_module()
    if enforce_sorted:
        if lengths.size > 1 and bool((lengths[1:] > lengths[:-1]).any()):
            raise RuntimeError(f"{op}: `lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                               f"True, got lengths {lengths.tolist()}. Pass enforce_sorted=False to "
                               "pack_padded_sequence and/or pack_sequence to sort them here (the original order "
                               "comes back from pad_packed_sequence)")
        order, sorted_indices = xp.arange(batch), None
    else:
        order = xp.argsort(-lengths, kind="stable")  # ties keep their order, as torch.sort on the CPU
        lengths = lengths[order]
        sorted_indices = wrap(order.astype(np.int64))
    if lengths.size and int(lengths[-1]) <= 0:
        raise RuntimeError(f"{op}: Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           f"that is <= 0 (lengths {lengths.tolist()})")
    if lengths.size and int(lengths[0]) > steps:
        raise ValueError(f"{op}: a sequence of length {int(lengths[0])} does not fit in the input's {steps} steps "
                         f"(input shape {fmt(input.shape)}, batch_first={batch_first}); lengths must be ≤ {steps}")
    batch_sizes = _batch_sizes(lengths)
    t, b = _step_positions(batch_sizes, xp)
    rows = order[b]  # the input's sequence behind each packed row
    key = (rows, t) if batch_first else (t, rows)
    data = input[key]
    return PackedSequence(data, wrap(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of :func:`pack_padded_sequence`: the padded batch and the lengths.

    Args:
        sequence: a packed batch.
        batch_first: return ``B × T × *`` instead of ``T × B × *``.
        padding_value: the value of the steps past each sequence's end.
        total_length: pad to this many steps (at least the longest length) instead of the
            longest length.

    Returns:
        ``(padded, lengths)``, the sequences in the order they were packed in (``unsorted_indices``
        applied); ``lengths`` is an int64 tensor. The gradient of ``padded`` at the real steps
        goes back to ``sequence.data``.
    """
    op = "pad_packed_sequence"
    data = sequence.data
    batch_sizes = sequence.batch_sizes._data.astype(np.int64)
    steps = batch_sizes.size
    if total_length is not None:
        if total_length < steps:
            raise ValueError("Expected total_length to be at least the length of the longest sequence in input, "
                             f"but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    if data.shape[0] != int(batch_sizes.sum()):
        raise ValueError(f"{op}: data has {data.shape[0]} rows but batch_sizes {batch_sizes.tolist()} add up to "
                         f"{int(batch_sizes.sum())}")
    xp = array_module(data._data)
    batch = int(batch_sizes[0]) if batch_sizes.size else 0
    t, b = _step_positions(batch_sizes, default_module())
    lengths = (default_module().arange(batch)[None, :] < batch_sizes[:, None]).sum(axis=0).astype(np.int64)
    if sequence.unsorted_indices is not None:  # the packed row b goes back to the input's sequence sorted[b]
        sorted_indices = invert_permutation(sequence.unsorted_indices)._data
        b = sorted_indices[b]
        lengths = lengths[sequence.unsorted_indices._data]
    shape = (batch, steps) if batch_first else (steps, batch)
    padded = wrap(xp.full(shape + tuple(data.shape[1:]), padding_value, dtype=data._data.dtype))
    key = (b, t) if batch_first else (t, b)
    return SetItem.apply(padded, data, key=key, basic=False), wrap(lengths)


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of lengths L_i (each ``L_i × *``) into one padded tensor.

    Args:
        sequences: the sequences (same trailing shape ``*``); a tensor counts as the sequence of
            its rows, as in PyTorch.
        batch_first: return ``B × T × *`` instead of ``T × B × *`` (T the longest length).
        padding_value: the value of the padding.
        padding_side: ``"right"`` (padding after each sequence) or ``"left"`` (before it).

    Shape:
        output: ``T × B × *``, or ``B × T × *`` with ``batch_first``; the dtype of the first sequence.

    Example::

        >>> pad_sequence([fukaku.ones(25, 300), fukaku.ones(22, 300), fukaku.ones(15, 300)]).shape
        fukaku.Size([25, 3, 300])
    """
    op = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    elif not isinstance(sequences, Iterable):
        raise RuntimeError(f"{op}: Expected iterable for input sequences, but got arg of type: {type(sequences)}")
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError(f"{op}: received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"{op}: Expected padding_side to be one of left or right, but got {padding_side}.")
    first = sequences[0]
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"{op}: sequence {i} is a {type(s).__name__}, expected a Tensor")
        if s.ndim == 0:
            raise ValueError(f"{op}: sequence {i} is 0-d; each sequence must be L × * (at least 1-d)")
        if s.shape[1:] != first.shape[1:]:
            raise ValueError(f"{op}: every sequence must have the trailing shape of the first, {fmt(first.shape[1:])}, "
                             f"but sequence {i} has shape {fmt(s.shape)}")
    sequences = [s.to(first.dtype) for s in sequences]
    xp = default_module()
    lengths = xp.asarray([s.shape[0] for s in sequences], dtype=np.int64)
    batch, steps = lengths.size, int(lengths.max())
    b = xp.repeat(xp.arange(batch), lengths)  # the sequence of each row of the concatenation
    starts = xp.cumsum(lengths) - lengths
    t = xp.arange(b.size) - starts[b]  # each row's step within its sequence
    if padding_side == "left":
        t = t + (steps - lengths)[b]
    data = cat(sequences, 0)
    shape = (batch, steps) if batch_first else (steps, batch)
    padded = wrap(array_module(data._data).full(shape + tuple(first.shape[1:]), padding_value, dtype=data._data.dtype))
    return SetItem.apply(padded, data, key=(b, t) if batch_first else (t, b), basic=False)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor | Sequence[int],
                   batch_first: bool = False) -> list[Tensor]:
    """The inverse of :func:`pad_sequence` (right padding): the list of the ``lengths[b]`` first steps of
    each sequence b of ``padded_sequences`` (``T × B × *``, or ``B × T × *`` with ``batch_first``).

    Unlike PyTorch's, this does not transpose ``padded_sequences`` in place when ``batch_first`` is False.
    """
    lengths = _host_int64(lengths, "unpad_sequence", "lengths")
    seqs = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    if lengths.size != seqs.shape[0]:
        raise ValueError(f"unpad_sequence: got {lengths.size} lengths for a batch of {seqs.shape[0]} sequences "
                         f"(shape {fmt(padded_sequences.shape)}, batch_first={batch_first})")
    return [seqs[i, :int(n)] for i, n in enumerate(lengths)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (each ``L_i × *``): :func:`pad_sequence` then :func:`pack_padded_sequence`.

    With ``enforce_sorted`` (the default) the sequences must come in order of decreasing length.
    """
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The inverse of :func:`pack_sequence`: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
