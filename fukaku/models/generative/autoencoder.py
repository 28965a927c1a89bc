"""The undercomplete autoencoder — seed 004 §3.5: an encoder h = f(x) and a decoder x̂ = g(h), trained to make
ℓ(x, g(f(x))) small; with dim h < dim x (undercomplete) the code must keep what matters most of x. A linear
one (no nonlinearity, squared error) learns the subspace of the first principal components; a deep (stacked)
one, hidden layers on both sides, learns a curved version of it. Regularised autoencoders (seed 004 §3.5:
ℓ + ηΩ(h)) subclass :class:`Autoencoder` and state their Ω in :meth:`Autoencoder.penalty`: sparse
(``sparse.py``), denoising (``denoising.py``), contractive (``contractive.py``).
"""
from __future__ import annotations

from collections.abc import Sequence

from ...errors import ShapeError
from ...nn import functional as F
from ...nn.modules.module import Module
from ...ops.activation import sigmoid
from ...tensor import Tensor, zeros
from ..classical.mlp import MLP, ActivationSpec

__all__ = ["Autoencoder"]

RECONSTRUCTIONS = ("mse", "bce")


def check_features(where: str, x: Tensor, features: int) -> None:
    """Raise a ShapeError naming ``where`` unless ``x`` is a batch ``(N, features)``."""
    if x.dim() != 2 or x.shape[1] != features:
        raise ShapeError(f"{where}: input must have shape (N, {features}) (N samples of {features} features), got "
                         f"{tuple(x.shape)}; flatten images first, e.g. x.reshape(len(x), -1)")


class Autoencoder(Module):
    """An autoencoder x → h = f(x) → x̂ = g(h) (seed 004 §3.5), f and g multilayer perceptrons.

    Args:
        sizes: ``[d, h_1, …, k]``: the input width d, the encoder's hidden widths and the code width k; the
            decoder mirrors them (``[k, …, h_1, d]``). ``[d, k]`` is one layer each way; ``k < d`` is
            undercomplete, ``k ≥ d`` has no bottleneck.
        activation: the hidden layers' nonlinearity (a name of :class:`~fukaku.models.MLP`); ``"identity"``
            with hidden layers gives a deep *linear* autoencoder (a one-layer one is linear anyway with the
            default code and output activations).
        code_activation: applied to the code (``None``: linear codes; ``"sigmoid"`` for codes in (0, 1)).
        output_activation: applied to the decoder's output with ``reconstruction="mse"`` (e.g. ``"sigmoid"``).
        reconstruction: ``"mse"``: ℓ = ‖x − x̂‖², summed over the features; ``"bce"``: the decoder outputs
            logits and ℓ = Σ_i binary cross-entropy(x_i, σ(logit_i)), for inputs in [0, 1] (``forward``
            returns σ(logits)). Either is averaged over the batch in :meth:`loss`.
        bias, dtype: for every ``nn.Linear``.

    Attributes:
        encoder, decoder: the two :class:`~fukaku.models.MLP` (state-dict keys ``encoder.0.weight`` …).

    Shape:
        input ``(N, d)``; :meth:`encode` ``(N, k)``; ``forward`` ``(N, d)``.

    Examples:
        >>> ae = Autoencoder([64, 8], activation="identity")   # linear: spans the first 8 principal components
        >>> deep = Autoencoder([64, 32, 8])                       # 64 → 32 → 8 → 32 → 64, ReLU hidden layers
        >>> loss = deep.loss(fk.rand(16, 64)); loss.backward()
    """

    weight: float = 0.0  # η, the weight of the penalty Ω in the loss (the regularised subclasses set it)

    def __init__(self, sizes: Sequence[int], activation: ActivationSpec = "relu",
                 code_activation: ActivationSpec = None, output_activation: ActivationSpec = None,
                 reconstruction: str = "mse", bias: bool = True, dtype=None) -> None:
        super().__init__()
        sizes = [int(s) for s in sizes]
        name = type(self).__name__
        if len(sizes) < 2:
            raise ValueError(f"{name}: sizes must list the input width, any hidden widths and the code width "
                             f"(at least 2 entries), got {sizes}")
        if reconstruction not in RECONSTRUCTIONS:
            raise ValueError(f"{name}: reconstruction must be one of {RECONSTRUCTIONS}, got {reconstruction!r}")
        if reconstruction == "bce" and output_activation is not None:
            raise ValueError(f"{name}: reconstruction='bce' makes the decoder output logits; leave "
                             f"output_activation=None (forward applies the sigmoid)")
        self.sizes, self.reconstruction = sizes, reconstruction
        self.in_features, self.code_features = sizes[0], sizes[-1]
        self.encoder = MLP(sizes, activation, output_activation=code_activation, bias=bias, dtype=dtype)
        self.decoder = MLP(sizes[::-1], activation, output_activation=output_activation, bias=bias, dtype=dtype)

    def encode(self, x: Tensor) -> Tensor:
        """The code h = f(x), ``(N, k)``."""
        check_features(f"{type(self).__name__}.encode", x, self.in_features)
        return self.encoder(x)

    def decode(self, h: Tensor) -> Tensor:
        """The reconstruction x̂ = g(h) in the data's space (σ of the logits for ``"bce"``), ``(N, d)``."""
        out = self.decoder(h)
        return sigmoid(out) if self.reconstruction == "bce" else out

    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))

    def reconstruction_errors(self, output: Tensor, x: Tensor) -> Tensor:
        """ℓ(x, x̂) of each sample, ``(N,)``, from the decoder's raw ``output`` (logits for ``"bce"``)."""
        if self.reconstruction == "bce":
            return F.binary_cross_entropy_with_logits(output, x, reduction="none").sum(1)
        return ((output - x) ** 2).sum(1)

    def reconstruction_error(self, x: Tensor) -> Tensor:
        """ℓ(x, g(f(x))) of each sample of ``x``, ``(N,)`` (no corruption, no penalty)."""
        return self.reconstruction_errors(self.decoder(self.encode(x)), x)

    def corrupt(self, x: Tensor) -> Tensor:
        """What the encoder sees of ``x`` in :meth:`loss`: ``x`` itself (the denoising autoencoder overrides)."""
        return x

    def penalty(self, inputs: Tensor, codes: Tensor) -> Tensor:
        """The regulariser Ω of seed 004 §3.5 (ℓ + ηΩ), from the encoder's inputs and codes; 0 here."""
        return zeros((), dtype=codes.dtype)

    def loss(self, x: Tensor) -> Tensor:
        """The training loss: mean over the batch of ℓ(x, g(f(x̃))) plus η·Ω, x̃ = :meth:`corrupt` (x)."""
        check_features(f"{type(self).__name__}.loss", x, self.in_features)
        inputs = self.corrupt(x)
        codes = self.encoder(inputs)
        error = self.reconstruction_errors(self.decoder(codes), x).mean()
        return error + self.weight * self.penalty(inputs, codes) if self.weight else error

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, reconstruction={self.reconstruction!r}"
