"""``Embedding``: a learnable lookup table, row i is the vector of token i (seed 003's word and
subword units become vectors this way). ``padding_idx`` marks a row that stays zero and gets no
gradient, for the padding of variable-length sequences.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor, bump_version, empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_dtype


class Embedding(Module):
    """Integer indices ``(*)`` → vectors ``(*, embedding_dim)`` from a table ``weight`` of shape
    ``(num_embeddings, embedding_dim)``, initialised N(0, 1) as in PyTorch (the padding row 0).

    State-dict key ``weight``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *,
                 _weight: Tensor | None = None, device=None, dtype=None) -> None:
        super().__init__()
        self.num_embeddings = check_size(num_embeddings, "num_embeddings", "Embedding", minimum=1)
        self.embedding_dim = check_size(embedding_dim, "embedding_dim", "Embedding")
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be within [-{self.num_embeddings}, "
                                 f"{self.num_embeddings - 1}] (num_embeddings={self.num_embeddings}), "
                                 f"got {padding_idx}")
            padding_idx %= self.num_embeddings
        self.padding_idx = padding_idx
        dt = factory_dtype(device, dtype, "Embedding")
        if _weight is None:
            self.weight = Parameter(empty(self.num_embeddings, self.embedding_dim, dtype=dt))
            self.reset_parameters()
        else:  # a given table is used as it is (shared, not copied), as in PyTorch
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"Embedding: _weight of shape {tuple(_weight.shape)} does not match "
                                 f"(num_embeddings, embedding_dim) = ({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
            bump_version(self.weight)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding whose table is ``embeddings`` (memory shared) ``(num_embeddings, embedding_dim)``;
        ``freeze=True`` keeps it fixed (``weight.requires_grad = False``)."""
        if embeddings.ndim != 2:
            raise ShapeError(f"Embedding.from_pretrained: embeddings must be 2-d (num_embeddings, embedding_dim), "
                               f"got shape {tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        layer = cls(rows, cols, padding_idx, _weight=embeddings)
        layer.weight.requires_grad_(not freeze)
        return layer

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
