"""The Transformer (seed 000 §6.3, seed 001 §9.4; Vaswani et al. 2017) as PyTorch's
``torch.nn.modules.transformer``: ``TransformerEncoderLayer``, ``TransformerDecoderLayer``, their stacks
``TransformerEncoder`` and ``TransformerDecoder``, and the encoder–decoder ``Transformer``.

A layer is a residual block around each sublayer — self-attention, (decoder) cross-attention over the encoder's
output (the *memory*), and a position-wise feed-forward network ``linear2(dropout(activation(linear1(x))))`` —
with layer normalisation after each residual sum (``norm_first=False``, post-LN, as in the original paper:
x = LN(x + Sublayer(x))) or before each sublayer (``norm_first=True``, pre-LN, as used today:
x = x + Sublayer(LN(x)), which keeps a path without normalisation from the input to the output and trains deep
stacks without warm-up). Parameter names, state-dict keys and module paths are PyTorch's.

Masks follow :class:`~fukaku.nn.MultiheadAttention`: a boolean mask's True marks a pair that is *excluded*, a
float mask is added to the logits; ``Transformer.generate_square_subsequent_mask(L)`` is the causal mask
(−∞ above the diagonal). Where PyTorch detects that a given mask is the causal one (``is_causal=None``), so do the
stacks here, and the attention then takes the causal path of ``scaled_dot_product_attention``.
"""
from __future__ import annotations

import copy
from collections.abc import Callable

import numpy as np

from ... import dtypes
from ..._device import check_device, place
from ...backends import default_module
from ...tensor import Tensor, wrap
from .. import functional as F
from .. import init
from ..functional.attention import _canonical_mask
from .activation import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
           "TransformerDecoderLayer"]


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """The causal mask ``(sz, sz)``: 0 on and below the diagonal, −∞ above (query i sees keys j ≤ i)."""
    dev = check_device(device, "generate_square_subsequent_mask")
    dt = dtypes.get_default_dtype() if dtype is None else np.dtype(dtype)
    xp = default_module()
    return wrap(place(xp.triu(xp.full((sz, sz), -np.inf, dtype=dt), 1), dev))


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    return src.shape[0] if src.ndim == 2 else src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask: Tensor | None, is_causal: bool | None = None, size: int | None = None) -> bool:
    """PyTorch's rule: a given hint is returned as it is; with none, whether ``mask`` equals the causal mask of
    ``size`` (float: −∞ above the diagonal; bool: True above it) — then the layers may take the causal path of
    scaled_dot_product_attention instead of adding the mask (the same result)."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    if tuple(mask.shape) != (sz, sz):
        return False
    causal = _generate_square_subsequent_mask(sz, dtype=np.float64)._data
    return bool(((causal != 0) == mask._data).all() if mask._data.dtype == np.bool_ else (causal == mask._data).all())


class _Layer(Module):
    """What the encoder and decoder layers share: their constructor, which gives them their submodules under
    PyTorch's names and in its order (the state dict's) — self_attn, multihead_attn (decoder), linear1, dropout,
    linear2, norm1…, dropout1… — the self-attention block and the feed-forward block (whose dropout is the layer's
    last, dropout2 or dropout3)."""

    _cross: bool  # a decoder layer: cross-attention over the memory, a third norm and dropout

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True, device=None,
                 dtype=None) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)

        def attention() -> MultiheadAttention:
            return MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **factory)

        self.self_attn = attention()
        if self._cross:
            self.multihead_attn = attention()
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        blocks = 3 if self._cross else 2
        for i in range(1, blocks + 1):
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _get_activation_fn(activation) if isinstance(activation, str) else activation
        if not self._cross:
            self.activation_relu_or_gelu = 1 if self.activation is F.relu else 2 if self.activation is F.gelu else 0

    def _sa_block(self, x: Tensor, attn_mask, key_padding_mask, is_causal: bool = False) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        last = self.dropout3 if self._cross else self.dropout2
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_Layer):
    """Self-attention and a feed-forward network, each in a residual block with layer normalisation.

    Args:
        d_model: the width E of the tokens.
        nhead: attention heads (must divide d_model).
        dim_feedforward: hidden width of the feed-forward network (2048).
        dropout: after attention, inside and after the feed-forward network, and on the attention weights (0.1).
        activation: ``"relu"``, ``"gelu"`` or a callable (F.relu).
        layer_norm_eps: ε of the layer norms.
        batch_first: ``(N, L, E)`` instead of ``(L, N, E)``.
        norm_first: pre-LN (True) or post-LN (False, the paper's).
        bias: biases of the linear maps and layer norms.

    Submodules (PyTorch's names): ``self_attn``, ``linear1``, ``dropout``, ``linear2``, ``norm1``, ``norm2``,
    ``dropout1``, ``dropout2``.

    Example::

        >>> layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, batch_first=True, norm_first=True)
        >>> layer(fk.randn(8, 20, 64)).shape
        fukaku.Size([8, 20, 64])
    """

    _cross = False

    def forward(self, src: Tensor, src_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool = False) -> Tensor:
        """``src`` ``(L, N, E)`` (``(N, L, E)`` batch first, or unbatched ``(L, E)``); ``src_mask`` ``(L, L)`` or
        ``(N·nhead, L, L)``; ``src_key_padding_mask`` ``(N, L)``; ``is_causal``: a hint that ``src_mask`` is the
        causal mask. Returns the same shape as ``src``."""
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", src._data.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", src._data.dtype)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerDecoderLayer(_Layer):
    """Masked self-attention, cross-attention over the memory, and a feed-forward network, each in a residual
    block with layer normalisation (arguments as :class:`TransformerEncoderLayer`).

    Submodules (PyTorch's names): ``self_attn``, ``multihead_attn``, ``linear1``, ``dropout``, ``linear2``,
    ``norm1``, ``norm2``, ``norm3``, ``dropout1``, ``dropout2``, ``dropout3``.
    """

    _cross = True

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool = False, memory_is_causal: bool = False) -> Tensor:
        """``tgt`` ``(T, N, E)``, ``memory`` ``(S, N, E)`` (batch first: ``(N, T, E)``, ``(N, S, E)``);
        ``tgt_mask`` ``(T, T)``, ``memory_mask`` ``(T, S)``; key padding masks ``(N, T)`` and ``(N, S)``.
        Returns the shape of ``tgt``."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask, key_padding_mask, is_causal: bool = False) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)



class TransformerEncoder(Module):
    """``num_layers`` copies of ``encoder_layer`` (deep copies: each has its own parameters, all starting
    equal, as in PyTorch) and an optional final ``norm``. Submodules ``layers`` (a ModuleList) and ``norm``.

    ``forward(src, mask=None, src_key_padding_mask=None, is_causal=None)``: ``is_causal=None`` checks whether
    ``mask`` is the causal mask, as PyTorch does. ``enable_nested_tensor`` and ``mask_check`` are accepted and
    kept for compatibility (fukaku has no nested tensors: padded positions are computed and masked).
    """

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int, norm: Module | None = None,
                 enable_nested_tensor: bool = True, mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src: Tensor, mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", src._data.dtype)
        mask = _canonical_mask(mask, "mask", src._data.dtype)
        first = self.layers[0] if len(self.layers) else None
        batch_first = first.self_attn.batch_first if first is not None else False
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for mod in self.layers:
            output = mod(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """``num_layers`` copies of ``decoder_layer`` and an optional final ``norm`` (submodules ``layers``,
    ``norm``). ``forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)``."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        batch_first = self.layers[0].self_attn.batch_first if len(self.layers) else False
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, _get_seq_len(tgt, batch_first))
        output = tgt
        for mod in self.layers:
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder–decoder Transformer of Vaswani et al. (seed 000 §6.3), as ``torch.nn.Transformer``: an
    encoder stack with a final LayerNorm (``encoder``) and a decoder stack with a final LayerNorm (``decoder``);
    every parameter of rank > 1 Xavier-uniform initialised.

    ``forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False)``: src ``(S, N, E)``, tgt ``(T, N, E)`` (batch first: ``(N, S, E)``, ``(N, T, E)``)
    → ``(T, N, E)``.

    Example::

        >>> model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
        ...                        dim_feedforward=64, batch_first=True)
        >>> tgt_mask = nn.Transformer.generate_square_subsequent_mask(7)
        >>> model(fk.randn(3, 10, 32), fk.randn(3, 7, 32), tgt_mask=tgt_mask).shape
        fukaku.Size([3, 7, 32])
    """

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6, num_decoder_layers: int = 6,
                 dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable[[Tensor], Tensor] = F.relu, custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        factory = dict(device=device, dtype=dtype)

        def stack(layer_class, stack_class, custom, layers):  # the custom one, or layers and a final LayerNorm
            if custom is not None:
                return custom
            layer = layer_class(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
                                norm_first, bias, **factory)
            return stack_class(layer, layers, LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))

        self.encoder = stack(TransformerEncoderLayer, TransformerEncoder, custom_encoder, num_encoder_layers)
        self.decoder = stack(TransformerDecoderLayer, TransformerDecoder, custom_decoder, num_decoder_layers)
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None, memory_key_padding_mask: Tensor | None = None,
                src_is_causal: bool | None = None, tgt_is_causal: bool | None = None,
                memory_is_causal: bool = False) -> Tensor:
        batched = src.ndim == 3
        bdim = 0 if self.batch_first else 1
        if batched and src.shape[bdim] != tgt.shape[bdim]:
            raise RuntimeError(f"Transformer: the batch number of src {tuple(src.shape)} and tgt {tuple(tgt.shape)} "
                               f"must be equal (dim {bdim}{', batch_first=True' if self.batch_first else ''})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError(f"Transformer: the feature number of src {tuple(src.shape)} and tgt "
                               f"{tuple(tgt.shape)} must be equal to d_model = {self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask, memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """The causal mask ``(sz, sz)`` for a target of length sz: −∞ above the diagonal, 0 elsewhere."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)
