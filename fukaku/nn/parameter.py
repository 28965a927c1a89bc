"""``Parameter``: a tensor that a Module registers as learnable (requires grad by default)."""
from __future__ import annotations

from ..tensor import Tensor


class Parameter(Tensor):
    """``Parameter(data, requires_grad=True)``: assigned to a Module attribute, it shows up in
    ``module.parameters()`` and in the state dict."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True) -> None:
        if data is None:
            data = Tensor([])
        src = data._data if isinstance(data, Tensor) else data
        super().__init__(src, requires_grad=False)
        if isinstance(data, Tensor):
            self._data = data._data  # share memory with the tensor it wraps, as torch does
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
