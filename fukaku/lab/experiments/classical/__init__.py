"""The single neuron of seed 000 §6.1.1 and the regression losses of seed 003: the perceptron's convergence
and its failure on XOR, logistic regression, linear regression by gradient descent, MAE vs MSE.

The models are :mod:`fukaku.models`; these experiments only generate data, measure and compare."""
