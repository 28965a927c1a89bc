"""Dropout (seed 000 §6.1.4): inverted dropout (the op :class:`fukaku.ops.dropout.InvertedDropout`), of single
units or of whole channels (``dropout1d/2d/3d``, Tompson et al. 2015)."""
from __future__ import annotations

import warnings

from ...autograd.function import constant
from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.activation import _result
from ...ops.dropout import InvertedDropout
from ...ops.elementwise import _floating
from ...tensor import Tensor


# ----------------------------------------------------------------------------- dropout (seed 000 §6.1.4)
def check_probability(p: float, op: str) -> float:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout (seed 000 §6.1.4): in training each element becomes 0 with probability
    ``p`` and is scaled by 1/(1 − p) otherwise, so E[h̃] = h; outside training it is the identity.

    The mask is drawn from fukaku's generator (``fukaku.manual_seed`` makes it reproducible).
    With ``inplace=True`` the result is written into ``input``, which is returned (through
    :func:`fukaku.ops.activation._result`, like every ``inplace`` flag).
    Shape: any → the same.
    """
    p = check_probability(p, "dropout")
    return _result(input, lambda x: _dropped(x, p, training), inplace, "dropout_")


def _dropped(input: Tensor, p: float, training: bool, mask_shape: tuple[int, ...] | None = None) -> Tensor:
    """``input`` times a mask of 0 (probability p) and 1/(1 − p), drawn in ``mask_shape`` (default: the
    input's) and broadcast over the input: one draw per unit, or per channel for a shape (N, C, 1, …)."""
    if not training or p == 0.0 or input.numel() == 0:
        return input
    x = _floating(input)
    if p == 1.0:
        return x * constant(array_module(x._data).zeros((), x.dtype))
    return InvertedDropout.apply(x, p=p, mask_shape=None if mask_shape is None else tuple(mask_shape))


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool, op: str) -> Tensor:
    """Channel-wise dropout: every value of channel c of sample n shares one draw (the mask has the
    input's leading (N, C) — or (C,) when not ``batched`` — and size 1 elsewhere)."""
    p = check_probability(p, op)
    lead = 2 if batched else 1
    if input.ndim < lead:
        raise ShapeError(f"{op}: expected an input of shape {'(N, C, *)' if batched else '(C, *)'}, got shape "
                         f"{fmt(input.shape)}")
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _result(input, lambda x: _dropped(x, p, training, mask_shape), inplace, f"{op}_")


def _warn_unless_rank(input: Tensor, op: str, spatial: int) -> None:
    """PyTorch's warning for a channel dropout given an input of another rank than (C, *spatial) or
    (N, C, *spatial) (it goes on, dropping the channels of dim 1)."""
    if input.ndim not in (spatial + 1, spatial + 2):
        warnings.warn(f"{op}: Received a {input.ndim}-D input to {op}, which is deprecated and will result in an "
                      "error in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {op} exists to provide channel-wise dropout on inputs with {spatial} "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{spatial + 1}D or {spatial + 2}D inputs).", stacklevel=3)


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, L)`` or unbatched ``(C, L)`` inputs: each channel of each
    sample is dropped with probability ``p`` (all its L values together) and the kept ones are scaled
    by 1/(1 − p). For features correlated along L, where dropping single values regularises little.
    """
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: expected a 2-d (C, L) or 3-d (N, C, L) input, got shape {fmt(input.shape)} "
                         f"({input.ndim}-d); dropout1d drops channels of inputs with one spatial dim")
    return _feature_dropout(input, p, training, inplace, input.ndim == 3, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole feature maps of ``(N, C, H, W)`` inputs (SpatialDropout, Tompson et al. 2015): each
    channel of each sample is dropped with probability ``p`` and the kept ones are scaled by
    1/(1 − p) — neighbouring pixels are strongly correlated, so dropping single pixels would hardly
    regularise a convolutional layer.

    As in PyTorch, a 3-d input is taken as ``(N, C, L)`` (with a warning: use :func:`dropout1d`), and
    other ranks warn and drop the channels of dim 1.
    """
    _warn_unless_rank(input, "dropout2d", 2)
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This "
                      "behavior will change in a future release to interpret the input as one without a batch "
                      "dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please "
                      "switch to using dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace, True, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of ``(N, C, D, H, W)`` or unbatched ``(C, D, H, W)`` inputs, each with
    probability ``p``, scaling the kept ones by 1/(1 − p). Other ranks warn, as in PyTorch."""
    _warn_unless_rank(input, "dropout3d", 3)
    return _feature_dropout(input, p, training, inplace, input.ndim == 5, "dropout3d")
