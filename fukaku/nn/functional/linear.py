"""The affine map of a fully connected layer (seed 000 §6.1.2), ``linear``, and the bilinear map
``bilinear``, checked at the API boundary.

The graph node of ``linear`` is :class:`fukaku.ops.linear.Affine`; ``bilinear`` is one einsum.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...ops._util import autocast_will_cast, fmt
from ...ops.linalg import einsum
from ...ops.linear import Affine
from ...tensor import Tensor


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The affine map of a fully connected layer, y = x Wᵀ + b.

    Seed 000 §6.1.2 writes a⁽ˡ⁾ = W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾ with W of shape d_l × d_{l−1}; with the samples of
    a batch as rows that is x Wᵀ + b, and W keeps PyTorch's layout ``(out_features, in_features)``.

    Shapes: input ``(*, in_features)``, weight ``(out_features, in_features)``, bias
    ``(out_features,)`` → ``(*, out_features)``. Input and weight must share a floating dtype.
    """
    if weight.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-d (out_features, in_features), got shape {fmt(weight.shape)}")
    if input.ndim == 0 or input.shape[-1] != weight.shape[1]:
        raise ShapeError(
            f"linear: input of shape {fmt(input.shape)} does not match weight of shape {fmt(weight.shape)}: "
            f"the input's last dimension must be in_features = {weight.shape[1]}. Reshape the input to "
            f"(*, {weight.shape[1]}) (e.g. nn.Flatten() before the layer), or build the layer with "
            f"in_features={input.shape[-1] if input.ndim else 1}"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"linear: bias of shape {fmt(bias.shape)} does not match weight of shape "
                         f"{fmt(weight.shape)}: expected ({weight.shape[0]},)")
    for t, name in ((input, "input"), (bias, "bias")):
        if t is not None and t.dtype != weight.dtype and not autocast_will_cast(t):
            raise TypeError(f"linear: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; convert one "
                            f"of them (x.float() / x.double(), or model.float() / model.double())")
    if bias is None:
        return Affine.apply(input, weight)
    return Affine.apply(input, weight, bias)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """The bilinear map y_o = x₁ᵀ A_o x₂ + b_o, for every sample, as ``torch.nn.functional.bilinear``.

    Shapes: input1 ``(*, in1_features)`` and input2 ``(*, in2_features)`` with the same leading
    dimensions, weight ``(out_features, in1_features, in2_features)``, bias ``(out_features,)``
    → ``(*, out_features)``. One einsum node, so every derivative follows from einsum's rules.

    Example::

        >>> F.bilinear(fk.ones(4, 2), fk.ones(4, 3), fk.ones(5, 2, 3)).shape   # (4, 5), each entry 6
    """
    if weight.ndim != 3:
        raise ShapeError(f"bilinear: weight must be 3-d (out_features, in1_features, in2_features), got shape "
                         f"{fmt(weight.shape)}")
    if input1.ndim != input2.ndim:
        raise ShapeError(f"bilinear: input dimensions do not match: input1 of shape {fmt(input1.shape)} has "
                         f"{input1.ndim} but input2 of shape {fmt(input2.shape)} has {input2.ndim}; give both the "
                         "same leading (batch) dimensions")
    if input1.ndim == 0 or input1.shape[:-1] != input2.shape[:-1]:
        raise ShapeError(f"bilinear: input batch dimensions do not match: input1 of shape {fmt(input1.shape)} and "
                         f"input2 of shape {fmt(input2.shape)} must agree in every dimension but the last")
    for x, name, dim in ((input1, "input1", 1), (input2, "input2", 2)):
        if x.shape[-1] != weight.shape[dim]:
            raise ShapeError(f"bilinear: {name} of shape {fmt(x.shape)} does not match weight of shape "
                             f"{fmt(weight.shape)}: its last dimension must be in{dim}_features = {weight.shape[dim]}")
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ShapeError(f"bilinear: bias of shape {fmt(bias.shape)} does not match weight of shape "
                         f"{fmt(weight.shape)}: expected ({weight.shape[0]},)")
    for t, name in ((input1, "input1"), (input2, "input2"), (bias, "bias")):
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(f"bilinear: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; convert one "
                            f"of them (x.float() / x.double(), or model.float() / model.double())")
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias
