"""Statistical physics behind neural networks (seed 002 ch. 5), small and vectorised.

- :mod:`~fukaku.physics.boltzmann`: the Boltzmann distribution p_i ∝ e^{−βε_i}, log Z;
- :mod:`~fukaku.physics.stirling`: log n! and Stirling's approximation with its error;
- :mod:`~fukaku.physics.max_entropy`: log W = log N!/Π n_i! maximised under fixed N and E → Boltzmann;
- :mod:`~fukaku.physics.gift_exchange`: agents trading one unit at random → P(n) = 2^{−(n+1)};
- :mod:`~fukaku.physics.hamiltonian_heads`: binary / one-hot / Gaussian Hamiltonians → sigmoid + BCE,
  softmax + CE, linear + squared error;
- :mod:`~fukaku.physics.mean_field`: a chain of Hamiltonians, exact (enumerated) vs mean-field (an MLP);
- :mod:`~fukaku.physics.symplectic`: leapfrog (Störmer–Verlet) beside explicit Euler on H = p²/2m + kq²/2.
"""
from .boltzmann import boltzmann_distribution, boltzmann_log_probs, log_partition_function
from .gift_exchange import gift_exchange, gift_exchange_stationary, wealth_distribution
from .hamiltonian_heads import HeadOutput, binary_head, gaussian_head, one_hot_head
from .max_entropy import boltzmann_beta, boltzmann_occupations, log_multiplicity, max_entropy_occupations
from .mean_field import MAX_HIDDEN_STATES, exact_forward, mean_field_forward
from .stirling import log_factorial, stirling_error, stirling_log_factorial
from .symplectic import euler, leapfrog, leapfrog_shadow_energy, oscillator_energy, oscillator_force

__all__ = [
    "boltzmann_distribution", "boltzmann_log_probs", "log_partition_function",
    "log_factorial", "stirling_log_factorial", "stirling_error",
    "log_multiplicity", "boltzmann_beta", "boltzmann_occupations", "max_entropy_occupations",
    "gift_exchange", "wealth_distribution", "gift_exchange_stationary",
    "HeadOutput", "binary_head", "one_hot_head", "gaussian_head",
    "mean_field_forward", "exact_forward", "MAX_HIDDEN_STATES",
    "oscillator_energy", "oscillator_force", "leapfrog", "euler", "leapfrog_shadow_energy",
]
