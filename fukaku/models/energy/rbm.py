"""The restricted Boltzmann machine of seed 000 §6.1.5: visible v and hidden h, no connections within a layer.

    E(v, h) = −Σ_ij w_ij v_i h_j − Σ_i b_i v_i − Σ_j c_j h_j          (the −Σ b x sign; erratum C18)

so the layers are conditionally independent given each other:

    P(h_j = 1 | v) = σ(Σ_i w_ij v_i + c_j),      P(v_i = 1 | h) = σ(Σ_j w_ij h_j + b_i),

and Gibbs sampling alternates whole layers (block Gibbs). Summing h out gives the free energy
F(v) = −bᵀv − Σ_j softplus(c_j + (vW)_j), P(v) = exp(−F(v)) / Z. The log-likelihood gradient is again
data moments − model moments; contrastive divergence (CD-k, Hinton 2002; not named in the text) estimates the
model term from k block-Gibbs steps started at the data, persistent CD from chains kept across updates.
log Z is exact by enumerating the smaller layer (≤ 20 units), or estimated by annealed importance sampling.
"""
from __future__ import annotations

import numpy as np

from ..._checks import check_int
from ..._generator import resolve_generator
from ...nn.modules.module import Module
from ...nn.parameter import Parameter
from ...ops.activation import sigmoid, softplus
from ...ops.reduce import logsumexp
from ...tensor import Tensor, bump_version, tensor, wrap
from ...ops.elementwise import _sigmoid
from .boltzmann import binary_states

__all__ = ["RBM"]


class RBM(Module):
    """A Bernoulli–Bernoulli restricted Boltzmann machine (seed 000 §6.1.5).

    Args:
        num_visible: the number of visible units.
        num_hidden: the number of hidden units.
        init_std: standard deviation of the initial weights (biases start at 0).
        generator: the random generator of the initial weights.

    Attributes:
        weight: W (num_visible, num_hidden), w_ij between visible i and hidden j.
        visible_bias: b (num_visible,). hidden_bias: c (num_hidden,).

    Shape:
        v: (batch, num_visible); h: (batch, num_hidden); free energy: (batch,).

    Examples:
        >>> rbm = RBM(64, 32)
        >>> v = (fk.rand(100, 64) < 0.5).float()
        >>> err = rbm.cd_step(v, lr=0.05, k=1)              # one CD-1 update, returns reconstruction error
        >>> rbm.free_energy(v).shape
        fukaku.Size([100])
    """

    def __init__(self, num_visible: int, num_hidden: int, init_std: float = 0.01, generator=None) -> None:
        super().__init__()
        for name, value in (("num_visible", num_visible), ("num_hidden", num_hidden)):
            check_int(value, name, "RBM")
        self.num_visible, self.num_hidden = int(num_visible), int(num_hidden)
        rng = resolve_generator(generator, "RBM")
        w = rng.normal(0.0, init_std, (self.num_visible, self.num_hidden)).astype(np.float32)
        self.weight = Parameter(tensor(w))
        self.visible_bias = Parameter(tensor(np.zeros(self.num_visible, np.float32)))
        self.hidden_bias = Parameter(tensor(np.zeros(self.num_hidden, np.float32)))
        self._chains: np.ndarray | None = None    # persistent CD's fantasy particles

    def extra_repr(self) -> str:
        return f"num_visible={self.num_visible}, num_hidden={self.num_hidden}"

    def _check(self, x, size: int, what: str, op: str) -> Tensor:
        x = x if isinstance(x, Tensor) else tensor(np.asarray(x, dtype=np.float32))
        if x.ndim != 2 or x.shape[1] != size:
            raise ValueError(f"RBM.{op}: {what} must have shape (batch, {size}), got {tuple(x.shape)}; "
                             f"flatten images first (x.reshape(len(x), -1))")
        return x.to(self.weight.dtype) if x.dtype != self.weight.dtype else x

    # ----- conditionals, energies -------------------------------------------------------------------------------
    def hidden_probs(self, v: Tensor) -> Tensor:
        """P(h_j = 1 | v) = σ(vW + c), (batch, num_hidden); differentiable."""
        return sigmoid(self._check(v, self.num_visible, "v", "hidden_probs") @ self.weight + self.hidden_bias)

    def visible_probs(self, h: Tensor) -> Tensor:
        """P(v_i = 1 | h) = σ(hWᵀ + b), (batch, num_visible); differentiable."""
        return sigmoid(self._check(h, self.num_hidden, "h", "visible_probs") @ self.weight.t() + self.visible_bias)

    def sample_hidden(self, v: Tensor, generator=None) -> tuple[Tensor, Tensor]:
        """(P(h = 1 | v), a sample h ~ P(h | v))."""
        p = self.hidden_probs(v).detach()
        rng = resolve_generator(generator, "RBM.sample_hidden")
        return p, wrap((rng.random(p._data.shape) < p._data).astype(p._data.dtype))

    def sample_visible(self, h: Tensor, generator=None) -> tuple[Tensor, Tensor]:
        """(P(v = 1 | h), a sample v ~ P(v | h))."""
        p = self.visible_probs(h).detach()
        rng = resolve_generator(generator, "RBM.sample_visible")
        return p, wrap((rng.random(p._data.shape) < p._data).astype(p._data.dtype))

    def energy(self, v: Tensor, h: Tensor) -> Tensor:
        """E(v, h) = −vᵀWh − bᵀv − cᵀh per row; differentiable."""
        v = self._check(v, self.num_visible, "v", "energy")
        h = self._check(h, self.num_hidden, "h", "energy")
        return -((v @ self.weight) * h).sum(1) - v @ self.visible_bias - h @ self.hidden_bias

    def free_energy(self, v: Tensor) -> Tensor:
        """F(v) = −bᵀv − Σ_j softplus(c_j + (vW)_j), so P(v) ∝ exp(−F(v)); differentiable."""
        v = self._check(v, self.num_visible, "v", "free_energy")
        return -(v @ self.visible_bias) - softplus(v @ self.weight + self.hidden_bias).sum(1)

    def log_partition(self) -> Tensor:
        """log Z exactly, summing over the 2^m states of the smaller layer in closed form over the other
        (m ≤ 20); a differentiable scalar."""
        if self.num_hidden <= self.num_visible:
            h = wrap(binary_states(self.num_hidden).astype(self.weight._data.dtype))
            terms = h @ self.hidden_bias + softplus(h @ self.weight.t() + self.visible_bias).sum(1)
        else:
            v = wrap(binary_states(self.num_visible).astype(self.weight._data.dtype))
            terms = -self.free_energy(v)
        return logsumexp(terms, dim=0)

    def ais_log_partition(self, num_chains: int = 100, num_betas: int = 1000, base_bias=None,
                          generator=None) -> tuple[float, np.ndarray]:
        """Annealed importance sampling estimate of log Z (Neal 2001; Salakhutdinov & Murray 2008), for RBMs too
        large to enumerate.

        The chains start exactly from a base RBM with no weights (visible biases ``base_bias``, default the
        model's own; log Z_A = Σ_i softplus(b_A,i) + m log 2) and move through p_β(v) ∝ exp((1 − β) b_Aᵀv + β bᵀv)
        Π_j (1 + exp(β (vW + c)_j)) for β = 0 … 1 in ``num_betas`` equal steps, one block-Gibbs step at each β,
        accumulating the importance log-weights log p*_β(v) − log p*_β′(v).

        Returns (estimate of log Z, the chains' log-weights (num_chains,)); E[w] = Z / Z_A, so the estimate is
        log Z_A + log mean w (unbiased in Z, biased low in log Z by about var(w) / (2 mean(w)²))."""
        check_int(num_chains, "num_chains", "RBM.ais_log_partition")
        if not isinstance(num_betas, (int, np.integer)) or num_betas < 2:
            raise ValueError(f"RBM.ais_log_partition: num_betas must be an integer ≥ 2, got {num_betas!r}")
        rng = resolve_generator(generator, "RBM.ais_log_partition")
        w, b, c = (p._data.astype(np.float64) for p in (self.weight, self.visible_bias, self.hidden_bias))
        b_a = b if base_bias is None else np.asarray(base_bias._data if isinstance(base_bias, Tensor) else base_bias,
                                                     dtype=np.float64)
        if b_a.shape != b.shape:
            raise ValueError(f"RBM.ais_log_partition: base_bias must have shape {b.shape}, got {b_a.shape}")

        def log_p(v: np.ndarray, beta: float) -> np.ndarray:   # log p*_β(v), hidden units summed out
            return (1 - beta) * (v @ b_a) + beta * (v @ b) + np.logaddexp(0.0, beta * (v @ w + c)).sum(1)

        betas = np.linspace(0.0, 1.0, int(num_betas))
        v = (rng.random((int(num_chains), self.num_visible)) < _sigmoid(b_a)).astype(np.float64)
        log_w = np.zeros(int(num_chains))
        for prev, beta in zip(betas[:-1], betas[1:]):           # a loop over temperatures; chains vectorised
            log_w += log_p(v, beta) - log_p(v, prev)
            ph = _sigmoid(beta * (v @ w + c))
            h = (rng.random(ph.shape) < ph).astype(np.float64)
            pv = _sigmoid((1 - beta) * b_a + beta * (h @ w.T + b))
            v = (rng.random(pv.shape) < pv).astype(np.float64)
        log_z_a = float(np.logaddexp(0.0, b_a).sum() + self.num_hidden * np.log(2.0))
        top = log_w.max()
        return log_z_a + float(top + np.log(np.exp(log_w - top).mean())), log_w

    def log_prob(self, v: Tensor) -> Tensor:
        """log P(v) = −F(v) − log Z (exact; small RBMs only)."""
        return -self.free_energy(v) - self.log_partition()

    # ----- sampling ---------------------------------------------------------------------------------------------
    def _gibbs_arrays(self, v: np.ndarray, steps: int, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """k block-Gibbs steps v → h → v on arrays; returns (final v sample, P(v=1|h) of the last step,
        P(h=1|final v))."""
        w, b, c = self.weight._data, self.visible_bias._data, self.hidden_bias._data
        pv = v
        for _ in range(steps):
            ph = _sigmoid(v @ w + c)
            h = (rng.random(ph.shape) < ph).astype(w.dtype)
            pv = _sigmoid(h @ w.T + b)
            v = (rng.random(pv.shape) < pv).astype(w.dtype)
        return v, pv, _sigmoid(v @ w + c)

    def gibbs(self, v: Tensor, steps: int = 1, generator=None) -> Tensor:
        """``steps`` block-Gibbs steps from visible states ``v`` (batch, num_visible); returns sampled visibles."""
        if not isinstance(steps, (int, np.integer)) or steps < 0:
            raise ValueError(f"RBM.gibbs: steps must be a non-negative integer, got {steps!r}")
        v = self._check(v, self.num_visible, "v", "gibbs")
        rng = resolve_generator(generator, "RBM.gibbs")
        return wrap(self._gibbs_arrays(v._data.copy(), int(steps), rng)[0])

    def sample(self, num_samples: int, steps: int = 1000, generator=None) -> Tensor:
        """Visible samples from ``num_samples`` chains started at uniform random states after ``steps`` steps."""
        check_int(num_samples, "num_samples", "RBM.sample")
        rng = resolve_generator(generator, "RBM.sample")
        v0 = (rng.random((int(num_samples), self.num_visible)) < 0.5).astype(self.weight._data.dtype)
        return self.gibbs(wrap(v0), steps, rng)

    def reconstruction_error(self, v: Tensor) -> float:
        """Mean squared error between v and its mean-field reconstruction P(v = 1 | h = P(h = 1 | v))."""
        v = self._check(v, self.num_visible, "v", "reconstruction_error")
        w, b, c = self.weight._data, self.visible_bias._data, self.hidden_bias._data
        recon = _sigmoid(_sigmoid(v._data @ w + c) @ w.T + b)
        return float(((v._data - recon) ** 2).mean())

    # ----- learning ---------------------------------------------------------------------------------------------
    def cd_gradient(self, v: Tensor, k: int = 1, persistent: bool = False,
                    generator=None) -> tuple[Tensor, Tensor, Tensor]:
        """The CD-k (or persistent CD-k) estimate of the mean log-likelihood gradient over the batch ``v``:
        ⟨v hᵀ⟩_data − ⟨v hᵀ⟩_model with P(h | v) in place of h on both sides.

        Args:
            v: a batch of visible data (batch, num_visible) in [0, 1].
            k: block-Gibbs steps per update.
            persistent: start the negative chains from the persistent chains (one per data row, kept across
                calls; started at the data the first time) instead of from the data.

        Returns (∂/∂W, ∂/∂b, ∂/∂c)."""
        check_int(k, "k", "RBM.cd_gradient")
        v0 = self._check(v, self.num_visible, "v", "cd_gradient")._data
        _, *grads = self._cd_arrays(v0, int(k), persistent, resolve_generator(generator, "RBM.cd_gradient"))
        return tuple(wrap(g) for g in grads)

    def _cd_arrays(self, v0: np.ndarray, k: int, persistent: bool, rng) -> tuple[np.ndarray, ...]:
        """P(h = 1 | v0) and the CD-k gradient (∂/∂W, ∂/∂b, ∂/∂c) of :meth:`cd_gradient`, as arrays."""
        w, c = self.weight._data, self.hidden_bias._data
        ph0 = _sigmoid(v0 @ w + c)
        if persistent:
            if self._chains is None or self._chains.shape != v0.shape:
                self._chains = (rng.random(v0.shape) < v0).astype(w.dtype)
            start = self._chains
        else:
            start = v0
        vk, _, phk = self._gibbs_arrays(start, k, rng)
        if persistent:
            self._chains = vk
        n = len(v0)
        return ph0, (v0.T @ ph0 - vk.T @ phk) / n, (v0 - vk).mean(0), (ph0 - phk).mean(0)

    def cd_step(self, v: Tensor, lr: float = 0.05, k: int = 1, persistent: bool = False, weight_decay: float = 0.0,
                generator=None) -> float:
        """One (persistent) CD-k update W += lr (∂/∂W − weight_decay W), b += lr ∂/∂b, c += lr ∂/∂c.
        Returns the batch's reconstruction error before the update (:meth:`reconstruction_error`)."""
        check_int(k, "k", "RBM.cd_step")
        v0 = self._check(v, self.num_visible, "v", "cd_step")._data
        ph0, dw, db, dc = self._cd_arrays(v0, int(k), persistent, resolve_generator(generator, "RBM.cd_step"))
        # the reconstruction reuses the positive phase's P(h | v0): one product fewer than reconstruction_error(v)
        error = float(((v0 - _sigmoid(ph0 @ self.weight._data.T + self.visible_bias._data)) ** 2).mean())
        self.weight._data += lr * (dw - weight_decay * self.weight._data)
        self.visible_bias._data += lr * db
        self.hidden_bias._data += lr * dc
        for p in (self.weight, self.visible_bias, self.hidden_bias):
            bump_version(p)
        return error
