"""Collation: turn a list of samples into one batch (``torch.utils.data.default_collate`` rules).

:func:`collate` looks the type of the first sample up in a map of collate functions (exact type
first, then ``isinstance`` in the map's order) and otherwise recurses into containers, as
``torch.utils.data._utils.collate.collate`` does; :func:`default_collate` is :func:`collate` with
:data:`default_collate_fn_map`:

- tensors are stacked along a new first dimension; NumPy arrays become tensors and are stacked;
  NumPy scalars become one tensor of their dtype;
- Python floats become a float64 tensor; ints a tensor as ``fukaku.tensor`` infers it (int64; bool
  when every sample is a bool; float32 when floats are mixed in), as ``torch.tensor`` does;
- strings and bytes stay as they came (the list of samples, or the tuple of a field);
- mappings, named tuples and sequences are collated field by field; a mutable mapping or sequence
  comes back as a copy of the first sample's container (so a ``defaultdict`` keeps its factory), a
  tuple of fields comes back as a list, as PyTorch does.

:func:`default_convert` is the ``batch_size=None`` counterpart: one sample, arrays made tensors.
"""
from __future__ import annotations

import collections.abc
import copy
from collections.abc import Callable

import numpy as np

from ...errors import ShapeError
from ...ops import stack
from ...dtypes import float64
from ...tensor import Tensor, tensor, wrap

CollateFnMap = dict[type | tuple[type, ...], Callable]

_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _text_or_object(array: np.ndarray) -> bool:
    """True for arrays of strings, bytes, objects or records, which cannot become tensors."""
    return array.dtype.kind in "OSUV"


def _rebuild_mapping(like: collections.abc.Mapping, values: dict) -> collections.abc.Mapping:
    """``values`` in the mapping type of ``like``: a copy of ``like`` updated in place when it is
    mutable (so extra state such as a ``defaultdict``'s factory survives), else ``type(like)(values)``;
    a plain dict when the type cannot be built that way (PyTorch's rule)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(values)
            return clone
        return type(like)(values)
    except TypeError:
        return values


def _rebuild_sequence(like: collections.abc.Sequence, items: list) -> collections.abc.Sequence:
    """``items`` in the sequence type of ``like`` (a mutable one is copied and filled in), or the list
    itself when the type cannot be built from a list (PyTorch's rule)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def collate_tensor_fn(batch: list[Tensor], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Stack equally shaped tensors along a new first dimension (keeping the graph of any that
    requires grad)."""
    if any(t.requires_grad for t in batch):
        return stack(batch, 0)  # keeps the graph
    first = batch[0].shape
    for i, t in enumerate(batch):
        if t.shape != first:
            raise ShapeError(f"default_collate: sample {i} has shape {tuple(t.shape)} but sample 0 has "
                             f"{tuple(first)}; stacking needs equal shapes (pad the samples or pass a "
                             "collate_fn)")
    # not differentiable: one np.stack instead of an autograd op per sample
    return wrap(np.stack([t._data for t in batch]))


def collate_numpy_array_fn(batch: list[np.ndarray], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """NumPy arrays become tensors (same dtype, no copy) and are stacked."""
    if _text_or_object(batch[0]):
        raise TypeError(_COLLATE_ERROR.format(batch[0].dtype))
    return collate([wrap(np.asarray(b)) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: list[np.generic], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """NumPy scalars become one 1-d tensor of their (promoted) dtype."""
    return wrap(np.asarray(batch))


def collate_float_fn(batch: list[float], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python floats become a float64 tensor."""
    return tensor(batch, dtype=float64)


def collate_int_fn(batch: list[int], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:
    """Python ints (and bools) become a tensor with ``torch.tensor``'s inferred dtype."""
    return tensor(batch)


def collate_str_fn(batch: list, *, collate_fn_map: CollateFnMap | None = None) -> list:
    """Strings and bytes are kept as the list of samples."""
    return batch


default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    np.ndarray: collate_numpy_array_fn,
    (np.bool_, np.number): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch: list, *, collate_fn_map: CollateFnMap | None = None):
    """Collate ``batch`` with the functions of ``collate_fn_map`` for the types it names, recursing
    into mappings, named tuples and sequences (``torch.utils.data._utils.collate.collate``).

    Args:
        batch: a non-empty list of samples of one structure.
        collate_fn_map: element type (or tuple of types) -> ``fn(batch, *, collate_fn_map)``; the
            exact type of ``batch[0]`` is looked up first, then each key with ``isinstance`` in order.
    """
    elem = batch[0]
    if collate_fn_map is not None:
        fn = collate_fn_map.get(type(elem))
        if fn is None:
            fn = next((f for t, f in collate_fn_map.items() if isinstance(elem, t)), None)
        if fn is not None:
            return fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError(f"default_collate: each element in list of batch should be of equal size; "
                                   f"sample 0 has {size} fields, sample {i} has {len(sample)}")
        fields = [collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)]  # tuples, as in PyTorch
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples (backwards compatibility)
        return _rebuild_sequence(elem, fields)
    raise TypeError(_COLLATE_ERROR.format(type(elem).__name__))


def default_collate(batch: list):
    """Collate a list of samples into a batch: ``[(x_i, y_i)] -> [stack(x), stack(y)]``.

    The rules are ``torch.utils.data.default_collate``'s (see the module docstring); extend them by
    writing a ``collate_fn`` that handles your type and calls this for the rest.

    Examples:
        >>> batch = default_collate([{"x": np.zeros(2), "label": 1}, {"x": np.ones(2), "label": 0}])
        >>> batch["x"].shape, batch["x"].dtype, batch["label"].tolist()
        ((2, 2), dtype('float64'), [1, 0])
    """
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {batch!r:.80}")
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data):
    """Convert one sample (no batching, ``DataLoader(batch_size=None)``): NumPy arrays and scalars
    become tensors (no copy), containers are converted element-wise (a tuple becomes a list, as in
    PyTorch), everything else passes through."""
    if isinstance(data, np.ndarray):
        return data if _text_or_object(data) else wrap(np.asarray(data))
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {k: default_convert(v) for k, v in data.items()})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [default_convert(d) for d in data])
    return data
