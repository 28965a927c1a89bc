"""Linear regression: the identity neuron — seed 000 §6.1.1 (L7–91).

With the identity activation a neuron predicts ŷ = Wx + b, and the squared loss

    L(W, b) = (1/N) Σ_i ‖y_i − (W x_i + b)‖²

is minimised by ordinary least squares. Two routes reach it: the closed form (absorb the bias,
X̃ = (X, 1), and solve min_θ ‖X̃θ − Y‖², here by ``numpy.linalg.lstsq``, which also handles a
rank-deficient X̃ with the minimum-norm solution), and gradient descent on L, which the textbook
uses for every network — with step 1/L, L = 2·λ_max(X̃ᵀX̃)/N the loss's smoothness constant, it
converges to the same θ.
"""
from __future__ import annotations

import numpy as np

from ...autograd.grad_mode import no_grad
from ...errors import ShapeError
from ...nn import functional as F
from ...tensor import Tensor, bump_version, wrap
from . import _inputs
from ._descent import FitResult, descend, lipschitz_step
from ._neurons import AffineNeurons


class LinearRegression(AffineNeurons):
    """``LinearRegression(in_features, out_features=1)``: ŷ = Wx + b with ``weight``
    ``(out_features, in_features)`` and ``bias`` ``(out_features,)`` (``nn.Linear``'s layout and keys).

    Input ``(N, in_features)`` → output ``(N, out_features)``, as ``nn.Linear``. Weights start at zero.
    """

    def __init__(self, in_features: int, out_features: int = 1, dtype=None) -> None:
        if int(in_features) < 1 or int(out_features) < 1:
            raise ValueError(f"LinearRegression: in_features and out_features must be >= 1, "
                             f"got {in_features} and {out_features}")
        super().__init__(in_features, int(out_features), dtype)
        self.out_features = int(out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"

    def forward(self, input: Tensor) -> Tensor:
        return self.affine(input)

    def predict(self, input: Tensor) -> Tensor:
        """ŷ without recording a graph, ``(N, in_features)`` → ``(N, out_features)``."""
        with no_grad():
            return self(input)

    def fit(self, X, y, method: str = "closed_form", optimizer: str = "gd", lr: float | None = None,
            max_iter: int = 100_000, tol: float = 1e-8) -> FitResult | None:
        """Least squares on ``X`` ``(N, in_features)`` and ``y`` ``(N,)`` or ``(N, out_features)``.

        ``method='closed_form'``: θ = argmin ‖X̃θ − Y‖² by ``numpy.linalg.lstsq``; returns None.
        ``method='gd'``: minimise the mean squared error by full-batch descent from the current weights
        (``optimizer`` 'gd' with ``lr`` = 1/L by default, or 'adam'), until every gradient entry is at
        most ``tol``; returns the :class:`FitResult`.
        """
        where = "LinearRegression.fit"
        Xn = _inputs.features(X, where, self.in_features, self.weight.dtype)
        yn = _inputs.targets(y, where, len(Xn)).astype(Xn.dtype)
        if yn.ndim == 1 and self.out_features == 1:
            yn = yn[:, None]
        if yn.shape != (len(Xn), self.out_features):
            raise ShapeError(f"{where}: y must have shape (N,) or (N, {self.out_features}) for "
                             f"out_features={self.out_features}, got {tuple(yn.shape)}")
        if method == "closed_form":
            Xa = np.concatenate([Xn, np.ones((len(Xn), 1), Xn.dtype)], axis=1)
            theta = np.linalg.lstsq(Xa, yn, rcond=None)[0]  # (in_features + 1, out_features)
            self.weight._data[...] = theta[:-1].T
            self.bias._data[...] = theta[-1]
            bump_version(self.weight)
            bump_version(self.bias)
            return None
        if method != "gd":
            raise ValueError(f"{where}: method must be 'closed_form' or 'gd', got {method!r}")
        if lr is None:
            # mse_loss averages over N·out entries: the Hessian is 2X̃ᵀX̃/(N·out) per output.
            lr = lipschitz_step(Xn, 2.0 / self.out_features) if optimizer == "gd" else 0.01
        inputs, targets = wrap(Xn), wrap(yn)
        return descend(self, lambda: F.mse_loss(self(inputs), targets), optimizer, lr, max_iter, tol, where)


__all__ = ["LinearRegression"]
