"""The Boltzmann machine of seed 000 §6.1.5: binary units, an energy, and the exponential family it defines.

Units x_i ∈ {0, 1}, symmetric weights w_ij = w_ji with w_ii = 0, biases b_i, and

    E(x) = −Σ_{i<j} w_ij x_i x_j − Σ_i b_i x_i = −½ xᵀWx − bᵀx,     P(x) = exp(−E(x)) / Z.

The bias enters with a minus sign in E (a positive b_i favours x_i = 1); the Hopfield network of §6.1.6
writes +Σ θ_i x_i, the opposite convention (erratum C18). P is an exponential family with sufficient
statistics x_i x_j (i < j) and x_i and log-partition A(θ) = log Z, so ∂log Z/∂w_ij = E_P[x_i x_j] and
∂log Z/∂b_i = E_P[x_i]; the gradient of the mean log-likelihood of data is therefore data moments − model
moments. The model moments are exact by enumerating the 2^n states (n ≤ :data:`MAX_ENUMERATION`) or
estimated by Gibbs sampling, each unit in turn drawn from P(x_i = 1 | x_rest) = σ(Σ_j w_ij x_j + b_i).
"""
from __future__ import annotations

import numpy as np

from ..._checks import check_int
from ..._generator import resolve_generator
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...ops.reduce import logsumexp
from ...tensor import Tensor, bump_version, tensor, wrap
from ...ops.elementwise import _sigmoid

__all__ = ["BoltzmannMachine", "MAX_ENUMERATION", "binary_states"]

MAX_ENUMERATION = 20   # 2^20 states (about 10⁶) × 20 units: the largest machine enumerated exactly


def binary_states(n: int) -> np.ndarray:
    """All 2^n binary vectors of length n, one per row (row k is k written in binary, unit 0 the lowest bit).

    Returns a float64 array of shape (2^n, n)."""
    if not isinstance(n, (int, np.integer)) or n < 1 or n > MAX_ENUMERATION:
        raise ValueError(f"binary_states: n must be an integer in 1..{MAX_ENUMERATION} (2^n states are enumerated), "
                         f"got {n!r}; estimate moments by Gibbs sampling instead")
    k = np.arange(2 ** n, dtype=np.int64)[:, None]
    return ((k >> np.arange(n)) & 1).astype(np.float64)


class BoltzmannMachine(Module):
    """A fully connected Boltzmann machine on ``num_units`` binary {0, 1} units (seed 000 §6.1.5).

    Energy E(x) = −½ xᵀWx − bᵀx with W symmetric and zero on the diagonal (the −Σ b x sign; erratum C18).

    Args:
        num_units: n, the number of units.
        weight: optional initial W (n, n); it is symmetrised and its diagonal zeroed. Default: N(0, init_std²)
            off-diagonal entries, symmetrised.
        bias: optional initial b (n,); default zeros.
        init_std: standard deviation of the random initial weights.
        generator: the random generator of the initial weights.

    Shape:
        states x: (..., n) with entries 0 or 1; energies and log-probabilities: (...).

    Examples:
        >>> bm = BoltzmannMachine(5)
        >>> data_xx, data_x = bm.data_moments(fk.tensor([[1., 0, 1, 0, 0]]))
        >>> dW, db = bm.ml_gradient(fk.tensor([[1., 0, 1, 0, 0]]))   # data − exact model moments
    """

    def __init__(self, num_units: int, weight=None, bias=None, init_std: float = 0.1, generator=None) -> None:
        super().__init__()
        check_int(num_units, "num_units", "BoltzmannMachine")
        n = int(num_units)
        self.num_units = n
        if weight is None:
            w = resolve_generator(generator, "BoltzmannMachine").normal(0.0, init_std, (n, n))
        else:
            w = np.array(weight._data if isinstance(weight, Tensor) else weight, dtype=np.float64)
            if w.shape != (n, n):
                raise ValueError(f"BoltzmannMachine: weight must have shape ({n}, {n}), got {w.shape}")
        b = np.zeros(n) if bias is None else np.array(bias._data if isinstance(bias, Tensor) else bias,
                                                      dtype=np.float64)
        if b.shape != (n,):
            raise ValueError(f"BoltzmannMachine: bias must have shape ({n},), got {b.shape}")
        self.weight = Parameter(tensor(self._symmetric(w)))
        self.bias = Parameter(tensor(b))

    @staticmethod
    def _symmetric(w: np.ndarray) -> np.ndarray:
        upper = np.triu(w, 1)
        return upper + upper.T

    def extra_repr(self) -> str:
        return f"num_units={self.num_units}"

    # ----- energy and exact quantities -------------------------------------------------------------------------
    def _check_states(self, x, op: str) -> Tensor:
        x = x if isinstance(x, Tensor) else tensor(np.asarray(x, dtype=np.float64))
        if x.ndim < 1 or x.shape[-1] != self.num_units:
            raise ValueError(f"BoltzmannMachine.{op}: states must have shape (..., {self.num_units}), "
                             f"got {tuple(x.shape)}")
        return x.to(self.weight.dtype) if x.dtype != self.weight.dtype else x

    def symmetric_weight(self) -> Tensor:
        """W as the energy reads it: ½(W + Wᵀ) with the diagonal masked to 0. So the gradient that reaches the
        parameter is symmetric with a zero diagonal, and any optimizer step keeps W symmetric and zero-diagonal."""
        mask = wrap(1.0 - np.eye(self.num_units, dtype=self.weight._data.dtype))
        return 0.5 * (self.weight + self.weight.t()) * mask

    def energy(self, x: Tensor) -> Tensor:
        """E(x) = −½ xᵀWx − bᵀx for each state in ``x`` (..., n); differentiable in W and b."""
        x = self._check_states(x, "energy")
        return -0.5 * ((x @ self.symmetric_weight()) * x).sum(-1) - x @ self.bias

    def log_partition(self) -> Tensor:
        """log Z = log Σ_x exp(−E(x)) by enumerating all 2^n states; a differentiable scalar, so its gradient is
        (½ E_P[x xᵀ] off the diagonal and 0 on it, E_P[x]) in the entries of the matrix W (the pair's single weight
        w_ij of the text appears as W_ij and W_ji, so ∂log Z/∂w_ij = E_P[x_i x_j], the sum of the two entries'
        gradients)."""
        states = wrap(binary_states(self.num_units).astype(self.weight._data.dtype))
        return logsumexp(-self.energy(states), dim=0)

    def log_prob(self, x: Tensor) -> Tensor:
        """log P(x) = −E(x) − log Z (exact, by enumeration)."""
        return -self.energy(x) - self.log_partition()

    def probabilities(self) -> np.ndarray:
        """P(x) of every state, in the order of :func:`binary_states` (an array of shape (2^n,))."""
        states = binary_states(self.num_units)
        w, b = self.weight._data.astype(np.float64), self.bias._data.astype(np.float64)
        logits = 0.5 * np.einsum("si,ij,sj->s", states, w, states, optimize=True) + states @ b
        p = np.exp(logits - logits.max())
        return p / p.sum()

    def moments(self) -> tuple[Tensor, Tensor]:
        """The exact model moments (E_P[x xᵀ], E_P[x]) by enumeration: shapes (n, n) and (n,)."""
        states = binary_states(self.num_units)
        p = self.probabilities()
        return tensor((states * p[:, None]).T @ states), tensor(p @ states)

    # ----- sampling ---------------------------------------------------------------------------------------------
    def gibbs(self, x: Tensor | int, sweeps: int = 1, generator=None) -> Tensor:
        """Run Gibbs sampling: ``sweeps`` sweeps over the units in order, each unit drawn from
        P(x_i = 1 | rest) = σ(Σ_j w_ij x_j + b_i), for many chains at once.

        Args:
            x: the chains' current states (chains, n), or a number of chains to start from uniform random states.
            sweeps: full sweeps over the n units.
            generator: the random generator.

        Returns the chains' states after the sweeps (chains, n), float like W."""
        rng = resolve_generator(generator, "BoltzmannMachine.gibbs")
        if not isinstance(sweeps, (int, np.integer)) or sweeps < 0:
            raise ValueError(f"BoltzmannMachine.gibbs: sweeps must be a non-negative integer, got {sweeps!r}")
        if isinstance(x, (int, np.integer)):
            if x < 1:
                raise ValueError(f"BoltzmannMachine.gibbs: the number of chains must be positive, got {x}")
            state = (rng.random((int(x), self.num_units)) < 0.5).astype(np.float64)
        else:
            state = self._check_states(x, "gibbs")._data.astype(np.float64).reshape(-1, self.num_units).copy()
        w, b = self.weight._data.astype(np.float64), self.bias._data.astype(np.float64)
        for _ in range(int(sweeps)):
            u = rng.random(state.shape)
            for i in range(self.num_units):       # the conditionals are sequential; chains are vectorised
                state[:, i] = u[:, i] < _sigmoid(state @ w[:, i] + b[i])
        return tensor(state.astype(self.weight._data.dtype))

    def sample_moments(self, chains: int = 1000, sweeps: int = 100, burn_in: int = 20, generator=None,
                       init: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Gibbs estimates of (E_P[x xᵀ], E_P[x]): ``chains`` parallel chains, ``burn_in`` sweeps discarded, then
        the states after each of ``sweeps`` further sweeps averaged."""
        if not isinstance(burn_in, (int, np.integer)) or burn_in < 0 or sweeps < 1:
            raise ValueError(f"BoltzmannMachine.sample_moments: need sweeps ≥ 1 and burn_in ≥ 0, "
                             f"got sweeps={sweeps!r}, burn_in={burn_in!r}")
        state = self.gibbs(chains if init is None else init, burn_in, generator)
        xx, x1 = np.zeros((self.num_units, self.num_units)), np.zeros(self.num_units)
        for _ in range(int(sweeps)):
            state = self.gibbs(state, 1, generator)
            s = state._data.astype(np.float64)
            xx += s.T @ s / len(s)
            x1 += s.mean(0)
        return tensor(xx / sweeps), tensor(x1 / sweeps)

    # ----- learning ---------------------------------------------------------------------------------------------
    def data_moments(self, data: Tensor) -> tuple[Tensor, Tensor]:
        """(mean x xᵀ, mean x) over the rows of ``data`` (batch, n)."""
        d = self._check_states(data, "data_moments")._data.astype(np.float64).reshape(-1, self.num_units)
        return tensor(d.T @ d / len(d)), tensor(d.mean(0))

    def ml_gradient(self, data: Tensor, model: str = "exact", **sampling) -> tuple[Tensor, Tensor]:
        """The gradient of the mean log-likelihood of ``data``: data moments − model moments.

        Args:
            data: observed states (batch, n).
            model: ``"exact"`` (enumeration) or ``"gibbs"`` (``sample_moments(**sampling)``).

        Returns (∂/∂W, ∂/∂b) with W's diagonal zero: ∂ℓ/∂w_ij = ⟨x_i x_j⟩_data − ⟨x_i x_j⟩_model."""
        data_xx, data_x = self.data_moments(data)
        if model == "exact":
            model_xx, model_x = self.moments()
        elif model == "gibbs":
            model_xx, model_x = self.sample_moments(**sampling)
        else:
            raise ValueError(f"BoltzmannMachine.ml_gradient: model must be 'exact' or 'gibbs', got {model!r}")
        dw = data_xx._data - model_xx._data
        dw = 0.5 * (dw + dw.T)                    # exactly symmetric, whatever the rounding of the moments
        np.fill_diagonal(dw, 0.0)
        return tensor(dw), tensor(data_x._data - model_x._data)

    def fit_step(self, data: Tensor, lr: float = 0.1, model: str = "exact", **sampling) -> float:
        """One gradient-ascent step on the mean log-likelihood: W += lr ∂ℓ/∂W, b += lr ∂ℓ/∂b (symmetry and the
        zero diagonal are kept). Returns the largest |moment difference| before the step."""
        dw, db = self.ml_gradient(data, model, **sampling)
        self.weight._data += lr * dw._data.astype(self.weight._data.dtype)
        self.bias._data += lr * db._data.astype(self.bias._data.dtype)
        bump_version(self.weight)
        bump_version(self.bias)
        return float(max(np.abs(dw._data).max(), np.abs(db._data).max()))
