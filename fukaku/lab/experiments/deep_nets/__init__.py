"""Deep networks (seed 000 §6.1.3, seed 002 ch. 1): how the gradient travels back through 30 layers at
initialisation, ReLU units that a large negative bias kills for good, and why depth needs nonlinearity
(a stack of linear layers is one matrix and cannot fit XOR)."""
