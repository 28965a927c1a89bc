"""Conformance of the linear-algebra ops (fukaku/ops/linalg.py) with PyTorch: forward values,
reverse mode, forward mode and second derivatives, float32 and float64."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku
from conformance import FLOATS, check, check_random, randn, shape_error_raised, well_conditioned

dtypes = pytest.mark.parametrize("dtype", FLOATS)


# ----------------------------------------------------------------------------- matmul
MATMUL = [
    ((3,), (3,)),                     # 1-d · 1-d -> 0-d
    ((3,), (3, 4)),                   # 1-d · 2-d
    ((2, 3), (3,)),                   # 2-d · 1-d
    ((2, 3), (3, 4)),                 # 2-d · 2-d
    ((5, 2, 3), (3, 4)),              # batched @ matrix
    ((2, 3), (5, 3, 4)),              # matrix @ batched
    ((5, 2, 3), (5, 3, 4)),           # batched @ batched
    ((2, 1, 2, 3), (3, 3, 4)),        # broadcast batch dims
    ((3,), (2, 3, 4)),                # vector @ batched
    ((2, 4, 3), (3,)),                # batched @ vector
    ((1, 3), (3, 1)),
    ((0, 3), (3, 4)),                 # empty rows
    ((2, 0), (0, 4)),                 # empty inner dimension
    ((0,), (0,)),
    ((2, 3, 0), (0,)),
]


@dtypes
@pytest.mark.parametrize("sa,sb", MATMUL)
def test_matmul(sa, sb, dtype):
    check_random(fukaku.matmul, torch.matmul, [sa, sb], dtype, second=True)
    check_random(lambda a, b: a @ b, lambda a, b: a @ b, [sa, sb], dtype, jvp=False)
    check_random(lambda a, b: a.matmul(b), lambda a, b: a.matmul(b), [sa, sb], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((3,), (3, 2)), ((2, 1, 2, 3), (4, 3, 2))])
def test_matmul_of_products(sa, sb, dtype):
    """A nonlinear use (a product of matmuls) so that second derivatives are not trivially zero."""
    def f(lib):
        return lambda a, b: lib.matmul(lib.matmul(a, b), b.mT if b.ndim > 1 else b) * a.sum()
    check_random(f(fukaku), f(torch), [sa, sb], dtype, second=True)


@dtypes
def test_matmul_same_operand(dtype):
    check_random(lambda a: a @ a, lambda a: a @ a, [(3, 3)], dtype, second=True)
    check_random(lambda a: a @ a.T, lambda a: a @ a.T, [(3, 4)], dtype, second=True)


@dtypes
def test_matmul_one_operand_constant(dtype):
    w = randn((3, 4), dtype=dtype, seed=5)
    check_random(lambda a: a @ fukaku.tensor(w), lambda a: a @ torch.from_numpy(w), [(2, 5, 3)], dtype, second=True)
    check_random(lambda b: fukaku.tensor(w.T.copy()) @ b, lambda b: torch.from_numpy(w.T.copy()) @ b, [(2, 3, 2)], dtype,
        second=True)


def test_matmul_mixed_dtypes():
    a, b = np.ones((2, 3), np.float32), np.ones((3, 2), np.float64)
    got = fukaku.matmul(fukaku.tensor(a), fukaku.tensor(b))
    want = torch.matmul(torch.from_numpy(a).double(), torch.from_numpy(b))
    assert got.dtype == np.float64 and np.allclose(got.data.numpy(), want.numpy())
    x = fukaku.tensor(a, requires_grad=True)
    (x @ fukaku.tensor(b)).sum().backward()
    assert x.grad.dtype == np.float32


def test_matmul_integer():
    a, b = np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)
    got = fukaku.tensor(a) @ fukaku.tensor(b)
    want = torch.from_numpy(a) @ torch.from_numpy(b)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got.data.numpy(), want.numpy())


@dtypes
@pytest.mark.parametrize("sa,sb", [((2, 3), (3, 4)), ((1, 1), (1, 5)), ((0, 2), (2, 3))])
def test_mm(sa, sb, dtype):
    check_random(fukaku.mm, torch.mm, [sa, sb], dtype, second=True)
    check_random(lambda a, b: a.mm(b), lambda a, b: a.mm(b), [sa, sb], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("sa,sb", [((4, 2, 3), (4, 3, 5)), ((1, 1, 3), (1, 3, 1)), ((0, 2, 3), (0, 3, 2))])
def test_bmm(sa, sb, dtype):
    check_random(fukaku.bmm, torch.bmm, [sa, sb], dtype, second=True)
    check_random(lambda a, b: a.bmm(b), lambda a, b: a.bmm(b), [sa, sb], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("n", [1, 4, 0])
def test_dot_outer(n, dtype):
    check_random(fukaku.dot, torch.dot, [(n,), (n,)], dtype, second=True)
    check_random(fukaku.outer, torch.outer, [(n,), (3,)], dtype, second=True)
    check_random(lambda a, b: a.outer(b), lambda a, b: a.outer(b), [(n,), (2,)], dtype, jvp=False)


# ----------------------------------------------------------------------------- einsum
EINSUM = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("ij->", [(3, 4)]),
    ("ij->j", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,i->", [(3,), (3,)]),
    ("...ij,...jk->...ik", [(2, 5, 2, 3), (2, 5, 3, 4)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (3, 4)]),            # ellipsis of different lengths
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (4, 3, 2)]),      # broadcast ellipsis
    ("...i,...i->...", [(2, 3, 4), (2, 3, 4)]),
    ("i...->...", [(3, 2, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),             # three operands
    ("bi,bj,bk->bijk", [(2, 3), (2, 2), (2, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),                            # implicit output
    ("ij,kj", [(2, 3), (4, 3)]),
    ("i,j", [(3,), (2,)]),
    ("ba", [(3, 2)]),                                        # implicit output sorts the letters
    ("ij,j->i", [(3, 4), (4,)]),
    ("ij,kl->", [(2, 3), (4, 5)]),                           # letters only one operand has
    ("ij,ik->jk", [(0, 3), (0, 2)]),                         # empty summed dimension
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),               # spaces
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 5), (2, 3, 6, 5)]),      # attention scores
    ("ij,ij->ij", [(2, 1), (1, 3)]),                         # size-1 dims of a named letter broadcast
    ("...ij->ij", [(2, 3, 4)]),                              # ellipsis summed away
    ("a...b,b...c->ac", [(2, 3, 4), (4, 3, 5)]),
    ("...", [(2, 3)]),
]


@dtypes
@pytest.mark.parametrize("eq,shapes", EINSUM, ids=[e for e, _ in EINSUM])
def test_einsum(eq, shapes, dtype):
    check_random(lambda *xs: fukaku.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), shapes, dtype, second=True)
    check_random(lambda *xs: fukaku.einsum(eq, list(xs)), lambda *xs: torch.einsum(eq, list(xs)), shapes, dtype, jvp=False)


@dtypes
def test_einsum_same_operand_twice(dtype):
    check_random(lambda a: fukaku.einsum("ij,ij->", a, a), lambda a: torch.einsum("ij,ij->", a, a), [(3, 4)], dtype, second=True)
    check_random(lambda a: fukaku.einsum("ij,jk,kl->il", a, a, a), lambda a: torch.einsum("ij,jk,kl->il", a, a, a), [(3, 3)],
        dtype, second=True)


@dtypes
def test_einsum_constant_operand(dtype):
    w = randn((3, 4), dtype=dtype, seed=5)
    check_random(lambda a: fukaku.einsum("ij,jk->ik", a, fukaku.tensor(w)), lambda a: torch.einsum("ij,jk->ik", a, torch.from_numpy(w)),
        [(2, 3)], dtype, second=True)


@dtypes
@pytest.mark.parametrize("eq,shapes", [("ii->i", [(3, 3)]), ("ii->", [(3, 3)]), ("bii->bi", [(2, 3, 3)]),
                                       ("iij,jk->ik", [(3, 3, 2), (2, 4)]), ("ii", [(3, 3)]), ("iji->j", [(3, 2, 3)]),
                                       ("...ii->...i", [(2, 3, 3)]), ("iii->i", [(2, 2, 2)]),
                                       ("bii,bjj->bij", [(2, 3, 3), (2, 2, 2)]), ("ii,ij->j", [(3, 3), (3, 2)])])
def test_einsum_repeated_subscripts(eq, shapes, dtype):
    """Diagonals (a letter repeated within one operand), like torch."""
    check_random(lambda *xs: fukaku.einsum(eq, *xs), lambda *xs: torch.einsum(eq, *xs), shapes, dtype, second=True)


def test_einsum_mixed_dtypes():
    a, b, c = np.ones((2, 3), np.float32), np.ones((3, 4), np.float32), np.ones((4,), np.float64)
    got = fukaku.einsum("ij,jk,k->i", fukaku.tensor(a), fukaku.tensor(b), fukaku.tensor(c))
    want = torch.einsum("ij,jk,k->i", torch.from_numpy(a).double(), torch.from_numpy(b).double(), torch.from_numpy(c))
    assert got.dtype == np.float64
    np.testing.assert_allclose(got.data.numpy(), want.numpy())


# ----------------------------------------------------------------------------- det / inverse / trace
@dtypes
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (5, 5), (4, 3, 3), (2, 3, 2, 2)])
def test_det(shape, dtype):
    a = well_conditioned(shape, dtype=dtype)
    check(fukaku.det, torch.det, [a], dtype, second=True)
    check(lambda x: x.det(), lambda x: x.det(), [a], dtype, jvp=False, second=False)


@dtypes
def test_det_of_product(dtype):
    a, b = well_conditioned((3, 3), dtype=dtype), well_conditioned((3, 3), dtype=dtype, seed=1)
    check(lambda x, y: fukaku.det(x @ y) * fukaku.det(x), lambda x, y: torch.det(x @ y) * torch.det(x), [a, b], dtype,
          second=True)


@dtypes
def test_det_singular_forward(dtype):
    a = np.array([[1.0, 2.0], [2.0, 4.0]], dtype)
    got, want = fukaku.det(fukaku.tensor(a)), torch.det(torch.from_numpy(a))
    np.testing.assert_allclose(got.data.numpy(), want.numpy(), atol=1e-6)


@dtypes
@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 3), (5, 5), (4, 3, 3), (2, 3, 2, 2)])
def test_inverse(shape, dtype):
    a = well_conditioned(shape, dtype=dtype)
    check(fukaku.inverse, torch.inverse, [a], dtype, second=True)
    check(lambda x: x.inverse(), lambda x: x.inverse(), [a], dtype, jvp=False, second=False)


@dtypes
def test_inverse_composition(dtype):
    a = well_conditioned((3, 3), dtype=dtype)
    check(lambda x: fukaku.inverse(x) @ x @ fukaku.inverse(x).T, lambda x: torch.inverse(x) @ x @ torch.inverse(x).T,
          [a], dtype, second=True)


@dtypes
@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (1, 1), (0, 0), (0, 3)])
def test_trace(shape, dtype):
    check_random(fukaku.trace, torch.trace, [shape], dtype, second=True)
    check_random(lambda x: x.trace(), lambda x: x.trace(), [shape], dtype, jvp=False)


@dtypes
def test_trace_of_products(dtype):
    a = well_conditioned((3, 3), dtype=dtype)
    check(lambda x: fukaku.trace(x @ x @ x) + fukaku.trace(fukaku.inverse(x)),
          lambda x: torch.trace(x @ x @ x) + torch.trace(torch.inverse(x)), [a], dtype, second=True)


def test_inverse_singular_raises():
    with pytest.raises(RuntimeError, match="singular"):
        fukaku.inverse(fukaku.zeros(2, 2))


# ----------------------------------------------------------------------------- errors
def test_shape_errors():
    a = fukaku.zeros(2, 3)
    shape_error_raised(lambda: fukaku.matmul(a, fukaku.zeros(4, 2)), "matmul", (2, 3), (4, 2))
    shape_error_raised(lambda: a @ fukaku.zeros(4), "matmul", (2, 3), (4,))
    shape_error_raised(lambda: fukaku.zeros(4) @ a, "matmul", (4,), (2, 3))
    shape_error_raised(lambda: fukaku.zeros(3) @ fukaku.zeros(4), "matmul", (3,), (4,))
    shape_error_raised(lambda: fukaku.zeros(2, 2, 3) @ fukaku.zeros(3, 3, 4), "matmul", (2, 2, 3), (3, 3, 4))
    shape_error_raised(lambda: fukaku.matmul(fukaku.zeros(()), a), "matmul", (), (2, 3))
    shape_error_raised(lambda: fukaku.mm(a, fukaku.zeros(4, 2)), "mm", (2, 3), (4, 2))
    shape_error_raised(lambda: fukaku.mm(a, fukaku.zeros(3)), "mm", (2, 3), (3,))
    shape_error_raised(lambda: fukaku.bmm(fukaku.zeros(2, 2, 3), fukaku.zeros(3, 3, 4)), "bmm", (2, 2, 3), (3, 3, 4))
    shape_error_raised(lambda: fukaku.bmm(fukaku.zeros(2, 2, 3), fukaku.zeros(2, 4, 4)), "bmm", (2, 2, 3), (2, 4, 4))
    shape_error_raised(lambda: fukaku.dot(fukaku.zeros(3), fukaku.zeros(4)), "dot", (3,), (4,))
    shape_error_raised(lambda: fukaku.outer(a, fukaku.zeros(4)), "outer", (2, 3), (4,))
    shape_error_raised(lambda: fukaku.einsum("ij,jk->ik", a, fukaku.zeros(4, 2)), "einsum", (2, 3), (4, 2))
    shape_error_raised(lambda: fukaku.einsum("ijk->i", a), "einsum", (2, 3))
    shape_error_raised(lambda: fukaku.det(a), "det", (2, 3))
    shape_error_raised(lambda: fukaku.inverse(fukaku.zeros(3)), "inverse", (3,))
    shape_error_raised(lambda: fukaku.trace(fukaku.zeros(2, 2, 2)), "trace", (2, 2, 2))
    shape_error_raised(lambda: fukaku.einsum("ii->i", a), "einsum", (2, 3))
    with pytest.raises(ValueError):
        fukaku.einsum("ij,jk->ik", a)
