"""Energy-based models — seed 000 §6.1.5–6.1.6.

- :class:`BoltzmannMachine` — binary {0, 1} units, symmetric zero-diagonal W, biases b, energy
  E(x) = −½ xᵀWx − bᵀx (the −Σ b x sign of §6.1.5; erratum C18: Hopfield's +Σ θ x is the opposite
  convention); exact log Z and moments by enumeration, Gibbs sampling, the ML gradient
  (data moments − model moments) (``boltzmann.py``);
- :class:`RBM` — Bernoulli–Bernoulli restricted Boltzmann machine: p(h|v), p(v|h), free energy, CD-k and
  persistent CD, reconstruction error, block Gibbs sampling, log Z exact or by annealed importance sampling
  (``rbm.py``);
- :class:`DBN` — RBMs pretrained greedily layer by layer, a softmax head, fine-tuning with autograd (``dbn.py``);
- :class:`HopfieldNetwork` — the Amari–Hopfield memory: Hebb rule (:func:`hebbian_weights`), energy
  −½ xᵀWx + θᵀx, asynchronous and synchronous recall (:func:`hopfield_recall`), :func:`overlap` (``hopfield.py``);
- CDMA: :func:`spreading_codes`, :func:`cdma_signal`, :func:`matched_filter`, the Hopfield-like
  :func:`iterative_detector`, :func:`bit_error_rate` (``cdma.py``).
"""
from .boltzmann import BoltzmannMachine
from .rbm import RBM
from .dbn import DBN
from .hopfield import HopfieldNetwork, HopfieldRecall, hebbian_weights, hopfield_energy, hopfield_recall, overlap
from .cdma import (bit_error_rate, cdma_signal, iterative_detector, matched_filter, noise_std, single_user_ber,
                   spreading_codes)

__all__ = ["BoltzmannMachine", "RBM", "DBN", "HopfieldNetwork", "HopfieldRecall", "hebbian_weights", "hopfield_energy",
           "hopfield_recall", "overlap", "spreading_codes", "cdma_signal", "noise_std", "matched_filter",
           "iterative_detector", "bit_error_rate", "single_user_ber"]
