"""The contractive autoencoder — seed 004 §3.5 (a regularised autoencoder, Ω depending on the encoder's
derivatives; Rifai et al. 2011): Ω = ‖∂h/∂x‖_F², the squared Frobenius norm of the encoder's Jacobian at each
input, averaged over the batch. The penalty makes the code insensitive to small changes of x in every direction
except those the reconstruction needs (the directions along the data).

:func:`contractive_penalty` computes it for any encoder through fukaku's double backward: the batch is
replicated once per code unit j, the rows of copy j get the output gradient e_j, and one
``autograd.grad(..., create_graph=True)`` returns every row ∂h_j(x_n)/∂x_n of every Jacobian at once —
differentiable again, so the penalty's gradient reaches the encoder's weights. (The encoder must treat the
samples independently: no batch normalisation.) For one sigmoid layer h = σ(Wx + b) there is a closed form,
∂h_j/∂x_i = h_j(1 − h_j) W_ji, so ‖J‖_F² = Σ_j (h_j(1 − h_j))² ‖W_j·‖² (:func:`sigmoid_contractive_penalty`).
"""
from __future__ import annotations

from collections.abc import Sequence

from ...autograd import grad
from ...autograd.grad_mode import enable_grad, is_grad_enabled
from ...nn import Linear
from ...nn.modules.module import Module
from ...tensor import Tensor, eye
from .autoencoder import Autoencoder

__all__ = ["ContractiveAutoencoder", "contractive_penalty", "sigmoid_contractive_penalty"]

METHODS = ("autograd", "closed_form")


def contractive_penalty(encoder: Module, x: Tensor) -> Tensor:
    """‖∂h/∂x‖_F² of ``h = encoder(x)`` at each row of ``x``, averaged over the batch (seed 004 §3.5).

    Args:
        encoder: maps ``(N, d)`` to ``(N, k)``, each row from its own input row.
        x: ``(N, d)``.

    Returns:
        A scalar, differentiable with respect to the encoder's parameters when gradients are enabled
        (computed with ``autograd.grad(..., create_graph=True)``).
    """
    n, create = x.shape[0], is_grad_enabled()   # under no_grad: the value only
    with enable_grad():
        xs = x.detach().requires_grad_() if not x.requires_grad else x
        k = encoder(xs[:1]).shape[1]
        copies = xs.repeat(k, 1)                                   # (k·N, d): copy j is row block j
        codes = encoder(copies)                                    # (k·N, k)
        picks = eye(k, dtype=codes.dtype).repeat_interleave(n, dim=0)   # e_j on the rows of copy j
        (rows,) = grad(codes, copies, picks, create_graph=create)
    return (rows ** 2).sum() / n


def sigmoid_contractive_penalty(linear: Linear, x: Tensor) -> Tensor:
    """The closed form of :func:`contractive_penalty` for the encoder h = σ(Wx + b), ``linear`` holding W, b:
    the batch mean of Σ_j (h_j(1 − h_j))² Σ_i W_ji²."""
    h = (x @ linear.weight.mT + (0 if linear.bias is None else linear.bias)).sigmoid()
    return ((h * (1 - h)) ** 2 @ (linear.weight ** 2).sum(1)).mean()


class ContractiveAutoencoder(Autoencoder):
    """A contractive autoencoder (seed 004 §3.5): the loss ℓ + η‖∂h/∂x‖_F².

    Args:
        sizes: as :class:`Autoencoder`.
        weight: η.
        method: ``"autograd"`` (any encoder, through double backward: :func:`contractive_penalty`) or
            ``"closed_form"`` (one sigmoid layer, ``sizes=[d, k]``: :func:`sigmoid_contractive_penalty`).
        code_activation: default ``"sigmoid"``.
        **kwargs: the other options of :class:`Autoencoder`.

    Examples:
        >>> cae = ContractiveAutoencoder([64, 16], weight=0.1)
        >>> cae.loss(fk.rand(8, 64)).backward()       # second derivatives reach the encoder's weights
    """

    def __init__(self, sizes: Sequence[int], weight: float = 0.1, method: str = "autograd",
                 code_activation="sigmoid", **kwargs) -> None:
        if method not in METHODS:
            raise ValueError(f"ContractiveAutoencoder: method must be one of {METHODS}, got {method!r}")
        if method == "closed_form" and (len(sizes) != 2 or code_activation != "sigmoid"):
            raise ValueError("ContractiveAutoencoder: the closed form holds for one sigmoid layer: sizes=[d, k] and "
                             f"code_activation='sigmoid' (got sizes={list(sizes)}, code_activation="
                             f"{code_activation!r}); use method='autograd' for other encoders")
        if weight < 0:
            raise ValueError(f"ContractiveAutoencoder: weight must be >= 0, got {weight}")
        super().__init__(sizes, code_activation=code_activation, **kwargs)
        self.weight, self.method = float(weight), method

    def penalty(self, inputs: Tensor, codes: Tensor) -> Tensor:
        if self.method == "closed_form":
            return sigmoid_contractive_penalty(self.encoder[0], inputs)
        return contractive_penalty(self.encoder, inputs)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, weight={self.weight}, method={self.method!r}"
