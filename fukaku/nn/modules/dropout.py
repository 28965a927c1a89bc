"""Dropout (Srivastava et al. 2014; seed 000 §6.1.4, seed 004 §3.6), the inverted form, of single
units (``Dropout``) or of whole channels (``Dropout1d/2d/3d``, Tompson et al. 2015).

In training each unit is dropped with probability p and the survivors are scaled by 1/(1 − p),
h̃ = 0 w.p. p, else h/(1 − p), so E[h̃] = h and the layer is the identity at test time
(``model.eval()``) without any rescaling there.
"""
from __future__ import annotations

from ...tensor import Tensor
from ..functional.dropout import check_probability, dropout, dropout1d, dropout2d, dropout3d
from .module import Module


class _DropoutNd(Module):
    """A dropout layer: drop probability ``p``, ``inplace``; subclasses name the function they apply
    (``dropping``). Masks come from fukaku's generator (``fukaku.manual_seed``); ``inplace=True``
    writes the result into the input and returns it."""

    dropping = staticmethod(dropout)

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        self.p = check_probability(p, type(self).__name__)
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        """In training mode a new mask at every call; in eval mode (``model.eval()``) the input as it is,
        with no rescaling (the survivors were scaled by 1/(1 − p) in training instead)."""
        return self.dropping(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Inverted dropout of single units with drop probability ``p``; any shape → the same shape."""


class Dropout1d(_DropoutNd):
    """Channel-wise dropout of ``(N, C, L)`` or ``(C, L)`` inputs: whole channels are zeroed with
    probability ``p``, the rest scaled by 1/(1 − p) (:func:`~fukaku.nn.functional.dropout1d`)."""

    dropping = staticmethod(dropout1d)


class Dropout2d(_DropoutNd):
    """Channel-wise dropout of ``(N, C, H, W)`` feature maps (SpatialDropout): whole channels are
    zeroed with probability ``p``, the rest scaled by 1/(1 − p) (:func:`~fukaku.nn.functional.dropout2d`)."""

    dropping = staticmethod(dropout2d)


class Dropout3d(_DropoutNd):
    """Channel-wise dropout of ``(N, C, D, H, W)`` or ``(C, D, H, W)`` volumes: whole channels are
    zeroed with probability ``p``, the rest scaled by 1/(1 − p) (:func:`~fukaku.nn.functional.dropout3d`)."""

    dropping = staticmethod(dropout3d)
