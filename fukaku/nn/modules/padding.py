"""Padding layers, as ``torch.nn``'s: zero, constant, reflection, replication and circular, in 1, 2 and 3 dims.

Each holds ``padding`` as PyTorch does — an int for every side, or (left, right[, top, bottom[,
front, back]]), last dim first — and calls ``F.pad``. Reflection mirrors the input without
repeating its edge, replication repeats the edge, circular wraps around (seed 001 §9.2: padding
keeps the spatial size through a convolution).
"""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from ..functional.conv import ntuple
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


class _PadNd(Module):
    """``F.pad(input, self.padding, mode)``; subclasses set ``dims`` (1, 2, 3) and ``mode``."""

    dims = 0
    mode = "constant"

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = ntuple(padding, 2 * self.dims, "padding", type(self).__name__, minimum=None)

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, self.mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    """Constant padding by ``value``."""

    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ReflectionPadNd(_PadNd):
    mode = "reflect"


class _ReplicationPadNd(_PadNd):
    mode = "replicate"


class _CircularPadNd(_PadNd):
    """Wrap around: the cells after the end are the first ones, as on a torus. The input must be
    ``dims + 1`` (unbatched) or ``dims + 2`` (batched) dims, as in PyTorch."""

    mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self.dims + 1}D or {self.dims + 2}D input (got "
                             f"{input.ndim}D input)")
        return super().forward(input)


_DIMS = {1: ("the last dim", "(left, right)"), 2: ("the last two dims", "(left, right, top, bottom)"),
         3: ("the last three dims", "(left, right, top, bottom, front, back)")}


def _family(base: type, name: str, doc: str) -> tuple[type, ...]:
    """The layers ``{name}1d``, ``2d`` and ``3d``: ``base`` on the last 1, 2 or 3 dims, documented by
    ``doc`` (with ``{dims}`` and ``{widths}`` filled in)."""
    return tuple(type(f"{name}{d}d", (base,), {"dims": d, "__module__": __name__, "__qualname__": f"{name}{d}d",
                                                "__doc__": doc.format(dims=_DIMS[d][0], widths=_DIMS[d][1])})
                 for d in (1, 2, 3))


ZeroPad1d, ZeroPad2d, ZeroPad3d = _family(
    _ZeroPadNd, "ZeroPad", "Pad {dims} with zeros; ``padding`` an int for every side or {widths}.")
ConstantPad1d, ConstantPad2d, ConstantPad3d = _family(
    _ConstantPadNd, "ConstantPad", "Pad {dims} with ``value``; ``padding`` an int for every side or {widths}.")
ReflectionPad1d, ReflectionPad2d, ReflectionPad3d = _family(
    _ReflectionPadNd, "ReflectionPad", "Mirror {dims} at their ends without repeating the edge (each width smaller "
    "than the size); ``padding`` an int or {widths}.")
ReplicationPad1d, ReplicationPad2d, ReplicationPad3d = _family(
    _ReplicationPadNd, "ReplicationPad", "Repeat the edge values of {dims}; ``padding`` an int or {widths}.")
CircularPad1d, CircularPad2d, CircularPad3d = _family(
    _CircularPadNd, "CircularPad", "Wrap {dims} around (each width at most the size); ``padding`` an int or "
    "{widths}.")
