"""Logistic regression: the sigmoid neuron — seed 000 §6.1.1 (L7–91).

A neuron z = wᵀx + b with the sigmoid activation σ(z) = 1/(1 + e^{−z}) models P(y = 1 | x) for
labels y ∈ {0, 1}. Its weights maximise the Bernoulli log-likelihood

    ℓ(w, b) = Σ_i [ y_i log σ(wᵀx_i + b) + (1 − y_i) log(1 − σ(wᵀx_i + b)) ],

i.e. minimise the mean binary cross-entropy −ℓ/N — exactly unregularised logistic regression
(scikit-learn's ``LogisticRegression(penalty=None)``). With K > 2 classes the neuron becomes K
neurons and a softmax, P(y = k | x) = softmax(Wx + b)_k, and the likelihood is the categorical one
(multinomial logistic regression, the cross-entropy of seed 003). The objective is convex, so the
weights start at zero and full-batch gradient descent with step 1/L reaches the optimum.

An optional L2 penalty adds λ‖W‖² (the weights, not the bias) to the mean loss — the weight decay
of §6.1.4; it equals scikit-learn's ``C`` through λ = 1/(2·C·N).
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...nn import functional as F
from ...tensor import Tensor, wrap
from . import _inputs
from ._descent import FitResult, descend, lipschitz_step
from ._neurons import AffineNeurons


class LogisticRegression(AffineNeurons):
    """``LogisticRegression(in_features, num_classes=2)``.

    Binary (``num_classes=2``): one sigmoid neuron, ``weight`` ``(1, in_features)``, ``bias`` ``(1,)``;
    :meth:`forward` gives the logit z ``(N,)``, :meth:`predict_proba` σ(z) = P(y = 1) ``(N,)``.
    Multinomial (``num_classes=K>2``): ``weight`` ``(K, in_features)``, ``bias`` ``(K,)``; the logits are
    ``(N, K)`` and :meth:`predict_proba` is their softmax ``(N, K)``. The layout is that of
    ``nn.Linear``, so the state dict moves to a linear layer unchanged. Input ``(N, in_features)``.
    """

    def __init__(self, in_features: int, num_classes: int = 2, dtype=None) -> None:
        if int(in_features) < 1 or int(num_classes) < 2:
            raise ValueError(f"LogisticRegression: need in_features >= 1 and num_classes >= 2, "
                             f"got {in_features} and {num_classes}")
        super().__init__(in_features, 1 if int(num_classes) == 2 else int(num_classes), dtype)
        self.num_classes = int(num_classes)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_classes={self.num_classes}"

    def forward(self, input: Tensor) -> Tensor:
        """Logits: ``(N, in_features)`` → ``(N,)`` (binary) or ``(N, K)``."""
        z = self.affine(input)
        return z.reshape(-1) if self.num_classes == 2 else z

    def predict_proba(self, input: Tensor) -> Tensor:
        """σ(z) = P(y = 1 | x) ``(N,)`` when binary; softmax(z) ``(N, K)`` otherwise."""
        with no_grad():
            z = self(input)
            return F.sigmoid(z) if self.num_classes == 2 else F.softmax(z, dim=1)

    def predict(self, input: Tensor) -> Tensor:
        """The most probable class, int64 ``(N,)``."""
        with no_grad():
            z = self(input)
            return (z >= 0).long() if self.num_classes == 2 else z.argmax(dim=1)

    def fit(self, X, y, optimizer: str = "gd", lr: float | None = None, max_iter: int = 10_000,
            tol: float = 1e-6, l2: float = 0.0) -> FitResult:
        """Maximise the log-likelihood ℓ (minimise −ℓ/N + λ‖W‖², λ = ``l2``) on the whole of ``(X, y)``.

        ``X``: ``(N, in_features)``; ``y``: ``(N,)`` class labels 0 … K−1 (0/1 when binary).
        ``optimizer``: ``'gd'`` — plain gradient descent, with ``lr`` = 1/L by default (L the
        smoothness constant: λ_max(X̃ᵀX̃)/(4N) binary, /(2N) multinomial, plus 2λ) — or ``'adam'``
        (``lr`` default 0.01). Stops when every gradient entry is at most ``tol``. Continues from the
        current weights (zero after construction).
        """
        where = "LogisticRegression.fit"
        if l2 < 0:
            raise ValueError(f"{where}: l2 must be >= 0, got {l2}")
        Xn = _inputs.features(X, where, self.in_features, self.weight.dtype)
        yn = _inputs.class_labels(y, where, len(Xn), self.num_classes)
        if lr is None:
            lr = lipschitz_step(Xn, 0.25 if self.num_classes == 2 else 0.5) if optimizer == "gd" else 0.01
            if optimizer == "gd" and l2 > 0:
                lr = 1.0 / (1.0 / lr + 2.0 * l2)
        inputs = wrap(Xn)
        labels = wrap(yn.astype(Xn.dtype) if self.num_classes == 2 else yn)
        loss_fn = F.binary_cross_entropy_with_logits if self.num_classes == 2 else F.cross_entropy

        def objective() -> Tensor:
            loss = loss_fn(self(inputs), labels)
            return loss + l2 * (self.weight * self.weight).sum() if l2 else loss

        return descend(self, objective, optimizer, lr, max_iter, tol, where)


__all__ = ["LogisticRegression"]
