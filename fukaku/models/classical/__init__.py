"""The classical models of seed 000 §6.1.1–6.1.2, each in its own file that reads like the section it implements.

- :class:`Perceptron` — the error-correction rule (§6.1.1), with :func:`novikoff_bound`,
  :func:`margin` and :func:`max_margin` for the convergence theorem;
- :class:`LogisticRegression` — the sigmoid neuron (softmax for K classes) maximising the
  Bernoulli log-likelihood (§6.1.1);
- :class:`LinearRegression` — the identity neuron, closed form or gradient descent (§6.1.1);
- :class:`MLP` — the multilayer perceptron built from ``fukaku.nn`` layers (§6.1.2, §6.1.4);
- :class:`ManualMLP` — the same network with backpropagation's δ-recursion written by hand in NumPy (§6.1.2).
"""
from ._descent import FitResult
from .linear_regression import LinearRegression
from .logistic_regression import LogisticRegression
from .manual_mlp import ManualMLP
from .mlp import MLP
from .perceptron import MaxMargin, Perceptron, PerceptronFit, margin, max_margin, novikoff_bound

__all__ = ["Perceptron", "PerceptronFit", "margin", "novikoff_bound", "max_margin", "MaxMargin",
           "LogisticRegression", "LinearRegression", "FitResult", "MLP", "ManualMLP"]
