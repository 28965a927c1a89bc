"""Energy-based models and statistical physics: seed 000 §6.1.5–6.1.6 and seed 002 ch. 5. The Boltzmann machine
(the gradient of log Z is a moment, Gibbs sampling reaches the enumerated moments), the RBM (exact conditionals,
contrastive divergence on binarised digits) and DBN pretraining; the Amari–Hopfield associative memory (the
energy never increases under asynchronous updates, pattern completion at P/N = 0.05, the capacity α_c ≈ 0.138,
spurious mixture states) and its twin, CDMA multi-user detection (bit-error rate of the matched filter and of an
iterative detector against load and SNR); and seed 002's physics: Boltzmann limits, the gift exchange, the
Hamiltonian heads that give sigmoid, softmax and linear outputs, mean field against exact marginalisation, and a
symplectic oscillator."""
