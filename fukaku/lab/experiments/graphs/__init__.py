"""Computational graphs (seed 003): the graph autograd records, drawn with :mod:`fukaku.utils.graph`, and
backpropagation checked against the chain rule worked by hand on it."""
