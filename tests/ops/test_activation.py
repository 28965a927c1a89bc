"""Ops of fukaku/ops/activation.py that have no layer of their own, against PyTorch."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from conformance import FLOATS, check, uniform


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("eps", [None, 0.1])
def test_logit_matches_torch(eps, dtype):
    p = uniform(0.02, 0.98, 3, 5, dtype=dtype, seed=1)
    p[0, :2] = [0.05, 0.95]  # outside [eps, 1 − eps] when eps = 0.1: clamped, gradient 0
    check(lambda x: fk.logit(x, eps), lambda x: torch.logit(x, eps), [p], dtype)
    check(lambda x: x.logit(eps), lambda x: x.logit(eps), [p], dtype, second=False)


def test_logit_inverts_sigmoid_and_takes_integers():
    x = fk.linspace(-4, 4, 9, dtype=fk.float64)
    np.testing.assert_allclose(fk.logit(fk.sigmoid(x)).numpy(), x.numpy(), atol=1e-12)
    assert fk.logit(fk.tensor([0, 1])).tolist() == torch.logit(torch.tensor([0, 1])).tolist()
