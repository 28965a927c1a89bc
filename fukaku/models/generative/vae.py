"""The variational autoencoder — seed 000 §6.5 (Kingma & Welling 2014): a latent-variable model p(z) p_θ(x | z)
with p(z) = N(0, I), trained through an encoder q_φ(z | x) = N(μ(x), diag σ²(x)) by maximising the evidence lower
bound

    ELBO(x) = E_q[log p_θ(x | z)] − KL(q_φ(z | x) ‖ p(z)) ≤ log p_θ(x),

the expectation estimated with one reparameterised sample z = μ + σ ⊙ ε, ε ~ N(0, I) (so the gradient flows
through μ and σ), the KL in closed form. The decoder is Bernoulli (it outputs logits; for data in [0, 1]) or
Gaussian (it outputs the mean; a learned log-variance per feature).

log p(x) itself is estimated by importance sampling with q as the proposal (Burda et al. 2016):
log p(x) ≈ log (1/k) Σ_i p(x | z_i) p(z_i) / q(z_i | x), z_i ~ q(z | x). Its expectation is a bound that equals
the ELBO's at k = 1 and rises towards log p(x) as k grows.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from ...nn.parameter import Parameter
from ...nn.modules.module import Module
from ...ops.reduce import logsumexp
from ...ops.shape import cat
from ...tensor import Tensor, randn, zeros, zeros_like
from ..classical.mlp import MLP, ActivationSpec
from .autoencoder import check_features
from .densities import bernoulli_log_prob, normal_kl_standard, normal_log_prob

__all__ = ["VAE"]

LIKELIHOODS = ("bernoulli", "gaussian")
CHUNK = 1 << 22  # elements of the decoded batch per pass of log_likelihood (about 16 MB in float32)


class VAE(Module):
    """A variational autoencoder with MLP encoder and decoder (seed 000 §6.5).

    Args:
        in_features: D, the width of x.
        latent_features: L, the width of z (2 lets the latent space be drawn as a grid).
        hidden: the encoder's hidden widths; the decoder mirrors them.
        activation: the hidden layers' nonlinearity (a name of :class:`~fukaku.models.MLP`).
        likelihood: ``"bernoulli"`` (the decoder outputs logits; x in [0, 1]) or ``"gaussian"`` (the decoder
            outputs the mean; ``decoder_logvar``, one learned log σ² per feature, starts at 0).
        dtype: of the parameters.

    Attributes:
        encoder: MLP ``[D, *hidden, 2L]``: its output is (μ, log σ²) side by side.
        decoder: MLP ``[L, *reversed(hidden), D]``.

    Shape:
        x ``(N, D)``; ``forward(x)`` returns (decoder output ``(N, D)``, μ ``(N, L)``, log σ² ``(N, L)``);
        :meth:`elbo` and :meth:`log_likelihood` ``(N,)``; :meth:`sample` ``(n, D)``.

    Examples:
        >>> vae = VAE(64, latent_features=2, hidden=(128,))
        >>> loss = vae.loss(x)                 # −ELBO averaged over the batch, in nats
        >>> images = vae.sample(16)            # E[x | z] for z ~ N(0, I)
        >>> vae.log_likelihood(x, k=100)       # importance-sampled log p(x) ≥ ELBO on average
    """

    def __init__(self, in_features: int, latent_features: int = 2, hidden: Sequence[int] = (256,),
                 activation: ActivationSpec = "relu", likelihood: str = "bernoulli", dtype=None) -> None:
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"VAE: likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if int(in_features) < 1 or int(latent_features) < 1:
            raise ValueError(f"VAE: in_features and latent_features must be >= 1, got {in_features}, {latent_features}")
        self.in_features, self.latent_features = int(in_features), int(latent_features)
        self.hidden, self.likelihood = [int(h) for h in hidden], likelihood
        self.encoder = MLP([self.in_features, *self.hidden, 2 * self.latent_features], activation, dtype=dtype)
        self.decoder = MLP([self.latent_features, *self.hidden[::-1], self.in_features], activation, dtype=dtype)
        if likelihood == "gaussian":
            self.decoder_logvar = Parameter(zeros(self.in_features, dtype=dtype))

    # ---------------------------------------------------------------- the model's parts
    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q(z | x): its mean μ and log-variance log σ², each ``(N, L)``."""
        check_features("VAE.encode", x, self.in_features)
        out = self.encoder(x)
        return out[:, :self.latent_features], out[:, self.latent_features:]

    def reparameterize(self, mu: Tensor, logvar: Tensor, generator=None) -> Tensor:
        """z = μ + σ ⊙ ε with ε ~ N(0, I): a sample of q(z | x), differentiable in μ and log σ²."""
        return mu + (0.5 * logvar).exp() * randn(*mu.shape, generator=generator, dtype=mu.dtype)

    def decode(self, z: Tensor) -> Tensor:
        """The decoder's output for z ``(…, L)``: the logits of p(x | z) (Bernoulli) or its mean (Gaussian)."""
        return self.decoder(z)

    def mean(self, z: Tensor) -> Tensor:
        """E[x | z]: σ(logits) (Bernoulli) or the decoded mean (Gaussian)."""
        out = self.decode(z)
        return out.sigmoid() if self.likelihood == "bernoulli" else out

    def log_px_given_z(self, x: Tensor, out: Tensor) -> Tensor:
        """log p(x | z) summed over the features, from the decoder's output ``out`` for z (same shape as x)."""
        if self.likelihood == "bernoulli":
            return bernoulli_log_prob(x, out)
        return normal_log_prob(x, out, self.decoder_logvar.expand_as(out))

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """(decoder output for one z ~ q(z | x), μ, log σ²)."""
        mu, logvar = self.encode(x)
        return self.decode(self.reparameterize(mu, logvar)), mu, logvar

    # ---------------------------------------------------------------- objectives
    def elbo(self, x: Tensor, generator=None) -> Tensor:
        """ELBO(x) = log p(x | z) − KL(q(z | x) ‖ N(0, I)) for each sample, ``(N,)``, in nats: the first term with
        one reparameterised z, the KL in closed form (:func:`normal_kl_standard`)."""
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, generator)
        return self.log_px_given_z(x, self.decode(z)) - normal_kl_standard(mu, logvar)

    def loss(self, x: Tensor, generator=None) -> Tensor:
        """−ELBO averaged over the batch (nats per sample): what training minimises."""
        return -self.elbo(x, generator).mean()

    def log_likelihood(self, x: Tensor, k: int = 100, generator=None) -> Tensor:
        """The importance-sampled estimate of log p(x) with ``k`` samples of q(z | x), ``(N,)``:
        log (1/k) Σ_i exp(log p(x | z_i) + log p(z_i) − log q(z_i | x)), evaluated with logsumexp.

        Its expectation equals E[ELBO] at k = 1 and increases with k towards log p(x) (Burda et al. 2016).
        The k samples are decoded in chunks of about 4M elements.
        """
        if int(k) < 1:
            raise ValueError(f"VAE.log_likelihood: k must be >= 1, got {k}")
        mu, logvar = self.encode(x)
        n, width = x.shape[0], max(1, x.shape[0] * self.in_features)
        step = max(1, min(int(k), CHUNK // width))
        weights = []
        for start in range(0, int(k), step):
            m = min(step, int(k) - start)
            eps = randn(m, n, self.latent_features, generator=generator, dtype=mu.dtype)
            z = mu + (0.5 * logvar).exp() * eps                                          # (m, N, L)
            out = self.decode(z.reshape(m * n, self.latent_features)).reshape(m, n, self.in_features)
            log_pz = normal_log_prob(z, zeros_like(z), zeros_like(z))
            log_q = normal_log_prob(z, mu.expand_as(z), logvar.expand_as(z))
            weights.append(self.log_px_given_z(x.expand(m, n, self.in_features), out) + log_pz - log_q)
        return logsumexp(cat(weights, 0), 0) - math.log(int(k))

    def sample(self, n: int, generator=None) -> Tensor:
        """``n`` draws of E[x | z] with z ~ N(0, I), ``(n, D)`` (the images a VAE shows as its samples)."""
        return self.mean(randn(int(n), self.latent_features, generator=generator, dtype=self._dtype()))

    def _dtype(self):
        return self.decoder[0].weight.dtype

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, latent_features={self.latent_features}, hidden={self.hidden}, "
                f"likelihood={self.likelihood!r}")
