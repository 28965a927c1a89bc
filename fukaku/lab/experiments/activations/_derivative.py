"""The derivative of an elementwise function by one reverse pass: what the activation experiments measure."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

import fukaku as fk


def autograd_derivative(fn: Callable[[fk.Tensor], fk.Tensor], z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fn(z), fn'(z)) for an elementwise ``fn`` on the points ``z``, in float64."""
    x = fk.tensor(z, dtype=fk.float64, requires_grad=True)
    y = fn(x)
    (g,) = fk.autograd.grad(y.sum(), x)
    return y.detach().numpy(), g.numpy()
