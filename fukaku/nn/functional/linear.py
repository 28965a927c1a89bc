"""The affine map of a fully connected layer (seed 000 §6.1.2): ``linear``, checked at the API boundary.

The graph node is :class:`fukaku.ops.linear.Affine`.
"""
from __future__ import annotations

from ...errors import ShapeError
from ...ops._util import fmt
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
        if t is not None and t.dtype != weight.dtype:
            raise TypeError(f"linear: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; convert one "
                            f"of them (x.float() / x.double(), or model.float() / model.double())")
    if bias is None:
        return Affine.apply(input, weight)
    return Affine.apply(input, weight, bias)
