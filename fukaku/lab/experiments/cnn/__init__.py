"""Convolutional networks (seed 004 §3.3, seed 001 §9.2, seed 002 ch. 3, seed 000 §6.2): the output-size
formula, strided convolution as subsampling, translation equivariance and where pooling breaks it,
parameter counts of dense vs convolutional layers, 2×2 pooling, convolution as similarity, simple and
complex cells, and the Neocognitron next to a CNN trained by backpropagation."""
