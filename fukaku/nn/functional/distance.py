"""Distances and similarities between vectors: ``pairwise_distance`` and ``cosine_similarity``.

Both are composed from tensor ops, so every derivative (and second derivative) comes from them.
"""
from __future__ import annotations

from ...ops._util import operands
from ...ops.elementwise import clamp
from ...ops.reduce import norm, sum
from ...tensor import Tensor


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """‖x1 − x2 + ε‖_p over the last dimension, as ``torch.nn.functional.pairwise_distance``.

    ε is added to the difference (PyTorch's convention) so the gradient at x1 = x2 is finite.
    Shapes: ``(N, D)`` and ``(N, D)`` (or anything that broadcasts) → ``(N,)``; ``(D,)`` → ``()``.

    Example::

        >>> F.pairwise_distance(fk.tensor([[0., 0.]]), fk.tensor([[3., 4.]]))   # ≈ 5
    """
    x1, x2 = operands(x1, x2)
    return norm(x1 - x2 + eps, p, -1, keepdim=keepdim)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1·x2 / (max(‖x1‖, ε)·max(‖x2‖, ε)) along ``dim``, as ``torch.nn.functional.cosine_similarity``.

    Shapes: two tensors that broadcast to a common shape; ``dim`` is removed from it,
    e.g. ``(N, D), (N, D)`` → ``(N,)`` with ``dim=1``.
    """
    x1, x2 = operands(x1, x2)
    return sum((x1 / _norm_at_least(x1, dim, eps)) * (x2 / _norm_at_least(x2, dim, eps)), dim)


def _norm_at_least(x: Tensor, dim: int, eps: float) -> Tensor:
    """max(‖x‖, ε) in value, with the gradient of ‖x‖ itself — PyTorch clamps the norm outside
    the graph, so a norm below ε still passes its gradient on (and a zero vector gives 0, not NaN)."""
    return at_least(norm(x, 2, dim, keepdim=True), eps)


def at_least(x: Tensor, floor: float) -> Tensor:
    """max(x, floor) in value, with the gradient of x itself (identity even where x < floor): the
    effect of torch's clamping a tensor in place under ``no_grad`` (the norms of
    :func:`cosine_similarity`, the variance of ``gaussian_nll_loss``)."""
    held = x.detach()
    return x + (clamp(held, min=floor) - held)
