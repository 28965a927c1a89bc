"""VAE-GAN — seed 000 §6.5; Larsen et al. 2016, "Autoencoding beyond pixels using a learned similarity metric".

A VAE whose decoder doubles as a GAN's generator, with a discriminator D. The VAE's pixel-wise
reconstruction error is replaced by an error in the feature space of D's hidden layer l: the decoded
x̃ = Dec(z), z ~ q(z | x), should give D the same features as x, Dis_l(x̃) ≈ Dis_l(x) (a Gaussian
likelihood there, ½‖Dis_l(x) − Dis_l(x̃)‖²). The text's objective is

    L = L_recon + λ1 KL(q(z | x) ‖ p(z)) + λ2 L_GAN,

with L_GAN = log D(x) + log(1 − D(x̃)) + log(1 − D(Dec(z_p))), z_p ~ p(z) (reconstructions and prior samples
are both fakes). As in the paper each part trains on its own terms (:meth:`VAEGAN.losses`): the encoder
minimises L_recon + λ1 KL, the decoder L_recon − λ2 (its non-saturating GAN term), the discriminator the GAN
classification loss (reconstructions and prior samples against real data); the discriminator's features
in L_recon are not trained by it (:meth:`VAEGAN.train_step` takes each objective's gradient with respect to
its own part only).
"""
from __future__ import annotations

from collections.abc import Sequence

from ... import nn
from ...autograd import grad
from ...nn.parameter import Parameter
from ...optim.optimizer import Optimizer
from ...tensor import Generator, Tensor, randn
from ..classical.mlp import MLP
from .densities import normal_kl_standard
from .gan import discriminator_loss, generator_loss


class VAEGAN(nn.Module):
    """A VAE-GAN on vectors (flattened images with pixels in [0, 1]).

    Args:
        in_features: D, the width of x.
        latent_features: L, the width of z.
        hidden: hidden widths of the encoder and the discriminator; the decoder mirrors them.
        lambda_kl: λ1, the weight of the KL term.
        lambda_gan: λ2, the weight of the GAN term for the decoder.

    Shape:
        x ``(N, D)``; :meth:`losses` returns scalars; :meth:`sample` ``(n, D)``.

    Example:
        >>> model = VAEGAN(64, latent_features=8)
        >>> parts = model.losses(x)        # doctest: +SKIP
        >>> parts["encoder"], parts["decoder"], parts["discriminator"]  # one optimizer each  # doctest: +SKIP
    """

    def __init__(self, in_features: int, latent_features: int = 16, hidden: Sequence[int] = (256,),
                 lambda_kl: float = 1.0, lambda_gan: float = 1.0) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        if not hidden:
            raise ValueError("VAEGAN: hidden must hold at least one width (the discriminator's feature layer)")
        self.in_features, self.latent_features = int(in_features), int(latent_features)
        self.lambda_kl, self.lambda_gan = float(lambda_kl), float(lambda_gan)
        self.encoder = MLP([self.in_features, *hidden, 2 * self.latent_features], "relu")
        self.decoder = MLP([self.latent_features, *hidden[::-1], self.in_features], "relu", output_activation="sigmoid")
        self.features = MLP([self.in_features, *hidden], lambda: nn.LeakyReLU(0.2), output_activation=lambda: nn.LeakyReLU(0.2))
        self.head = nn.Linear(hidden[-1], 1)

    def discriminate(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """D's hidden features Dis_l(x) ``(N, hidden[-1])`` and its logit ``(N,)``."""
        h = self.features(x)
        return h, self.head(h).squeeze(1)

    def losses(self, x: Tensor, generator: Generator | None = None) -> dict[str, Tensor]:
        """The training objectives for a batch: ``encoder`` (L_recon + λ1 KL), ``decoder`` (L_recon + λ2 · the
        non-saturating GAN loss of reconstructions and prior samples), ``discriminator`` (real x against both
        kinds of fakes), and the parts ``recon`` (½‖Dis_l(x) − Dis_l(x̃)‖², batch mean), ``kl`` and ``gan``."""
        out = self.encoder(x)
        mu, logvar = out[:, :self.latent_features], out[:, self.latent_features:]
        z = mu + (0.5 * logvar).exp() * randn(*mu.shape, generator=generator, dtype=mu.dtype)
        x_recon = self.decoder(z)
        x_prior = self.decoder(randn(*mu.shape, generator=generator, dtype=mu.dtype))
        real_features, real_logit = self.discriminate(x)
        recon_features, recon_logit = self.discriminate(x_recon)
        _, prior_logit = self.discriminate(x_prior)
        recon = 0.5 * ((recon_features - real_features.detach()) ** 2).sum(1).mean()
        kl = normal_kl_standard(mu, logvar).mean()
        gan = generator_loss(recon_logit) + generator_loss(prior_logit)
        discriminator = discriminator_loss(real_logit, recon_logit) + discriminator_loss(real_logit, prior_logit)
        return {"encoder": recon + self.lambda_kl * kl, "decoder": recon + self.lambda_gan * gan,
                "discriminator": discriminator, "recon": recon, "kl": kl, "gan": gan}

    def parts(self) -> dict[str, list[Parameter]]:
        """The parameters each objective of :meth:`losses` trains."""
        return {"encoder": list(self.encoder.parameters()), "decoder": list(self.decoder.parameters()),
                "discriminator": [*self.features.parameters(), *self.head.parameters()]}

    def train_step(self, x: Tensor, optimizers: dict[str, Optimizer], generator: Generator | None = None) -> dict[str, float]:
        """One step of each part on its own objective, all from one forward pass: each objective's gradient is
        taken with respect to its part's parameters only (``autograd.grad``), then each optimizer steps.
        ``optimizers`` maps ``encoder``, ``decoder``, ``discriminator`` to optimizers over :meth:`parts`.
        Returns the losses as floats."""
        losses = self.losses(x, generator)
        groups = self.parts()
        grads = {name: grad(losses[name], groups[name], retain_graph=True) for name in groups}
        for name, params in groups.items():
            optimizers[name].zero_grad()
            for p, g in zip(params, grads[name]):
                p.grad = g
            optimizers[name].step()
        return {name: float(value) for name, value in losses.items()}

    def sample(self, n: int, generator: Generator | None = None) -> Tensor:
        """n images Dec(z), z ~ N(0, I)."""
        return self.decoder(randn(int(n), self.latent_features, generator=generator))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, latent_features={self.latent_features}, "
                f"lambda_kl={self.lambda_kl}, lambda_gan={self.lambda_gan}")


__all__ = ["VAEGAN"]
