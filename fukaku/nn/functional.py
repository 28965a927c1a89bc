"""``fukaku.nn.functional``: stateless functions with ``torch.nn.functional``'s names.

Every layer of :mod:`fukaku.nn` is a thin Module over one of these functions: the Module holds the
parameters and buffers, the function does the arithmetic. The elementwise activations live in
:mod:`fukaku.ops.activation` and are re-exported here; this file adds the functions that take
parameters (linear, prelu, batch_norm, layer_norm, embedding), the perceptron's step, and dropout.

prelu and dropout are built from existing tensor ops, so every derivative comes from those ops.
The others define a :class:`~fukaku.autograd.Function` with forward, vjp and jvp, as the core ops
do: step and the embedding lookup because they need their own rule, linear and the
normalisations because one graph node instead of a dozen makes training-sized layers as fast as
PyTorch's (benchmark in the report of issue 3). Their rules are written with tensor ops, so second
derivatives and forward-over-reverse work as for any core op.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..autograd.function import Function, constant
from ..autograd.grad_mode import state
from ..errors import ShapeError
from ..ops.activation import elu, gelu, leaky_relu, log_softmax, one_hot, relu, silu, softmax, softplus
from ..ops.elementwise import _floating, _Unary, rsqrt, sigmoid, tanh, where
from ..ops.index import GetItem, IndexAccumulate
from ..ops.linalg import matmul
from ..ops.loss import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, hinge_embedding_loss,
                        huber_loss, kl_div, l1_loss, mse_loss, multi_margin_loss, nll_loss)
from ..ops.shape import broadcast_to, pad, reshape, sum_to
from ..tensor import Tensor, bump_version, default_generator


def _shape(shape) -> str:
    return str(tuple(shape))


# ----------------------------------------------------------------------------- linear (seed 000 §6.1.2)
class Linear(Function):
    """y = x Wᵀ (+ b) as one node of the graph (a composition of transpose, matmul and add would
    record three, and the per-node cost dominates small layers).

    vjp: ∂L/∂x = G W, ∂L/∂W = Gᵀ x (over all leading dims), ∂L/∂b = Σ G (seed 000 §6.1.2:
    ∇_W L = δ hᵀ, ∇_b L = δ). jvp: ẋ Wᵀ + x Ẇᵀ + ḃ. Both are written with tensor ops, so they
    are differentiable again.
    """

    def forward(self, x, w, b=None):
        self.save(x, w)
        out = np.matmul(x.data, w.data.T)
        if b is not None:
            out += b.data  # out is a fresh array
        return out

    def vjp(self, grad):
        x, w = self.saved
        needs = self.needs_input_grad
        gx = matmul(grad, w) if needs[0] else None
        gw = None
        if needs[1]:
            g2 = grad if grad.ndim == 2 else reshape(grad, (-1, w.shape[0]))
            x2 = x if x.ndim == 2 else reshape(x, (-1, w.shape[1]))
            gw = matmul(g2.mT, x2)
        if len(needs) == 2:
            return gx, gw
        gb = None
        if needs[2]:
            gb = grad if grad.ndim == 1 else grad.sum(tuple(range(grad.ndim - 1)))
        return gx, gw, gb

    def jvp(self, dx, dw, db=None):
        x, w = self.saved
        out = matmul(dx, w.mT) if dx is not None else None
        if dw is not None:
            term = matmul(x, dw.mT)
            out = term if out is None else out + term
        if db is not None:
            out = broadcast_to(db, x.shape[:-1] + (w.shape[0],)) if out is None else out + db
        return out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The affine map of a fully connected layer, y = x Wᵀ + b.

    Seed 000 §6.1.2 writes a⁽ˡ⁾ = W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾ with W of shape d_l × d_{l−1}; with the samples of
    a batch as rows that is x Wᵀ + b, and W keeps PyTorch's layout ``(out_features, in_features)``.

    Shapes: input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)`` → ``(*, out_features)``. Input and weight must share a floating dtype.
    """
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-d (out_features, in_features), got shape {_shape(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {_shape(input.shape)} does not match weight of shape {_shape(weight.shape)}: "
            f"the input's last dimension must be in_features = {weight.shape[1]}. Reshape the input to "
            f"(*, {weight.shape[1]}) (e.g. nn.Flatten() before the layer), or build the layer with "
            f"in_features={input.shape[-1] if input.ndim else 1}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {_shape(bias.shape)} does not match weight of shape "
                         f"{_shape(weight.shape)}: expected ({weight.shape[0]},)")
    for t, name in ((input, "input"), (bias, "bias")):
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(f"linear: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; convert one "
                            f"of them (x.float() / x.double(), or model.float() / model.double())")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)


# ----------------------------------------------------------------------------- activations
class Step(_Unary):
    """Heaviside step of the classical perceptron (seed 000 §6.1.1): 1 where x ≥ 0, else 0.

    Its derivative is 0 wherever it exists (and undefined at 0), so the gradient is zero: the
    perceptron learns by its error-correction rule, not by back-propagation. NaN maps to 0, as
    ``torch.heaviside(x, 1)`` does.
    """

    def forward(self, x):
        self.dtype = x.data.dtype
        return (x.data >= 0).astype(x.data.dtype)

    def derivative(self):
        return constant(np.zeros((), self.dtype))


def step(input: Tensor) -> Tensor:
    """y = 1 if x ≥ 0 else 0, elementwise, in the input's floating dtype (seed 000 §6.1.1).

    Equal to ``torch.heaviside(x, torch.tensor(1.))``; unlike it, the backward pass gives zeros
    instead of an error.
    """
    return Step.apply(_floating(input))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU (He et al. 2015; seed 000 §6.1.3): x for x > 0, a·x otherwise, a learnable.

    ``weight`` has one element (a slope shared by every channel) or ``C`` elements, one per
    channel of an input ``(N, C, *)`` (dimension 1, as in PyTorch; a 1-d input has one channel).
    Differentiable in the input and in the slopes (the slope's gradient is Σ g·x over x ≤ 0).
    """
    x = _floating(input)
    n = weight.numel()
    if n == 1:
        a = reshape(weight, ())
    else:
        channels = x.shape[1] if x.ndim >= 2 else 1
        if n != channels:
            raise ShapeError(
                f"prelu: weight of shape {_shape(weight.shape)} has {n} slopes but the input of shape "
                f"{_shape(x.shape)} has {channels} channel(s) in dimension 1; use PReLU(num_parameters={channels}) "
                "or a single shared slope (num_parameters=1)"
            )
        a = reshape(weight, (n,) + (1,) * (x.ndim - 2))
    return where(x > 0, x, a * x)


# ----------------------------------------------------------------------------- dropout (seed 000 §6.1.4)
def _check_probability(p: float, op: str) -> float:
    if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{op}: dropout probability has to be between 0 and 1, but got {p!r}")
    return float(p)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Inverted dropout (seed 000 §6.1.4): in training each element becomes 0 with probability
    ``p`` and is scaled by 1/(1 − p) otherwise, so E[h̃] = h; outside training it is the identity.

    The mask is drawn from fukaku's generator (``fukaku.manual_seed`` makes it reproducible).
    ``inplace`` is accepted for PyTorch compatibility: fukaku's autograd records no in-place op,
    so the result is always a new tensor (with the same values). Shape: any → the same.
    """
    p = _check_probability(p, "dropout")
    if not training or p == 0.0 or input.numel() == 0:
        return input
    x = _floating(input)
    if p == 1.0:
        return x * constant(np.zeros((), x.dtype))
    # float32 uniforms are enough to resolve p and take half the time of float64 ones
    keep = default_generator().random(x.shape, dtype=np.float32) >= p
    mask = keep.astype(x.dtype)
    mask *= x.dtype.type(1.0 / (1.0 - p))
    return x * constant(mask)


# ----------------------------------------------------------------------------- normalisation (seed 000 §6.1.4)
class Normalize(Function):
    """y = γ·x̂ + β with x̂ = (x − μ)·r, r = 1/√(σ² + ε), μ and the biased σ² over ``axes``, as one
    node (:func:`_normalize` computes ``centred`` = x − μ and ``var`` = σ² and passes them in).
    Inputs: x, and γ and β (optional) already shaped to broadcast against x.

    The Jacobian of x ↦ x̂ is r·(I − 11ᵀ/n − x̂x̂ᵀ/n) within each group of n normalised values; it is
    symmetric, so the vjp and the jvp apply the same map, :func:`_project`. Rules:
    vjp ∂L/∂x = project(g·γ), ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g (sums over the broadcast dims);
    jvp ẏ = project(ẋ)·γ + x̂·γ̇ + β̇.

    With grad mode on (double backward) or a forward-mode level active, the rules run on tensor
    ops (x̂ and r rebuilt from x when x is differentiated), so that they are differentiable
    themselves; in a plain backward they run on the forward pass's arrays, without graph nodes.
    """

    def forward(self, x, *params):
        self.save(x, *params)
        self.rstd = 1.0 / np.sqrt(self.var + self.eps)
        self.xhat = self.centred * self.rstd
        self.centred = self.var = None  # only r and x̂ are needed later
        weight, bias = self._split(params)
        out = self.xhat
        if weight is not None:
            out = out * weight.data
        if bias is not None:
            out = out + bias.data
        return out

    def _split(self, params):
        """(γ, β) from the inputs after x, either of them None."""
        weight = params[0] if self.has_weight else None
        bias = params[-1] if len(params) > self.has_weight else None
        return weight, bias

    def _factors(self):
        """(x̂, r, γ): arrays in a plain backward, tensors when the rule must be differentiable."""
        x, *params = self.saved
        weight, _ = self._split(params)
        level = state.forward_level
        if not state.grad_enabled and not level:
            return self.xhat, self.rstd, None if weight is None else weight.data
        if (state.grad_enabled and x.requires_grad) or (level and x._tangent is not None and x._tangent[0] == level):
            centred = x - x.mean(self.axes, keepdim=True)
            rstd = rsqrt((centred * centred).mean(self.axes, keepdim=True) + self.eps)
            return centred * rstd, rstd, weight
        return constant(self.xhat), constant(self.rstd), weight

    def vjp(self, grad):
        xhat, rstd, weight = self._factors()
        g = grad.data if isinstance(xhat, np.ndarray) else grad
        needs = self.needs_input_grad
        grads = [_project(g if weight is None else g * weight, xhat, rstd, self.axes) if needs[0] else None]
        if weight is not None:
            grads.append(_reduce_to(g * xhat, weight.shape) if needs[1] else None)
        if len(needs) > 1 + self.has_weight:
            grads.append(_reduce_to(g, self.saved[-1].shape) if needs[-1] else None)
        return tuple(constant(t) if isinstance(t, np.ndarray) else t for t in grads)

    def jvp(self, dx, *dparams):
        xhat, rstd, weight = self._factors()
        dweight, dbias = self._split(dparams)
        terms = []
        if dx is not None:
            dxhat = _project(dx, xhat, rstd, self.axes)
            terms.append(dxhat if weight is None else dxhat * weight)
        if dweight is not None:
            terms.append(xhat * dweight)
        if dbias is not None:
            terms.append(dbias)
        out = terms[0]
        for t in terms[1:]:
            out = out + t
        return broadcast_to(out, xhat.shape)


def _project(v, xhat, rstd, axes):
    """r·(v − mean(v) − x̂·mean(v·x̂)) over ``axes``, for arrays or for tensors (one formula for both)."""
    if isinstance(v, Tensor):
        def mean(a):
            return a.mean(axes, keepdim=True)
    else:
        scale = 1.0 / math.prod(v.shape[a] for a in axes)

        def mean(a):
            return np.add.reduce(a, axis=axes, keepdims=True) * scale
    return rstd * (v - mean(v) - xhat * mean(v * xhat))


def _reduce_to(a, shape: tuple[int, ...]):
    """Sum ``a`` down to ``shape`` (the adjoint of broadcasting), for an array or a tensor."""
    if isinstance(a, Tensor):
        return sum_to(a, shape)
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape) if n == 1 and a.shape[lead + i] != 1)
    return np.add.reduce(a, axis=axes, keepdims=True).reshape(shape) if axes else a


def _normalize(x: Tensor, axes: tuple[int, ...], eps: float, weight: Tensor | None = None,
               bias: Tensor | None = None) -> tuple[Tensor, np.ndarray, np.ndarray]:
    """γ·(x − μ)/√(σ² + ε) + β over ``axes`` (γ and β broadcast against x, or None); returns
    (y, μ, σ²), μ and the biased σ² as arrays with the size-1 dims kept (for running statistics)."""
    # add.reduce times 1/n: np.mean's generic machinery costs more than the sum on layer-sized arrays
    scale = 1.0 / math.prod(x.shape[a] for a in axes)
    mean = np.add.reduce(x.data, axis=axes, keepdims=True) * scale
    centred = x.data - mean
    var = np.add.reduce(centred * centred, axis=axes, keepdims=True) * scale
    params = [t for t in (weight, bias) if t is not None]
    out = Normalize.apply(x, *params, axes=axes, eps=eps, centred=centred, var=var,
                          has_weight=weight is not None)
    return out, mean, var


def _channel_param(t: Tensor | None, channels: int, name: str, op: str, x: Tensor) -> None:
    if t is not None and t.numel() != channels:
        raise ShapeError(f"{op}: {name} of shape {_shape(t.shape)} should have {channels} elements, one per channel "
                         f"of the input of shape {_shape(x.shape)} (channels are dimension 1)")


def _check_affine_dtype(x: Tensor, weight: Tensor | None, bias: Tensor | None, op: str) -> None:
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.dtype != x.dtype:
            raise TypeError(f"{op}: {name} has dtype {t.dtype} but the input has dtype {x.dtype}; convert one of them "
                            "(x.float() / x.double(), or model.float() / model.double())")


def _moving_average_(running: Tensor, value: np.ndarray, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·value, in place (a buffer: no graph)."""
    data = running.data
    data *= 1.0 - momentum
    data += momentum * value.reshape(data.shape)
    bump_version(running)


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalisation (Ioffe & Szegedy 2015; seed 000 §6.1.4), per channel c of an input
    ``(N, C)`` or ``(N, C, L)`` (any ``(N, C, *)``):

        x̂ = (x − μ_B)/√(σ_B² + ε),   y = γ·x̂ + β

    ``training=True``: μ_B and the biased σ_B² come from the mini-batch (over N and the trailing
    dims), and running statistics, when given, are updated in place as in PyTorch:
    running ← (1 − momentum)·running + momentum·batch statistic, with the *unbiased* batch
    variance for ``running_var``. ``training=False``: the running statistics normalise (the
    population statistics used at inference, seed 004 §3.6). ``weight`` (γ) and ``bias`` (β) are
    ``(C,)`` or None.
    """
    x = _floating(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got shape {_shape(x.shape)}")
    channels = x.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"), (weight, "weight"), (bias, "bias")):
        _channel_param(t, channels, name, "batch_norm", x)
    _check_affine_dtype(x, weight, bias, "batch_norm")
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        if training and t is not None and t.requires_grad:
            raise RuntimeError(f"batch_norm: {name} must not require grad (it is updated in place); pass a buffer "
                               "such as fukaku.zeros(C)")
    param_shape = (channels,) + (1,) * (x.ndim - 2)  # broadcasts against (N, C, *) from the right
    weight = None if weight is None else reshape(weight, param_shape)
    bias = None if bias is None else reshape(bias, param_shape)
    if training:
        count = x.numel() // channels if channels else 0
        if count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                             f"{_shape(x.shape)}: use a batch of 2 or more samples, or call model.eval()")
        y, mean, var = _normalize(x, (0,) + tuple(range(2, x.ndim)), eps, weight, bias)
        if running_mean is not None:
            _moving_average_(running_mean, mean, momentum)
        if running_var is not None:
            _moving_average_(running_var, var * (count / (count - 1)), momentum)
        return y
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are required when training=False; pass "
                         "training=True to normalise with the batch statistics")
    y = (x - reshape(running_mean, param_shape)) * rsqrt(reshape(running_var, param_shape) + eps)
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y


def _normalized_shape(normalized_shape) -> tuple[int, ...]:
    if isinstance(normalized_shape, (int, np.integer)):
        return (int(normalized_shape),)
    return tuple(int(s) for s in normalized_shape)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Layer normalisation (Ba et al. 2016; seed 000 §6.1.4, seed 003): the BatchNorm formula with
    μ and the biased σ² taken over the features of each sample, i.e. the trailing dimensions
    ``normalized_shape``, so a sample's output does not depend on the rest of the batch.

    Shapes: input ``(*, *normalized_shape)``; weight and bias ``normalized_shape`` or None.
    """
    shape = _normalized_shape(normalized_shape)
    x = _floating(input)
    k = len(shape)
    if k == 0 or k > x.ndim or tuple(x.shape[x.ndim - k:]) != shape:
        raise ShapeError(
            f"layer_norm: given normalized_shape={shape}, expected an input of shape "
            f"(*, {', '.join(map(str, shape))}), "
            f"got shape {_shape(x.shape)}: normalized_shape names the trailing (feature) dimensions"
        )
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != shape:
            raise ShapeError(f"layer_norm: {name} of shape {_shape(t.shape)} must have normalized_shape {shape}")
    _check_affine_dtype(x, weight, bias, "layer_norm")
    return _normalize(x, tuple(range(x.ndim - k, x.ndim)), eps, weight, bias)[0]


# ----------------------------------------------------------------------------- embedding
class EmbeddingLookup(Function):
    """Rows of a table: ``weight[index]``. The vjp adds each output row's gradient back into the
    row it came from (repeated indices accumulate) and leaves the ``padding_idx`` row without
    gradient, as PyTorch does; the jvp looks the tangent rows up the same way."""

    def forward(self, weight):
        self.weight_shape = weight.data.shape
        return weight.data[self.index]

    def vjp(self, grad):
        if self.padding_idx is not None:
            keep = (self.index != self.padding_idx)[..., None].astype(grad.data.dtype)
            grad = grad * constant(keep)
        return IndexAccumulate.apply(grad, key=(self.index,), basic=False, shape=self.weight_shape)

    def jvp(self, dweight):
        return GetItem.apply(dweight, key=(self.index,), basic=False)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Look up rows of ``weight``: integer indices ``(*)`` with a table ``(num_embeddings,
    embedding_dim)`` give ``(*, embedding_dim)``. The row ``padding_idx`` (negative counts from
    the end) receives no gradient, so it stays as it is (zero, in an ``Embedding`` layer)."""
    if weight.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-d (num_embeddings, embedding_dim), "
                         f"got shape {_shape(weight.shape)}")
    index = input.data if isinstance(input, Tensor) else np.asarray(input)
    if index.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer (int64) tensor, got dtype {index.dtype}; "
                        "convert with .long()")
    rows = weight.shape[0]
    if index.size and (index.min() < 0 or index.max() >= rows):
        raise IndexError(f"embedding: index out of range: indices span [{index.min()}, {index.max()}] but the table "
                         f"has {rows} rows (valid indices 0..{rows - 1})")
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise ValueError(f"embedding: padding_idx must be within [-{rows}, {rows - 1}] for a table of {rows} rows, "
                             f"got {padding_idx}")
        padding_idx = padding_idx % rows
    return EmbeddingLookup.apply(weight, index=index, padding_idx=padding_idx)


__all__ = ["linear", "step", "prelu", "dropout", "batch_norm", "layer_norm", "embedding",
           "elu", "gelu", "leaky_relu", "log_softmax", "one_hot", "relu", "silu", "softmax", "softplus",
           "sigmoid", "tanh", "pad",
           "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "cross_entropy", "nll_loss", "kl_div", "multi_margin_loss", "hinge_embedding_loss"]
