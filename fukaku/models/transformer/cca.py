"""Linear canonical correlation analysis in closed form — seed 000 §6.5 (CLIP and CCA): CCA finds directions
``w_x``, ``w_y`` that maximise corr(w_xᵀx, w_yᵀy); the text calls CLIP a "classification-induced" extension of
it (two learned non-linear encoders instead of two linear maps).

The closed form (Hotelling 1936): with centred data, covariances C_xx, C_yy, C_xy (each C_xx, C_yy plus
``regularization``·I), whiten both sides, W_x = C_xx^(−1/2), W_y = C_yy^(−1/2), and take the SVD
W_x C_xy W_y = U diag(ρ) Vᵀ. The singular values ρ_1 ≥ ρ_2 ≥ … are the canonical correlations, and the
canonical directions are the columns of A = W_x U and B = W_y V: the projections X A and Y B have unit
variance, are uncorrelated within each side, and corr(X a_j, Y b_j) = ρ_j.
"""
from __future__ import annotations

from typing import NamedTuple

from ... import linalg
from ...tensor import Tensor, as_tensor, eye

__all__ = ["CCA", "CCAResult", "canonical_correlations"]


class CCAResult(NamedTuple):
    """``correlations`` (k,), descending; ``x_weights`` (p, k) and ``y_weights`` (q, k): the canonical
    directions, scaled so that the projections have unit sample variance."""

    correlations: Tensor
    x_weights: Tensor
    y_weights: Tensor


def _inverse_sqrt(c: Tensor) -> Tensor:
    """C^(−1/2) of a symmetric positive-definite C, by its eigendecomposition."""
    values, vectors = linalg.eigh(c)
    return (vectors * values.rsqrt()) @ vectors.mT


def _matrix(name: str, data) -> Tensor:
    t = as_tensor(data)
    if t.dim() != 2:
        raise ValueError(f"CCA: {name} must be a matrix (samples, features), got shape {tuple(t.shape)}; "
                         f"reshape it with {name}.reshape(len({name}), -1)")
    return t if t.is_floating_point() else t.double()


def canonical_correlations(x: Tensor, y: Tensor, n_components: int | None = None,
                           regularization: float = 0.0) -> CCAResult:
    """The canonical correlations and directions of ``x`` (n, p) and ``y`` (n, q), in closed form.

    Args:
        x, y: paired samples, one row per sample; they are centred here.
        n_components: how many pairs of directions (default and at most min(p, q)).
        regularization: added to the diagonals of C_xx and C_yy (ridge CCA); 0 is the plain closed form.

    Returns:
        :class:`CCAResult` (correlations, x_weights, y_weights).

    Examples:
        >>> z = fk.randn(500, 1, dtype=fk.float64)
        >>> rho = canonical_correlations(fk.cat([z, fk.randn(500, 2, dtype=fk.float64)], 1), z * 2).correlations
        >>> round(float(rho[0]), 6)     # y is a multiple of a direction of x
        1.0
    """
    x, y = _matrix("x", x), _matrix("y", y)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"CCA: x and y must pair their rows, got {x.shape[0]} and {y.shape[0]} samples "
                         f"(shapes {tuple(x.shape)} and {tuple(y.shape)})")
    n, p, q = x.shape[0], x.shape[1], y.shape[1]
    k = min(p, q) if n_components is None else int(n_components)
    if not 1 <= k <= min(p, q):
        raise ValueError(f"CCA: n_components must lie in [1, min(p, q)] = [1, {min(p, q)}], got {n_components}")
    if n < 2:
        raise ValueError(f"CCA: needs at least 2 samples, got {n}")
    xc, yc = x - x.mean(0), y - y.mean(0)
    cxx = xc.mT @ xc / (n - 1) + regularization * eye(p, dtype=x.dtype)
    cyy = yc.mT @ yc / (n - 1) + regularization * eye(q, dtype=y.dtype)
    cxy = xc.mT @ yc / (n - 1)
    wx, wy = _inverse_sqrt(cxx), _inverse_sqrt(cyy)
    u, s, vh = linalg.svd(wx @ cxy @ wy, full_matrices=False)
    return CCAResult(s[:k].clamp(max=1.0), wx @ u[:, :k], wy @ vh.mT[:, :k])


class CCA:
    """Linear CCA with scikit-learn's interface: ``CCA(n_components=2).fit(x, y).transform(x, y)``.

    After :meth:`fit`: ``correlations_`` (k,), ``x_weights_`` (p, k), ``y_weights_`` (q, k), ``x_mean_``,
    ``y_mean_``. :meth:`transform` centres with the training means and projects: the canonical variates,
    each of unit variance on the training data. (scikit-learn's CCA finds the same directions by an
    iterative PLS algorithm, normalised differently; the correlations agree.)
    """

    def __init__(self, n_components: int = 2, regularization: float = 0.0) -> None:
        self.n_components, self.regularization = int(n_components), float(regularization)

    def fit(self, x: Tensor, y: Tensor) -> "CCA":
        x, y = _matrix("x", x), _matrix("y", y)
        result = canonical_correlations(x, y, self.n_components, self.regularization)
        self.correlations_, self.x_weights_, self.y_weights_ = result
        self.x_mean_, self.y_mean_ = x.mean(0), y.mean(0)
        return self

    def transform(self, x: Tensor, y: Tensor | None = None):
        """The canonical variates of ``x`` (and of ``y`` when given: a pair)."""
        if not hasattr(self, "x_weights_"):
            raise RuntimeError("CCA.transform: call fit(x, y) first")
        u = (_matrix("x", x).to(self.x_weights_.dtype) - self.x_mean_) @ self.x_weights_
        if y is None:
            return u
        return u, (_matrix("y", y).to(self.y_weights_.dtype) - self.y_mean_) @ self.y_weights_

    def fit_transform(self, x: Tensor, y: Tensor):
        return self.fit(x, y).transform(x, y)
