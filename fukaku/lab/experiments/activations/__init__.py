"""Activation functions (seed 000 §6.1.3, seed 003, seed 004 §3.2.2): the softmax demo, the activations'
derivatives, and the 0.25 bound on σ' behind vanishing gradients. Every derivative is fukaku's autograd;
the oracles are float64 central finite differences and the textbook's closed forms."""
