"""Theory of deep learning as code (seed 000 §6.1.8–6.1.9): the neural tangent kernel and its infinite-width
limits (:mod:`fukaku.theory.ntk`), and double descent (:mod:`fukaku.theory.double_descent`)."""
from . import double_descent, ntk

__all__ = ["double_descent", "ntk"]
