"""Attention (seed 000 §6.3, seed 001 §9.4): ``scaled_dot_product_attention``, checked at the
API boundary over the fused node :class:`fukaku.ops.attention.Attention`.

The masks follow PyTorch 2.13: a boolean ``attn_mask`` marks with True the (query, key) pairs that take part; a
float mask is added to the logits; both broadcast over the leading (batch, head) dims. ``is_causal`` lets query
i see keys j ≤ i (top-left aligned when L ≠ S: the lower triangle of an L × S matrix of ones).
"""
from __future__ import annotations

import math

import numpy as np

from ...autograd.function import code_constant, constant
from ...backends import array_module
from ...errors import ShapeError
from ...ops._util import fmt
from ...ops.activation import softmax
from ...ops.attention import Attention
from ...ops.index import repeat_interleave
from ...ops.shape import cat, pad
from ...tensor import Tensor
from .dropout import check_probability, dropout
from .linear import linear

OP = "scaled_dot_product_attention"


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(q kᵀ · scale + mask) v over the keys, as ``torch.nn.functional.scaled_dot_product_attention``.

    Seed 000 §6.3: Attention(Q, K, V) = softmax(Q Kᵀ / √d_k) V; dividing by √d_k keeps the logits'
    variance near 1 when the entries of q and k have variance 1, so the softmax does not saturate.

    Args:
        query: ``(…, L, E)``.
        key: ``(…, S, E)``.
        value: ``(…, S, Ev)``. The leading dims of the three broadcast against each other.
        attn_mask: None, a boolean mask (True: the pair takes part) or a float mask added to the logits,
            broadcasting to ``(…, L, S)``. A query whose keys are all masked gets zeros.
        dropout_p: probability of zeroing an attention weight (the others scaled by 1/(1 − p)), drawn from
            fukaku's generator. Applied whenever it is > 0 (pass ``dropout_p=0.0`` outside training).
        is_causal: query i attends to keys j ≤ i (with L ≠ S the mask is ``ones(L, S).tril()``); no
            ``attn_mask`` with it.
        scale: the logits' factor, 1/√E when None.
        enable_gqa: grouped-query attention: key and value may have fewer heads (dim −3) than query, a
            divisor of its heads; each key head serves that many consecutive query heads.

    Shape: → ``(…, L, Ev)``.

    Example::

        >>> q = k = v = fk.randn(2, 8, 16, 32)              # (batch, heads, length, head dim)
        >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
        fukaku.Size([2, 8, 16, 32])
    """
    for t, name in ((query, "query"), (key, "key"), (value, "value")):
        if not isinstance(t, Tensor):
            raise TypeError(f"{OP}: {name} must be a Tensor, got {type(t).__name__}")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise ShapeError(f"{OP}: query, key and value must be at least 2-d (…, length, features); got shapes "
                         f"{fmt(query.shape)}, {fmt(key.shape)} and {fmt(value.shape)}")
    if not (query.dtype == key.dtype == value.dtype):
        raise TypeError(f"{OP}: query, key and value must have the same dtype, got {query.dtype}, {key.dtype} and "
                        f"{value.dtype}; convert them (x.float() / x.double())")
    if not query.is_floating_point():
        raise TypeError(f"{OP}: query, key and value must be floating point, got {query.dtype}")
    L, E, S = query.shape[-2], query.shape[-1], key.shape[-2]
    if key.shape[-1] != E:
        raise ShapeError(f"{OP}: query of shape {fmt(query.shape)} and key of shape {fmt(key.shape)} must have the "
                         f"same last dim (the feature size E of q·k); got {E} and {key.shape[-1]}")
    if value.shape[-2] != S:
        raise ShapeError(f"{OP}: key of shape {fmt(key.shape)} and value of shape {fmt(value.shape)} must have the "
                         f"same length S (dim −2), one value per key; got {S} and {value.shape[-2]}")
    if enable_gqa:
        key, value = _grouped(query, key), _grouped(query, value)
    try:
        batch = np.broadcast_shapes(tuple(query.shape[:-2]), tuple(key.shape[:-2]), tuple(value.shape[:-2]))
    except ValueError:
        raise ShapeError(f"{OP}: the leading (batch, head) dims of query {fmt(query.shape)}, key {fmt(key.shape)} "
                         f"and value {fmt(value.shape)} do not broadcast; give them equal sizes (or 1), or pass "
                         "enable_gqa=True for fewer key/value heads") from None
    logits = batch + (L, S)
    p = check_probability(dropout_p, OP)
    if scale is None:
        scale = 1.0 / math.sqrt(E) if E else 1.0
    xp = array_module(query._data)
    bias = _bias(attn_mask, is_causal, query, logits, xp)
    inputs = (query, key, value) if bias is None else (query, key, value, bias)
    return Attention.apply(*inputs, scale=float(scale), dropout_p=p)


def _grouped(query: Tensor, kv: Tensor) -> Tensor:
    """Key or value with each of its heads (dim −3) repeated for the query heads it serves."""
    if query.ndim < 3 or kv.ndim < 3:
        raise ShapeError(f"{OP}: enable_gqa=True needs query and key/value with a head dim (…, heads, length, "
                         f"features); got shapes {fmt(query.shape)} and {fmt(kv.shape)}")
    hq, hk = query.shape[-3], kv.shape[-3]
    if hq % hk:
        raise ShapeError(f"{OP}: with enable_gqa=True the number of key/value heads must divide the number of "
                         f"query heads; got query {fmt(query.shape)} ({hq} heads) and key/value {fmt(kv.shape)} "
                         f"({hk} heads)")
    return kv if hq == hk else repeat_interleave(kv, hq // hk, dim=-3)


def _bias(attn_mask, is_causal: bool, query: Tensor, logits: tuple[int, ...], xp) -> Tensor | None:
    """The additive bias of the logits: the float mask as it is (cast to query's dtype), or 0/−∞ from a boolean
    or the causal mask (a constant); None without a mask."""
    L, S = logits[-2:]
    zero, minus_inf = query._data.dtype.type(0), query._data.dtype.type(-np.inf)
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{OP}: pass either attn_mask or is_causal=True, not both (is_causal builds its own "
                             "mask); fold the causal mask into attn_mask, e.g. attn_mask & "
                             "fk.ones(L, S, dtype=fk.bool).tril()")
        return code_constant(xp.where(xp.tri(L, S, dtype=bool), zero, minus_inf))
    if attn_mask is None:
        return None
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{OP}: attn_mask must be a Tensor (bool or float), got {type(attn_mask).__name__}")
    mask_dtype = attn_mask._data.dtype
    if mask_dtype != np.bool_ and not attn_mask.is_floating_point():
        raise TypeError(f"{OP}: attn_mask must be bool (True: the pair takes part) or floating point (added to the "
                        f"logits), got {attn_mask.dtype}; use mask.bool() or mask.to(query.dtype)")
    try:
        fits = attn_mask.ndim >= 2 and np.broadcast_shapes(tuple(attn_mask.shape), logits) == logits
    except ValueError:
        fits = False
    if not fits:
        raise ShapeError(f"{OP}: attn_mask of shape {fmt(attn_mask.shape)} does not broadcast to the logits' shape "
                         f"{fmt(logits)} (…, L, S) of query {fmt(query.shape)}; give it shape (L, S) = {fmt((L, S))}, "
                         f"or (N, 1, L, S) / (N, heads, L, S) as the batch needs")
    if mask_dtype == np.bool_:
        return constant(xp.where(attn_mask._data, zero, minus_inf))
    return attn_mask if attn_mask.dtype == query.dtype else attn_mask.to(query.dtype)


# ----------------------------------------------------------------------------- multi-head attention
MHA = "multi_head_attention_forward"


def _canonical_mask(mask, name: str, dtype) -> Tensor | None:
    """PyTorch's ``_canonical_mask``: a boolean mask (True: masked out) as a float mask of 0 and −∞ in ``dtype``;
    a float mask as it is."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        raise TypeError(f"{MHA}: {name} must be a Tensor (bool or float), got {type(mask).__name__}")
    if mask._data.dtype == np.bool_:
        xp = array_module(mask._data)
        return constant(xp.where(mask._data, dtype.type(-np.inf), dtype.type(0)))
    if not mask.is_floating_point():
        raise TypeError(f"{MHA}: only bool and floating types of {name} are supported, got {mask.dtype}; use "
                        f"{name}.bool() (True: masked out) or a float mask added to the logits")
    return mask


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
                                 in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
                                 bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
                                 out_proj_bias: Tensor | None, training: bool = True,
                                 key_padding_mask: Tensor | None = None, need_weights: bool = True,
                                 attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
                                 q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
                                 v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
                                 static_v: Tensor | None = None, average_attn_weights: bool = True,
                                 is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
    """Multi-head attention (seed 000 §6.3) as ``torch.nn.functional.multi_head_attention_forward``.

    headᵢ = Attention(Q W_iᵠ, K W_iᵏ, V W_iᵛ), MultiHead(Q, K, V) = Concat(head₁, …, head_h) Wᵒ: the inputs are
    projected (one packed ``in_proj_weight`` (3E, E), or three ``q/k/v_proj_weight`` when
    ``use_separate_proj_weight``), split into ``num_heads`` heads of E/h features, attended with
    :func:`scaled_dot_product_attention` (or, with ``need_weights``, the same formula with the weights kept) and
    joined by the output projection.

    Shapes (sequence first, as PyTorch's function): query ``(L, N, E)``, key ``(S, N, kdim)``, value
    ``(S, N, vdim)``, or unbatched ``(L, E)``…; ``key_padding_mask`` ``(N, S)`` (bool: True marks padding,
    ignored; or float, added); ``attn_mask`` ``(L, S)`` or ``(N·num_heads, L, S)`` (bool: True forbids the
    pair — the opposite of :func:`scaled_dot_product_attention`'s convention, as in PyTorch; or float, added).
    Returns the output ``(L, N, E)`` and the attention weights ``(N, L, S)`` averaged over the heads
    (``(N, num_heads, L, S)`` when ``average_attn_weights=False``) or None when ``need_weights=False``.
    ``is_causal`` is a hint that ``attn_mask`` is the causal mask; it needs ``attn_mask``.
    """
    return _multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training,
                                 key_padding_mask, need_weights, attn_mask, use_separate_proj_weight, q_proj_weight,
                                 k_proj_weight, v_proj_weight, static_k, static_v, average_attn_weights, is_causal,
                                 batch_first=False)


def _multi_head_attention(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k,
                          bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training, key_padding_mask,
                          need_weights, attn_mask, use_separate_proj_weight, q_proj_weight, k_proj_weight,
                          v_proj_weight, static_k, static_v, average_attn_weights, is_causal, batch_first: bool):
    """:func:`multi_head_attention_forward` on inputs laid out batch first ``(N, L, E)`` when ``batch_first``
    (nn.MultiheadAttention(batch_first=True) calls it so, with no transposes), else sequence first."""
    batched = _mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    bdim, sdim = (0, 1) if batch_first else (1, 0)
    if not batched:
        query, key, value = query.unsqueeze(bdim), key.unsqueeze(bdim), value.unsqueeze(bdim)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape[sdim], query.shape[bdim], query.shape[2]
    S = key.shape[sdim]
    dtype = query._data.dtype
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError(f"{MHA}: need attn_mask if specifying the is_causal hint; make the causal mask with "
                           "nn.Transformer.generate_square_subsequent_mask(L)")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention's own causal mask serves
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", dtype)
        if key_padding_mask is not None:
            is_causal = False
    if E != embed_dim_to_check:
        raise ShapeError(f"{MHA}: query of shape {fmt(query.shape)} has embedding dim {E}, expected "
                         f"embed_dim = {embed_dim_to_check}" + (" (batch_first=True expects (N, L, E))" if batch_first
                                                                else " (sequence first: (L, N, E))"))
    head_dim = E // num_heads
    if head_dim * num_heads != E:
        raise ValueError(f"{MHA}: embed_dim {E} is not divisible by num_heads {num_heads}; choose num_heads among the "
                         f"divisors of {E}")
    if key.shape[bdim] != N or value.shape[bdim] != N:
        raise ShapeError(f"{MHA}: query {fmt(query.shape)}, key {fmt(key.shape)} and value {fmt(value.shape)} must "
                         f"have the same batch size (dim {bdim})")
    if use_separate_proj_weight:
        if key.shape[:2] != value.shape[:2]:
            raise ShapeError(f"{MHA}: key of shape {fmt(key.shape)} and value of shape {fmt(value.shape)} must have "
                             "the same sequence and batch dims (one value per key)")
    elif key.shape != value.shape:
        raise ShapeError(f"{MHA}: key of shape {fmt(key.shape)} does not match value of shape {fmt(value.shape)}; with "
                         "kdim or vdim different from embed_dim build the layer with kdim=…, vdim=…")
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, use_separate_proj_weight,
                             q_proj_weight, k_proj_weight, v_proj_weight, E)
    if attn_mask is not None:
        want = (L, S) if attn_mask.ndim == 2 else (N * num_heads, L, S)
        if tuple(attn_mask.shape) != want:
            raise ShapeError(f"{MHA}: the {attn_mask.ndim}-d attn_mask has shape {fmt(attn_mask.shape)}, but should be "
                             f"{fmt(want)} (target length L = {L}, source length S = {S}"
                             + (f", batch·heads = {N * num_heads})" if attn_mask.ndim == 3 else ")"))
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise ValueError(f"{MHA}: bias_k/bias_v cannot be added to a static key or value")
        k = cat([k, bias_k.expand(*((N, 1, E) if batch_first else (1, N, E)))], sdim)
        v = cat([v, bias_v.expand(*((N, 1, E) if batch_first else (1, N, E)))], sdim)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif (bias_k is None) != (bias_v is None):
        raise ValueError(f"{MHA}: bias_k and bias_v must be given together")
    q = _heads(q, num_heads, batch_first)
    k = _heads(k, num_heads, batch_first) if static_k is None else _static(static_k, "static_k", N, num_heads, head_dim)
    v = _heads(v, num_heads, batch_first) if static_v is None else _static(static_v, "static_v", N, num_heads, head_dim)
    if add_zero_attn:
        xp = array_module(q._data)
        k = cat([k, constant(xp.zeros((N, num_heads, 1, head_dim), dtype))], 2)
        v = cat([v, constant(xp.zeros((N, num_heads, 1, head_dim), dtype))], 2)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    S = k.shape[2]
    if attn_mask is not None and attn_mask.ndim == 3:
        attn_mask = attn_mask.reshape(N, num_heads, L, S)
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (N, S):
            raise ShapeError(f"{MHA}: key_padding_mask of shape {fmt(key_padding_mask.shape)} should be (N, S) = "
                             f"{fmt((N, S))}, one entry per key of each sample")
        padding = key_padding_mask.reshape(N, 1, 1, S)
        attn_mask = padding if attn_mask is None else attn_mask + padding
    if not training:
        dropout_p = 0.0
    weights = None
    if need_weights:
        logits = (q * (1.0 / math.sqrt(head_dim))) @ k.mT
        if attn_mask is not None:
            logits = logits + attn_mask
        weights = softmax(logits, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        out = weights @ v
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            weights = weights.squeeze(0)
    else:
        out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(*((0, 2, 1, 3) if batch_first else (2, 0, 1, 3))).reshape(*query.shape[:2], E)
    out = linear(out, out_proj_weight, out_proj_bias)
    if not batched:
        out = out.squeeze(bdim)
    return out, weights


def _mha_shapes(query, key, value, key_padding_mask, attn_mask, num_heads) -> bool:
    """PyTorch's ``_mha_shape_check``: whether the input is batched (3-d query) or not (2-d)."""
    if query.ndim not in (2, 3):
        raise ShapeError(f"{MHA}: query should be unbatched 2-d (L, E) or batched 3-d, got shape {fmt(query.shape)}")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise ShapeError(f"{MHA}: for a {query.ndim}-d query {fmt(query.shape)}, key and value must be {query.ndim}-d, "
                         f"got shapes {fmt(key.shape)} and {fmt(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise ShapeError(f"{MHA}: for a {query.ndim}-d query {fmt(query.shape)}, key_padding_mask must be "
                         f"{'(N, S)' if batched else '(S,)'}, got shape {fmt(key_padding_mask.shape)}")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise ShapeError(f"{MHA}: attn_mask must be 2-d (L, S) or 3-d (N·num_heads, L, S), got shape "
                             f"{fmt(attn_mask.shape)}")
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != (num_heads, query.shape[0], key.shape[0]):
            raise ShapeError(f"{MHA}: for an unbatched query the 3-d attn_mask should have shape "
                             f"{fmt((num_heads, query.shape[0], key.shape[0]))}, got {fmt(attn_mask.shape)}")
    return batched


def _in_projection(query, key, value, w, b, separate, w_q, w_k, w_v, E):
    """q, k, v projected: one product for self-attention (query, key and value the same tensor), two when key is
    value, three otherwise or with separate weights."""
    if separate:
        for t, name in ((w_q, "q_proj_weight"), (w_k, "k_proj_weight"), (w_v, "v_proj_weight")):
            if t is None:
                raise ValueError(f"{MHA}: use_separate_proj_weight=True needs {name}")
        b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
        return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)
    if w is None:
        raise ValueError(f"{MHA}: in_proj_weight is None; pass it, or use_separate_proj_weight=True with "
                         "q/k/v_proj_weight")
    if key is value:
        if query is key:
            return linear(query, w, b).chunk(3, -1)
        w_q, w_kv = w.split([E, 2 * E])
        b_q, b_kv = (None, None) if b is None else b.split([E, 2 * E])
        return (linear(query, w_q, b_q), *linear(key, w_kv, b_kv).chunk(2, -1))
    w_q, w_k, w_v = w.chunk(3)
    b_q, b_k, b_v = (None, None, None) if b is None else b.chunk(3)
    return linear(query, w_q, b_q), linear(key, w_k, b_k), linear(value, w_v, b_v)


def _heads(x: Tensor, num_heads: int, batch_first: bool) -> Tensor:
    """``(N, S, E)`` (batch first) or ``(S, N, E)`` as ``(N, num_heads, S, E/num_heads)`` (a view)."""
    a, b, E = x.shape
    x = x.reshape(a, b, num_heads, E // num_heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _static(t: Tensor, name: str, N: int, num_heads: int, head_dim: int) -> Tensor:
    if t.ndim != 3 or t.shape[0] != N * num_heads or t.shape[2] != head_dim:
        raise ShapeError(f"{MHA}: {name} of shape {fmt(t.shape)} should be (N·num_heads, S, head_dim) = "
                         f"({N * num_heads}, S, {head_dim})")
    return t.reshape(N, num_heads, t.shape[1], head_dim)
