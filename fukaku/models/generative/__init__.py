"""Generative and representation models — seed 004 §3.5 (autoencoders) and seed 000 §6.5 (the VAE).

- :class:`Autoencoder` — undercomplete (``[d, k]``, k < d), linear (``activation="identity"``: it spans the
  principal subspace) or deep/stacked (hidden layers on both sides) (``autoencoder.py``);
- :class:`SparseAutoencoder` with :func:`l1_sparsity` (‖h‖₁) or :func:`kl_sparsity` (Σ_j KL(ρ ‖ ĥ_j), ρ = 0.05,
  sigmoid codes) (``sparse.py``);
- :class:`DenoisingAutoencoder` and :func:`corrupt` (Gaussian or masking noise) (``denoising.py``);
- :class:`ContractiveAutoencoder`, :func:`contractive_penalty` (‖∂h/∂x‖_F² through double backward) and its
  closed form for one sigmoid layer :func:`sigmoid_contractive_penalty` (``contractive.py``);
- :class:`VAE` — Gaussian encoder (μ, log σ²), reparameterisation, Bernoulli or Gaussian decoder, closed-form KL,
  ``elbo``, ``sample``, importance-sampled ``log_likelihood`` (``vae.py``), over :func:`normal_log_prob`,
  :func:`bernoulli_log_prob` and :func:`normal_kl_standard` (``densities.py``);
- :class:`DDPM` over a :class:`NoiseSchedule` and a noise network such as :class:`EpsilonMLP` (with
  :func:`timestep_embedding`): L_simple, ancestral and DDIM sampling, classifier-free guidance (``diffusion.py``);
- normalizing flows: :class:`RealNVP` built from :class:`AffineCoupling`, :class:`ActNorm`,
  :class:`InvertibleLinear` and :class:`Reverse` in a :class:`NormalizingFlow` (``flows.py``);
- GANs: :func:`discriminator_loss`, :func:`generator_loss` (non-saturating or minimax), :func:`gan_step`,
  :class:`MLPGenerator`/:class:`MLPDiscriminator` and :class:`DCGANGenerator`/:class:`DCGANDiscriminator`
  (``gan.py``), and :class:`VAEGAN` (``vae_gan.py``).
"""
from .autoencoder import Autoencoder
from .contractive import ContractiveAutoencoder, contractive_penalty, sigmoid_contractive_penalty
from .denoising import DenoisingAutoencoder, corrupt
from .densities import bernoulli_log_prob, normal_kl_standard, normal_log_prob
from .sparse import SparseAutoencoder, kl_sparsity, l1_sparsity
from .vae import VAE
from .diffusion import DDPM, EpsilonMLP, NoiseSchedule, timestep_embedding
from .flows import ActNorm, AffineCoupling, InvertibleLinear, NormalizingFlow, RealNVP, Reverse
from .gan import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, discriminator_loss, gan_step,
                  generator_loss)
from .vae_gan import VAEGAN

__all__ = ["Autoencoder", "SparseAutoencoder", "kl_sparsity", "l1_sparsity", "DenoisingAutoencoder", "corrupt",
           "ContractiveAutoencoder", "contractive_penalty", "sigmoid_contractive_penalty", "VAE", "normal_log_prob",
           "bernoulli_log_prob", "normal_kl_standard", "DDPM", "EpsilonMLP", "NoiseSchedule", "timestep_embedding",
           "NormalizingFlow", "RealNVP", "AffineCoupling", "ActNorm", "InvertibleLinear", "Reverse",
           "discriminator_loss", "generator_loss", "gan_step", "MLPGenerator", "MLPDiscriminator", "DCGANGenerator",
           "DCGANDiscriminator", "VAEGAN"]
