"""``Embedding``: a learnable lookup table, row i is the vector of token i (seed 003's word and
subword units become vectors this way). ``padding_idx`` marks a row that stays zero and gets no
gradient, for the padding of variable-length sequences. ``EmbeddingBag`` reduces bags of such
rows (sum, mean or max) in one step, e.g. a bag-of-words text encoder.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...tensor import Tensor, bump_version, empty
from .. import functional as F
from .. import init
from ..functional.sparse import _padding_row
from ..parameter import Parameter
from .module import Module
from .utils import check_size, factory_kwargs


class _Table(Module):
    """What Embedding and EmbeddingBag share: the table ``weight`` ``(num_embeddings,
    embedding_dim)``, N(0, 1) with the ``padding_idx`` row 0, or a given table used as it is."""

    def _init_table(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None,
                    _weight: Tensor | None, device, dtype) -> None:
        layer = type(self).__name__
        self.num_embeddings = check_size(num_embeddings, "num_embeddings", layer, minimum=1)
        self.embedding_dim = check_size(embedding_dim, "embedding_dim", layer)
        self.padding_idx = _padding_row(layer, padding_idx, self.num_embeddings)
        factory = factory_kwargs(device, dtype, layer)
        if _weight is None:
            self.weight = Parameter(empty(self.num_embeddings, self.embedding_dim, **factory))
            self.reset_parameters()
        else:  # a given table is used as it is (shared, not copied), as in PyTorch
            if tuple(_weight.shape) != (self.num_embeddings, self.embedding_dim):
                raise ShapeError(f"{layer}: _weight of shape {tuple(_weight.shape)} does not match "
                                 f"(num_embeddings, embedding_dim) = ({self.num_embeddings}, {self.embedding_dim})")
            self.weight = Parameter(_weight)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0
            bump_version(self.weight)

    @classmethod
    def _pretrained_shape(cls, embeddings: Tensor) -> tuple[int, int]:
        if embeddings.ndim != 2:
            raise ShapeError(f"{cls.__name__}.from_pretrained: embeddings must be 2-d (num_embeddings, embedding_dim), "
                             f"got shape {tuple(embeddings.shape)}")
        return embeddings.shape


class Embedding(_Table):
    """Integer indices ``(*)`` → vectors ``(*, embedding_dim)`` from a table ``weight`` of shape
    ``(num_embeddings, embedding_dim)``, initialised N(0, 1) as in PyTorch (the padding row 0).

    State-dict key ``weight``.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *,
                 _weight: Tensor | None = None, device=None, dtype=None) -> None:
        super().__init__()
        self._init_table(num_embeddings, embedding_dim, padding_idx, _weight, device, dtype)

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding whose table is ``embeddings`` (memory shared) ``(num_embeddings, embedding_dim)``;
        ``freeze=True`` keeps it fixed (``weight.requires_grad = False``)."""
        rows, cols = cls._pretrained_shape(embeddings)
        layer = cls(rows, cols, padding_idx, _weight=embeddings)
        layer.weight.requires_grad_(not freeze)
        return layer

    def forward(self, input: Tensor) -> Tensor:
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class EmbeddingBag(_Table):
    """Bags of integer indices → the sum, mean or max of their rows of a table ``weight``
    ``(num_embeddings, embedding_dim)``, without a tensor per entry (``F.embedding_bag``).

    ``forward(input, offsets=None, per_sample_weights=None)``: input ``(B, N)`` (B bags of N) or
    ``(L,)`` with ``offsets`` ``(B,)`` → ``(B, embedding_dim)``. The table starts N(0, 1) as in
    PyTorch, the ``padding_idx`` row 0 (left out of every bag, no gradient). State-dict key
    ``weight``. ``scale_grad_by_freq`` and ``sparse`` must stay False.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm: float | None = None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False,
                 _weight: Tensor | None = None, include_last_offset: bool = False, padding_idx: int | None = None,
                 device=None, dtype=None) -> None:
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self._init_table(num_embeddings, embedding_dim, padding_idx, _weight, device, dtype)
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset

    @classmethod
    def from_pretrained(cls, embeddings: Tensor, freeze: bool = True, max_norm: float | None = None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                        sparse: bool = False, include_last_offset: bool = False,
                        padding_idx: int | None = None) -> EmbeddingBag:
        """An EmbeddingBag whose table is ``embeddings`` (memory shared) ``(num_embeddings, embedding_dim)``;
        ``freeze=True`` keeps it fixed (``weight.requires_grad = False``)."""
        rows, cols = cls._pretrained_shape(embeddings)
        layer = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                    include_last_offset, padding_idx)
        layer.weight.requires_grad_(not freeze)
        return layer

    def forward(self, input: Tensor, offsets: Tensor | None = None,
                per_sample_weights: Tensor | None = None) -> Tensor:
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, self.sparse, per_sample_weights, self.include_last_offset,
                               self.padding_idx)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        s += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx!r}"
        return s
