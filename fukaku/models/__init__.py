"""The textbooks' architectures, one subpackage per family.

- :mod:`fukaku.models.classical` — perceptron, logistic and linear regression, the MLP, and the
  MLP with the δ-recursion written by hand (seed 000 §6.1.1–6.1.2).
- :mod:`fukaku.models.cnn` — convolutional networks: LeNet-5, AlexNet, VGG, the CIFAR ResNets and
  their plain twins, U-Net, a WaveNet-style causal CNN, MobileNet, the non-local block (seed 000 §6.2).
- :mod:`fukaku.models.rnn` — recurrent networks: sequence classifier and tagger, character language
  model, encoder–decoder with and without attention (seed 000 §6.1.7, seed 001 §9.3).
- :mod:`fukaku.models.transformer` — Transformers: encoder–decoder, BERT, GPT, T5-style text-to-text, ViT,
  CLIP with linear CCA beside it, and the parameter count of a configuration (seed 000 §6.3–6.5, seed 001 §9.4).
- :mod:`fukaku.models.generative` — autoencoders (undercomplete, deep, sparse L1/KL, denoising, contractive;
  seed 004 §3.5), the VAE, DDPM, normalizing flows, GANs and VAE-GAN (seed 000 §6.5).
- :mod:`fukaku.models.energy` — energy-based models: the Boltzmann machine, RBM and DBN, the Hopfield network
  and the CDMA detectors that share its energy (seed 000 §6.1.5–6.1.6).

Every model is also reachable as ``fukaku.models.<Name>``.
"""
from . import classical
from .classical import *  # noqa: F401,F403
from .classical import __all__ as _classical_all
from . import cnn
from .cnn import *  # noqa: F401,F403
from .cnn import __all__ as _cnn_all
from . import rnn
from .rnn import *  # noqa: F401,F403
from .rnn import __all__ as _rnn_all
from . import transformer
from .transformer import *  # noqa: F401,F403
from .transformer import __all__ as _transformer_all
from . import generative
from .generative import *  # noqa: F401,F403
from .generative import __all__ as _generative_all
from . import energy
from .energy import *  # noqa: F401,F403
from .energy import __all__ as _energy_all

__all__ = ["classical", *_classical_all, "cnn", *_cnn_all, "rnn", *_rnn_all, "transformer", *_transformer_all,
           "generative", *_generative_all, "energy", *_energy_all]
