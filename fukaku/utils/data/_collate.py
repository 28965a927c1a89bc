"""Collation: turn a list of samples into one batch (``torch.utils.data.default_collate`` rules).

Tensors are stacked along a new first dimension; NumPy arrays become tensors and are stacked;
Python floats become a float64 tensor, ints an int64 tensor, bools a bool tensor (as in PyTorch);
strings stay as they came (a list); dicts, named tuples, tuples and lists are collated field by field (a tuple of
fields comes back as a list, as PyTorch does).
"""
from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from ...errors import ShapeError
from ...ops import stack
from ...tensor import Tensor, wrap

_COLLATE_TYPES = "tensors, numpy arrays, numbers, dicts or lists"


def _stack_tensors(batch: list[Tensor]) -> Tensor:
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


def default_collate(batch: list):
    """Collate a list of samples into a batch: ``[(x_i, y_i)] -> [stack(x), stack(y)]``."""
    if not isinstance(batch, collections.abc.Sequence) or isinstance(batch, (str, bytes)) or len(batch) == 0:
        raise TypeError(f"default_collate: expected a non-empty list of samples, got {batch!r:.80}")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: numpy arrays of dtype {elem.dtype} cannot become tensors; batch "
                            f"must contain {_COLLATE_TYPES}")
        return _stack_tensors([wrap(np.asarray(b)) for b in batch])
    if isinstance(elem, np.generic) and not isinstance(elem, (np.str_, np.bytes_)):
        return wrap(np.asarray(batch))
    if isinstance(elem, bool):
        all_bool = all(isinstance(b, bool) for b in batch)  # PyTorch: bools with ints give int64
        return wrap(np.asarray(batch, dtype=np.bool_ if all_bool else np.int64))
    if isinstance(elem, numbers.Integral):
        return wrap(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return wrap(np.asarray(batch, dtype=np.float64))  # PyTorch: Python floats -> float64
    if isinstance(elem, (str, bytes)):
        return batch  # as given (a list, or a tuple of one field), as PyTorch does
    if isinstance(elem, collections.abc.Mapping):
        try:
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:  # a Mapping type that cannot be built from a dict
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(s) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        for i, sample in enumerate(batch):
            if len(sample) != size:
                raise RuntimeError(f"default_collate: each element in list of batch should be of equal size; "
                                   f"sample 0 has {size} fields, sample {i} has {len(sample)}")
        fields = [default_collate(s) for s in zip(*batch)]
        if isinstance(elem, tuple):
            return fields  # PyTorch returns a list for tuples (backwards compatibility)
        try:
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(f"default_collate: batch must contain {_COLLATE_TYPES}; found {type(elem).__name__}")


def default_convert(data):
    """Convert one sample (no batching, ``DataLoader(batch_size=None)``): NumPy arrays and scalars
    become tensors, containers are converted element-wise, everything else passes through."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return wrap(data)
    if isinstance(data, np.generic) and not isinstance(data, (np.str_, np.bytes_)):
        return wrap(np.asarray(data))
    if isinstance(data, collections.abc.Mapping):
        try:
            return type(data)({k: default_convert(v) for k, v in data.items()})
        except TypeError:
            return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data
