"""Distance layers: :class:`PairwiseDistance` and :class:`CosineSimilarity` (PyTorch's
``torch.nn.modules.distance``), over :mod:`fukaku.nn.functional.distance`."""
from __future__ import annotations

from ...tensor import Tensor
from .. import functional as F
from .module import Module


class PairwiseDistance(Module):
    """‖x1 − x2 + ε‖_p over the last dimension (see :func:`fukaku.nn.functional.pairwise_distance`).

    Shape: ``(N, D)`` and ``(N, D)`` (or shapes that broadcast) → ``(N,)``, or ``(N, 1)`` with ``keepdim``.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> None:
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)


class CosineSimilarity(Module):
    """x1·x2 / (max(‖x1‖, ε)·max(‖x2‖, ε)) along ``dim`` (see :func:`fukaku.nn.functional.cosine_similarity`).

    Shape: two tensors that broadcast to a common shape → that shape without ``dim``.
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return F.cosine_similarity(x1, x2, self.dim, self.eps)
