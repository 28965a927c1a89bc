"""Theory of deep learning, measured: seed 000 §6.1.8 (the neural tangent kernel: deterministic at infinite width,
constant in training, training = kernel regression; the NNGP at initialisation), §6.1.9 (double descent: the
peak at the interpolation threshold p = n, the second descent of the minimum-norm solution, the roles of noise
and of gradient descent's implicit bias) and §6.1.2 (forward against reverse mode: the passes and the time a
full gradient costs as the number of parameters grows)."""
