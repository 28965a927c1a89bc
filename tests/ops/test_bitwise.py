"""Bitwise ops, gcd/lcm and PyTorch's longer names of the comparisons, against PyTorch (no gradients)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk

_A = np.array([[6, -3, 12], [0, 7, 255]], dtype=np.int64)
_B = np.array([[4, 9, 8], [5, -7, 3]], dtype=np.int64)
_BINARY = ["bitwise_and", "bitwise_or", "bitwise_xor", "gcd", "lcm", "not_equal", "less", "less_equal", "greater",
           "greater_equal", "divide"]


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_])
@pytest.mark.parametrize("name", _BINARY)
def test_binary_matches_torch(name, dtype):
    if dtype is np.bool_ and name in ("gcd", "lcm"):
        pytest.skip("torch defines gcd and lcm for integers only")
    a, b = np.abs(_A).astype(dtype), np.abs(_B).astype(dtype)
    got = getattr(fk, name)(fk.tensor(a), fk.tensor(b))
    want = getattr(torch, name)(torch.tensor(a), torch.tensor(b))
    assert np.dtype(got.dtype) == want.numpy().dtype
    np.testing.assert_allclose(got.numpy(), want.numpy())
    np.testing.assert_allclose(getattr(fk.tensor(a), name)(fk.tensor(b)).numpy(), want.numpy())


def test_operators_are_bitwise_as_in_torch():
    a, b = fk.tensor(_A), fk.tensor(_B)
    ta, tb = torch.tensor(_A), torch.tensor(_B)
    for got, want in [(a & b, ta & tb), (a | b, ta | tb), (a ^ b, ta ^ tb), (~a, ~ta), (a << 2, ta << 2),
                      (a >> 1, ta >> 1), (3 & a, 3 & ta), (~(a > 0), ~(ta > 0)), ((a > 0) & (b > 0), (ta > 0) & (tb > 0))]:
        np.testing.assert_array_equal(got.numpy(), want.numpy())
        assert np.dtype(got.dtype) == want.numpy().dtype


def test_inplace_twins_and_float_refusal():
    a = fk.tensor(_A)
    assert a.bitwise_and_(fk.tensor(_B)) is a
    np.testing.assert_array_equal(a.numpy(), _A & _B)
    with pytest.raises(TypeError, match="bitwise_xor: only integer and bool tensors"):
        fk.tensor([1.5]) ^ fk.tensor([2.5])
    np.testing.assert_array_equal(fk.sgn(fk.tensor([-2.0, 0.0, 3.0])).numpy(), [-1.0, 0.0, 1.0])
