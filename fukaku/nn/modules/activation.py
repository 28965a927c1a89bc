"""Activation layers (seed 000 §6.1.1 and §6.1.3, seed 003, seed 004 §3): each wraps the function
of the same name in :mod:`fukaku.nn.functional`.

* ``Step``: the perceptron's Heaviside step, 1 if z ≥ 0 else 0 (§6.1.1); zero gradient.
* ``Sigmoid`` σ(z) = 1/(1 + e^{−z}) (logistic regression; σ' ≤ 0.25) and ``Tanh``.
* ``ReLU`` max(0, z); ``LeakyReLU`` αz for z < 0 with α fixed; ``PReLU`` with α learned (§6.1.3).
* ``ELU`` α(e^z − 1) for z ≤ 0 — the corrected form (seed 004 prints c·exp(z − 1): erratum).
* ``SiLU`` (Swish, z·σ(z), no β), ``GELU`` z·Φ(z), ``Softplus`` (1/β)·log(1 + e^{βz}).
* ``Softmax`` and ``LogSoftmax`` over a dimension (the classification head, §6.1.2), ``Softmin``.
* The rest of torch's set: ``ReLU6``, ``Hardtanh``, ``Hardsigmoid``, ``Hardswish``, ``SELU``,
  ``CELU``, ``Mish``, ``Softsign``, ``LogSigmoid``, ``Tanhshrink``, ``Threshold``, ``GLU``.
* ``MultiheadAttention`` (seed 000 §6.3), where PyTorch keeps it, over
  :func:`fukaku.nn.functional.multi_head_attention_forward`.

A layer built with ``inplace=True`` writes its result into its input and returns the input, as
torch's (through the one helper :func:`fukaku.ops.activation._result`); its ``repr`` shows the
flag as torch's does.
"""
from __future__ import annotations

import warnings

from ...tensor import Tensor, empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..functional.attention import _multi_head_attention
from .linear import NonDynamicallyQuantizableLinear
from .module import Module
from .utils import check_size, factory_kwargs


def _inplace_repr(inplace: bool) -> str:
    """torch's extra_repr of a layer whose only option is ``inplace``."""
    return "inplace=True" if inplace else ""


def _inplace_suffix(inplace: bool) -> str:
    """torch's tail of an extra_repr with other options before ``inplace``."""
    return ", inplace=True" if inplace else ""


class _Pointwise(Module):
    """An activation without options: ``fn(input)``, elementwise."""

    fn = staticmethod(F.sigmoid)

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input)


class _InplaceActivation(Module):
    """A parameter-free activation whose only option is ``inplace``: ``fn(input, inplace)``."""

    fn = staticmethod(F.relu)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class _AlphaActivation(Module):
    """An exponential linear unit with a scale ``alpha`` and ``inplace``: ``fn(input, alpha, inplace)``."""

    fn = staticmethod(F.elu)

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}{_inplace_suffix(self.inplace)}"


class _DimActivation(Module):
    """A normalised exponential over ``dim``: ``fn(input, dim)``."""

    fn = staticmethod(F.softmax)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return type(self).fn(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Step(_Pointwise):
    """Heaviside step (seed 000 §6.1.1): 1 where z ≥ 0, else 0; shape unchanged. fukaku's own
    layer (PyTorch has ``torch.heaviside``); its gradient is zero."""

    fn = staticmethod(F.step)


class Sigmoid(_Pointwise):
    """σ(z) = 1/(1 + e^{−z}) ∈ (0, 1), elementwise; shape unchanged. Its derivative σ(1 − σ) is at most
    0.25, at z = 0 (seed 000 §6.1.3): through n sigmoids a gradient shrinks by up to 0.25ⁿ."""

    fn = staticmethod(F.sigmoid)


class Tanh(_Pointwise):
    """tanh(z) = 2σ(2z) − 1 ∈ (−1, 1), elementwise; shape unchanged. Zero-centred, with derivative
    1 − tanh² z, which is 1 at z = 0: four times the sigmoid's largest slope."""

    fn = staticmethod(F.tanh)


class ReLU(_InplaceActivation):
    """max(0, z), elementwise; shape unchanged. Its derivative is 1 for z > 0 and 0 otherwise (0 at
    z = 0, as in torch), so a unit negative on every input gets no gradient at all: a dead ReLU."""

    fn = staticmethod(F.relu)


class LeakyReLU(Module):
    """z for z > 0, ``negative_slope``·z otherwise (seed 004 §3: 0.01z); shape unchanged."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.leaky_relu(input, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}{_inplace_suffix(self.inplace)}"


class PReLU(Module):
    """z for z > 0, a·z otherwise, with learnable slopes a (He et al. 2015).

    ``num_parameters=1`` shares one slope; ``num_parameters=C`` learns one per channel of an
    input ``(N, C, *)``. Slopes start at ``init`` (0.25). State-dict key ``weight``, shape
    ``(num_parameters,)``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None) -> None:
        super().__init__()
        self.num_parameters = check_size(num_parameters, "num_parameters", "PReLU", minimum=1)
        self.init = float(init)
        self.weight = Parameter(empty(self.num_parameters, **factory_kwargs(device, dtype, "PReLU")))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class ELU(_AlphaActivation):
    """z for z > 0, α(e^z − 1) otherwise (Clevert et al. 2015; the corrected form of seed 004 §3);
    shape unchanged. Continuous at 0 for every α, differentiable there only for α = 1 (see CELU)."""

    fn = staticmethod(F.elu)


class SiLU(_InplaceActivation):
    """Swish / SiLU, z·σ(z) (seed 000 §6.1.3, without β); shape unchanged. Smooth and not monotonic:
    its minimum is about −0.278, at z ≈ −1.278 (Elfwing et al. 2018; Ramachandran et al. 2017)."""

    fn = staticmethod(F.silu)


Swish = SiLU  # the textbook's name (seed 000 §6.1.3, seed 003)


class GELU(Module):
    """z·Φ(z) with Φ the standard normal CDF; ``approximate='tanh'`` for the tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:
        return F.gelu(input, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """(1/β)·log(1 + e^{βz}), and z itself where βz > ``threshold`` (for numerical stability)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input: Tensor) -> Tensor:
        """A smooth ReLU: the derivative is σ(βz) (1 beyond the threshold, where the output is z), so
        softplus is the integral of the sigmoid; as β grows it tends to max(0, z)."""
        return F.softplus(input, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(_DimActivation):
    """e^{z_i}/Σ_j e^{z_j} along ``dim`` (for logits ``(N, C)`` use ``dim=1``); shape unchanged. The
    outputs are positive and sum to 1, and adding one constant to every z_i changes none of them."""

    fn = staticmethod(F.softmax)


class LogSoftmax(_DimActivation):
    """z_i − log Σ_j e^{z_j} along ``dim``, computed stably; shape unchanged. Followed by
    :class:`~fukaku.nn.NLLLoss` it is :class:`~fukaku.nn.CrossEntropyLoss`."""

    fn = staticmethod(F.log_softmax)


class Softmin(_DimActivation):
    """e^{−z_i}/Σ_j e^{−z_j} along ``dim``: softmax of −z; shape unchanged."""

    fn = staticmethod(F.softmin)


class Threshold(Module):
    """z where z > ``threshold``, ``value`` elsewhere; shape unchanged."""

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:
        return F.threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return f"threshold={self.threshold}, value={self.value}{_inplace_suffix(self.inplace)}"


class Hardtanh(Module):
    """z clamped to [``min_val``, ``max_val``] (default [−1, 1]); shape unchanged.

    ``min_value``/``max_value`` are torch's deprecated spellings (FutureWarning).
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value: float | None = None, max_value: float | None = None) -> None:
        super().__init__()
        for old, new, value in (("min_value", "min_val", min_value), ("max_value", "max_val", max_value)):
            if value is not None:
                warnings.warn(f"keyword argument `{old}` is deprecated and renamed to `{new}`", FutureWarning,
                              stacklevel=2)
        self.min_val = min_val if min_value is None else min_value
        self.max_val = max_val if max_value is None else max_value
        self.inplace = inplace
        if self.max_val <= self.min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({self.max_val}) must be greater than min_val "
                             f"({self.min_val})")

    def forward(self, input: Tensor) -> Tensor:
        return F.hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}{_inplace_suffix(self.inplace)}"


class ReLU6(Hardtanh):
    """min(max(0, z), 6), elementwise (MobileNet); a Hardtanh on [0, 6], as in torch."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def forward(self, input: Tensor) -> Tensor:
        return F.relu6(input, self.inplace)

    def extra_repr(self) -> str:
        return _inplace_repr(self.inplace)


class Hardsigmoid(_InplaceActivation):
    """0 for z ≤ −3, 1 for z ≥ 3, z/6 + 1/2 between; shape unchanged. A piecewise-linear σ
    (MobileNetV3, Howard et al. 2019), with slope 1/6 where σ's is at most 1/4."""

    fn = staticmethod(F.hardsigmoid)

    def extra_repr(self) -> str:
        return ""  # torch's Hardsigmoid shows no inplace


class Hardswish(_InplaceActivation):
    """0 for z ≤ −3, z for z ≥ 3, z·(z + 3)/6 between (MobileNetV3); shape unchanged."""

    fn = staticmethod(F.hardswish)

    def extra_repr(self) -> str:
        return ""  # torch's Hardswish shows no inplace


class SELU(_InplaceActivation):
    """scale·(max(0, z) + min(0, α(e^z − 1))), the self-normalising ELU; shape unchanged. Its fixed
    α ≈ 1.6733 and scale ≈ 1.0507 keep activations near mean 0, variance 1 (Klambauer et al. 2017)."""

    fn = staticmethod(F.selu)


class CELU(_AlphaActivation):
    """max(0, z) + min(0, α(e^{z/α} − 1)), continuously differentiable for any α (Barron 2017); shape
    unchanged. With α = 1 it is ELU."""

    fn = staticmethod(F.celu)


class Mish(_InplaceActivation):
    """z·tanh(softplus(z)) (Misra 2019); shape unchanged. Smooth and not monotonic like SiLU, with
    its minimum about −0.309, at z ≈ −1.19."""

    fn = staticmethod(F.mish)


class Softsign(_Pointwise):
    """z / (1 + |z|) ∈ (−1, 1), elementwise; shape unchanged. Like tanh, but its tails approach ±1
    polynomially, as 1 − 1/|z|, not exponentially."""

    fn = staticmethod(F.softsign)


class LogSigmoid(_Pointwise):
    """log σ(z) = −softplus(−z), computed stably; shape unchanged. Its derivative is
    1 − σ(z) = σ(−z)."""

    fn = staticmethod(F.logsigmoid)


class Tanhshrink(_Pointwise):
    """z − tanh(z), elementwise; shape unchanged. Near 0 it grows as z³/3; far from 0 it is
    z − 1 or z + 1."""

    fn = staticmethod(F.tanhshrink)


class GLU(Module):
    """Gated linear unit a ⊙ σ(b) of the two halves of the input along ``dim``; that
    dimension halves."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return F.glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class MultiheadAttention(Module):
    """Multi-head attention (seed 000 §6.3, Vaswani et al. 2017), as ``torch.nn.MultiheadAttention``.

    MultiHead(Q, K, V) = Concat(head₁, …, head_h) Wᵒ with headᵢ = softmax(Q W_iᵠ (K W_iᵏ)ᵀ / √d_k) V W_iᵛ,
    d_k = embed_dim / num_heads (:func:`fukaku.nn.functional.multi_head_attention_forward`).

    Args:
        embed_dim: E, the model's width; num_heads must divide it.
        num_heads: h, parallel heads of E/h features each.
        dropout: dropout probability on the attention weights (in training).
        bias: biases of the input and output projections.
        add_bias_kv: learned biases ``bias_k``, ``bias_v`` (1, 1, E) appended to the keys and values.
        add_zero_attn: a key and value of zeros appended (after the projection).
        kdim, vdim: features of key and value (default E); when either differs from E the projections are
            ``q_proj_weight``, ``k_proj_weight``, ``v_proj_weight`` instead of the packed ``in_proj_weight``.
        batch_first: inputs and output ``(N, L, E)`` instead of ``(L, N, E)``.

    Parameters (PyTorch's names, so state dicts move both ways): ``in_proj_weight`` (3E, E) or the three
    ``*_proj_weight``, ``in_proj_bias`` (3E), ``out_proj`` (a
    :class:`~fukaku.nn.modules.linear.NonDynamicallyQuantizableLinear`), ``bias_k``, ``bias_v``.

    ``forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False)`` returns ``(output, weights)``: see the function for the
    masks (a boolean mask's True marks what is *excluded*, as in PyTorch).

    Example::

        >>> mha = nn.MultiheadAttention(64, 8, batch_first=True)
        >>> x = fk.randn(2, 10, 64)
        >>> out, w = mha(x, x, x)            # out (2, 10, 64), w (2, 10, 10)
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim: int | None = None,
                 vdim: int | None = None, batch_first: bool = False, device=None, dtype=None) -> None:
        if not isinstance(embed_dim, int) or not isinstance(num_heads, int) or embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        super().__init__()
        factory = factory_kwargs(device, dtype, "MultiheadAttention")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise ValueError(f"MultiheadAttention: embed_dim must be divisible by num_heads, got embed_dim={embed_dim} "
                             f"and num_heads={num_heads}; choose num_heads among the divisors of {embed_dim}")
        if not self._qkv_same_embed_dim:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        if add_bias_kv:
            self.bias_k = Parameter(empty(1, 1, embed_dim, **factory))
            self.bias_v = Parameter(empty(1, 1, embed_dim, **factory))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """PyTorch's initialisation: Xavier-uniform projections, zero biases, Xavier-normal bias_k/bias_v."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Tensor | None = None,
                need_weights: bool = True, attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        separate = not self._qkv_same_embed_dim
        return _multi_head_attention(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias, self.bias_k,
            self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias, self.training,
            key_padding_mask, need_weights, attn_mask, separate, self.q_proj_weight, self.k_proj_weight,
            self.v_proj_weight, None, None, average_attn_weights, is_causal,
            batch_first=self.batch_first and query.ndim == 3)
