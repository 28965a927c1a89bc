"""Stacks of linear layers with no activation between them, and the one affine map each computes
(seed 002 ch. 1): x ↦ W_L(⋯(W_1 x + b_1)⋯) + b_L = W x + b with W = W_L⋯W_1, b = Σ_l W_L⋯W_{l+1} b_l."""
from __future__ import annotations

import numpy as np

import fukaku as fk
from fukaku import nn


def deep_linear(sizes: list[int]) -> nn.Sequential:
    """Linear layers of the given widths and no activation between them, float64."""
    return nn.Sequential(*[nn.Linear(a, b, dtype=fk.float64) for a, b in zip(sizes[:-1], sizes[1:])])


def collapse(net: nn.Sequential) -> tuple[np.ndarray, np.ndarray]:
    """The single affine map (W ``(out, in)``, b ``(out,)``) that a stack of ``nn.Linear`` layers computes:
    W ← W_l W, b ← W_l b + b_l, layer by layer."""
    first = net[0]
    W = np.eye(first.in_features)
    b = np.zeros(first.in_features)
    for layer in net:
        W_l, b_l = layer.weight._data, layer.bias._data
        W, b = W_l @ W, W_l @ b + b_l
    return W, b
