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


# ----------------------------------------------------------------------------- mv and the addmm family
@dtypes
@pytest.mark.parametrize("sa,sb", [((2, 3), (3,)), ((1, 4), (4,)), ((0, 2), (2,)), ((3, 0), (0,))])
def test_mv(sa, sb, dtype):
    check_random(fukaku.mv, torch.mv, [sa, sb], dtype, second=True)
    check_random(lambda a, b: a.mv(b), lambda a, b: a.mv(b), [sa, sb], dtype, jvp=False)


ADDED = [  # name, input shape, operand shapes
    ("addmm", (2, 4), (2, 3), (3, 4)), ("addmm", (4,), (2, 3), (3, 4)), ("addmm", (), (2, 3), (3, 4)),
    ("addmv", (2,), (2, 3), (3,)), ("addmv", (1,), (2, 3), (3,)),
    ("baddbmm", (5, 2, 4), (5, 2, 3), (5, 3, 4)), ("baddbmm", (2, 1), (5, 2, 3), (5, 3, 4)),
    ("addbmm", (2, 4), (5, 2, 3), (5, 3, 4)), ("addbmm", (1, 4), (0, 2, 3), (0, 3, 4)),
]


@dtypes
@pytest.mark.parametrize("scale", [{}, {"beta": 0.5, "alpha": -2.0}, {"beta": 0}], ids=str)
@pytest.mark.parametrize("name,si,sa,sb", ADDED, ids=[f"{n}-{si}" for n, si, _, _ in ADDED])
def test_added_products(name, si, sa, sb, scale, dtype):
    f, t = getattr(fukaku, name), getattr(torch, name)
    check_random(lambda c, a, b: f(c, a, b, **scale), lambda c, a, b: t(c, a, b, **scale), [si, sa, sb], dtype,
                 second=True)
    check_random(lambda c, a, b: getattr(c, name)(a, b, **scale), lambda c, a, b: getattr(c, name)(a, b, **scale),
                 [si, sa, sb], dtype, jvp=False)


@dtypes
def test_added_products_beta_zero_ignores_nan(dtype):
    """beta=0: NaN and inf in input do not reach the result, as torch."""
    nan_input = np.full((2, 4), np.nan)
    check(lambda c, a, b: fukaku.addmm(c, a, b, beta=0), lambda c, a, b: torch.addmm(c, a, b, beta=0),
          [nan_input, randn(2, 3), randn(3, 4, seed=1)], dtype)


def test_added_products_shape_errors():
    shape_error_raised(lambda: fukaku.addmm(fukaku.zeros(3, 4), fukaku.zeros(2, 3), fukaku.zeros(3, 4)), "addmm",
                       (3, 4), (2, 4))
    shape_error_raised(lambda: fukaku.addmm(fukaku.zeros(2, 4), fukaku.zeros(2, 3), fukaku.zeros(2, 4)), "addmm",
                       (2, 3), (2, 4))
    shape_error_raised(lambda: fukaku.addmv(fukaku.zeros(2), fukaku.zeros(2, 3), fukaku.zeros(3, 1)), "addmv",
                       (2, 3), (3, 1))
    shape_error_raised(lambda: fukaku.baddbmm(fukaku.zeros(2, 2, 4), fukaku.zeros(2, 2, 3), fukaku.zeros(3, 3, 4)),
                       "baddbmm", (2, 2, 3), (3, 3, 4))
    shape_error_raised(lambda: fukaku.mv(fukaku.zeros(2, 3), fukaku.zeros(2)), "mv", (2, 3), (2,))


# ----------------------------------------------------------------------------- kron, cross, tensordot
@dtypes
@pytest.mark.parametrize("sa,sb", [((2, 3), (2, 2)), ((3,), (2,)), ((2, 1, 2), (3, 2)), ((2,), (2, 3, 1)),
                                   ((), (2, 3)), ((0, 2), (2, 2))])
def test_kron(sa, sb, dtype):
    check_random(fukaku.kron, torch.kron, [sa, sb], dtype, second=True)
    check_random(lambda a, b: a.kron(b), lambda a, b: a.kron(b), [sa, sb], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("sa,sb,dim", [((3,), (3,), 0), ((4, 3), (4, 3), -1), ((3, 4), (3, 4), 0), ((1, 3), (4, 3), 1),
                                       ((2, 3, 5), (2, 3, 1), 1)])
def test_cross(sa, sb, dim, dtype):
    check_random(lambda a, b: fukaku.cross(a, b, dim=dim), lambda a, b: torch.cross(a, b, dim=dim), [sa, sb], dtype,
                 second=True)
    check_random(lambda a, b: fukaku.linalg.cross(a, b, dim=dim), lambda a, b: torch.linalg.cross(a, b, dim=dim),
                 [sa, sb], dtype)
    check_random(lambda a, b: a.cross(b, dim), lambda a, b: a.cross(b, dim), [sa, sb], dtype, jvp=False)


@pytest.mark.filterwarnings("ignore:Using torch.cross without specifying the dim")
def test_cross_default_dims():
    """torch.cross without dim: the first dim of size 3; linalg.cross: the last (also as axis=)."""
    check_random(fukaku.cross, torch.cross, [(3, 2), (3, 2)], np.float64)
    check_random(fukaku.linalg.cross, torch.linalg.cross, [(2, 3), (1, 3)], np.float64)
    check_random(lambda a, b: fukaku.linalg.cross(a, b, axis=0), lambda a, b: torch.linalg.cross(a, b, axis=0),
                 [(3, 3), (3, 3)], np.float64, second=False)
    with pytest.raises(RuntimeError):
        fukaku.cross(fukaku.ones(2, 2), fukaku.ones(2, 2))
    shape_error_raised(lambda: fukaku.linalg.cross(fukaku.ones(2, 3), fukaku.ones(3)), "linalg.cross", (2, 3), (3,))
    shape_error_raised(lambda: fukaku.linalg.cross(fukaku.ones(3, 2), fukaku.ones(3, 2)), "linalg.cross", (3, 2))


TENSORDOT = [((2, 3, 4), (3, 4, 5), 2), ((2, 3), (3, 4), 1), ((2, 3), (4, 5), 0), ((2, 3, 4), (4, 3, 5), ([1, 2], [1, 0])),
             ((2, 3, 4), (5, 2), ([0], [1])), ((3, 4), (4, 3), ([-1, 0], [0, 1])), ((2, 3), (3,), ([1], [0])), ((3,), (3,), 1)]


@dtypes
@pytest.mark.parametrize("sa,sb,dims", TENSORDOT, ids=[str(d) for _, _, d in TENSORDOT])
def test_tensordot(sa, sb, dims, dtype):
    check_random(lambda a, b: fukaku.tensordot(a, b, dims), lambda a, b: torch.tensordot(a, b, dims), [sa, sb], dtype,
                 second=True)


def test_tensordot_errors():
    shape_error_raised(lambda: fukaku.tensordot(fukaku.ones(2, 3), fukaku.ones(4, 5), 1), "tensordot", (2, 3), (4, 5))
    with pytest.raises(RuntimeError):
        fukaku.tensordot(fukaku.ones(2, 3), fukaku.ones(3, 5), ([1], [0, 1]))
    with pytest.raises(RuntimeError):
        fukaku.tensordot(fukaku.ones(2, 3), fukaku.ones(3, 5), 3)


# ----------------------------------------------------------------------------- cdist and dist
CDIST_X1 = np.array([[0.0, 0.0, 1.0], [1.0, 2.0, -1.0], [0.5, -0.5, 2.0]])
CDIST_X2 = np.array([[0.0, 0.0, 1.0], [1.0, 3.0, 0.0], [3.0, 2.0, -1.0], [2.0, 1.0, 3.0]])  # row 0: distance 0


@dtypes
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf")], ids=str)
def test_cdist(p, dtype):
    """Rows at distance 0 get gradient 0, as torch. torch's cdist has neither forward mode nor a
    second derivative; gradgradcheck covers fukaku's (tests/ops/test_gradcheck.py)."""
    check(lambda a, b: fukaku.cdist(a, b, p=p), lambda a, b: torch.cdist(a, b, p=p), [CDIST_X1, CDIST_X2], dtype,
          jvp=False, second=False)
    check_random(lambda a, b: fukaku.cdist(a, b, p), lambda a, b: torch.cdist(a, b, p), [(2, 3, 4), (1, 5, 4)], dtype,
                 jvp=False)


@dtypes
def test_cdist_inf_ties_are_not_shared(dtype):
    """For p = inf torch's cdist gives sgn(difference) to every coordinate that reaches the max."""
    check(lambda a, b: fukaku.cdist(a, b, float("inf")), lambda a, b: torch.cdist(a, b, float("inf")),
          [np.array([[0.0, 0.0]]), np.array([[1.0, -1.0], [2.0, 2.0]])], dtype, jvp=False, second=False)


def test_cdist_errors():
    shape_error_raised(lambda: fukaku.cdist(fukaku.ones(2, 3), fukaku.ones(2, 4)), "cdist", (2, 3), (2, 4))
    with pytest.raises(RuntimeError):
        fukaku.cdist(fukaku.ones(2, 3), fukaku.ones(2, 3), p=-1)


@dtypes
@pytest.mark.parametrize("p", [2, 1, 3.5, float("inf"), 0])
def test_dist(p, dtype):
    # torch's backward of dist with p = 0 fails (an undefined gradient); fukaku's is 0
    check_random(lambda a, b: fukaku.dist(a, b, p), lambda a, b: torch.dist(a, b, p), [(2, 3), (3,)], dtype,
                 backward=p != 0, second=p not in (1, 0, float("inf")))
    check_random(lambda a, b: a.dist(b), lambda a, b: a.dist(b), [(2, 3), (2, 3)], dtype, jvp=False)
    same = randn(2, 3)
    check(lambda a, b: fukaku.dist(a, b, p), lambda a, b: torch.dist(a, b, p), [same, same.copy()], dtype,
          backward=p != 0, second=False)


# ----------------------------------------------------------------------------- slogdet, solve, matrix_power
@dtypes
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (4, 2, 2)])
def test_slogdet(shape, dtype):
    """log|det| with its derivatives; the sign (forward only: torch's cannot be backpropagated)."""
    a = well_conditioned(shape, dtype=dtype) * np.where(np.arange(shape[-1]) == 0, -1.0, 1.0)  # negative dets too
    check(lambda x: fukaku.slogdet(x)[1], lambda x: torch.slogdet(x)[1], [a], dtype)
    check(lambda x: fukaku.linalg.slogdet(x).logabsdet, lambda x: torch.linalg.slogdet(x).logabsdet, [a], dtype,
          second=False)
    check(lambda x: x.slogdet(), lambda x: x.slogdet(), [a], dtype, backward=False, jvp=False)
    r = fukaku.slogdet(fukaku.tensor(a))
    assert r.sign is r[0] and r.logabsdet is r[1]


def test_slogdet_singular():
    got, want = fukaku.slogdet(fukaku.zeros(2, 2)), torch.slogdet(torch.zeros(2, 2))
    assert float(got.sign) == float(want.sign) == 0.0 and float(got.logabsdet) == float(want.logabsdet) == -np.inf


@dtypes
@pytest.mark.parametrize("sa,sb", [((3, 3), (3,)), ((3, 3), (3, 2)), ((2, 3, 3), (2, 3)), ((2, 3, 3), (3, 4)),
                                   ((3, 3), (2, 3, 1)), ((1, 3, 3), (2, 3, 2))])
def test_solve(sa, sb, dtype):
    a = well_conditioned(sa, dtype=dtype)
    b = randn(sb, dtype=dtype, seed=4)
    check(fukaku.linalg.solve, torch.linalg.solve, [a, b], dtype)


@dtypes
def test_solve_left_false(dtype):
    a, b = well_conditioned((3, 3), dtype=dtype), randn((2, 3), dtype=dtype, seed=4)
    check(lambda x, y: fukaku.linalg.solve(x, y, left=False), lambda x, y: torch.linalg.solve(x, y, left=False),
          [a, b], dtype)


def test_solve_errors():
    with pytest.raises(RuntimeError, match="singular"):
        fukaku.linalg.solve(fukaku.zeros(2, 2), fukaku.ones(2))
    shape_error_raised(lambda: fukaku.linalg.solve(fukaku.eye(3), fukaku.ones(2, 1)), "linalg.solve", (3, 3), (2, 1))


@dtypes
@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power(n, dtype):
    a = well_conditioned((2, 3, 3), dtype=dtype) / 3.0
    check(lambda x: fukaku.matrix_power(x, n), lambda x: torch.matrix_power(x, n), [a], dtype)
    check(lambda x: fukaku.linalg.matrix_power(x, n), lambda x: torch.linalg.matrix_power(x, n), [a[0]], dtype,
          second=False)
    check(lambda x: x.matrix_power(n), lambda x: x.matrix_power(n), [a], dtype, jvp=False, second=False)


# ----------------------------------------------------------------------------- decompositions
def _gauge(lib, u, vh=None):
    """Singular (eigen) vectors with the sign that makes U's first row non-negative (Vh's pairs with
    U's; its unpaired rows: first column non-negative). Both libraries agree once so normalised,
    and the sign, being piecewise constant, has no derivative."""
    signs = lib.sign(u[..., :1, :])
    u = u * signs
    if vh is None:
        return u
    k = min(u.shape[-1], vh.shape[-2])
    row_signs = signs[..., :k].mT
    if vh.shape[-2] > k:
        row_signs = lib.cat([row_signs, lib.sign(vh[..., k:, :1])], -2)
    return u, vh * row_signs


def _svd_fn(lib, full):
    def f(a):
        u, s, vh = lib.linalg.svd(a, full_matrices=full)
        u, vh = _gauge(lib, u, vh)
        return u, s, vh
    return f


SVD_SHAPES = [(3, 3), (4, 3), (3, 4), (5, 2), (2, 3, 2), (1, 1)]


@dtypes
@pytest.mark.parametrize("shape", SVD_SHAPES, ids=str)
def test_linalg_svd_reduced(shape, dtype):
    check(_svd_fn(fukaku, False), _svd_fn(torch, False), [randn(shape, seed=5)], dtype)


@dtypes
@pytest.mark.parametrize("shape", [(4, 3), (3, 4), (3, 3), (2, 3, 4)], ids=str)
def test_linalg_svd_full(shape, dtype):
    """Full U (Vh) are square; only their first min(m, n) columns (rows) carry gradients, as torch.
    (Shapes with |m − n| = 1, where the extra column is determined up to sign.)"""
    check(_svd_fn(fukaku, True), _svd_fn(torch, True), [randn(shape, seed=6)], dtype)


@dtypes
@pytest.mark.parametrize("some", [True, False])
def test_torch_svd(some, dtype):
    def f(lib):
        def fn(a):
            u, s, v = lib.svd(a, some=some)
            u, vh = _gauge(lib, u, v.mT)
            return u, s, vh.mT
        return fn
    check(f(fukaku), f(torch), [randn(4, 3, seed=7)], dtype)
    check(lambda a: a.svd(compute_uv=False), lambda a: a.svd(compute_uv=False), [randn(2, 4, 3, seed=7)], dtype,
          backward=False, jvp=False)


@dtypes
@pytest.mark.parametrize("shape", [(3, 3), (5, 3), (2, 4), (2, 3, 3)], ids=str)
def test_svdvals(shape, dtype):
    """Only the singular values: gradient U diag(g) Vh, which holds for repeated values too."""
    check(fukaku.linalg.svdvals, torch.linalg.svdvals, [randn(shape, seed=8)], dtype)
    check(fukaku.linalg.svdvals, torch.linalg.svdvals, [np.diag([2.0, 2.0, 1.0])], dtype, second=False)


def _symmetric(n, batch=(), seed=0):
    a = randn(*batch, n, n, seed=seed)
    return a + np.swapaxes(a, -1, -2)


def _eigh_fn(lib, uplo, symmetrise=False):
    def fn(x):
        values, vectors = lib.linalg.eigh(x + x.mT if symmetrise else x, UPLO=uplo)
        return values, _gauge(lib, vectors)
    return fn


@dtypes
@pytest.mark.parametrize("uplo", ["L", "U"])
@pytest.mark.parametrize("case", ["symmetric", "batched", "one_triangle_read"])
def test_eigh(case, uplo, dtype):
    """A symmetric input, and a general one of which only the UPLO triangle is read. The rules take
    the whole tangent and give a symmetric gradient, as torch's; they are therefore not the transposes
    of each other off the symmetric matrices, and the harness's forward-over-reverse reference (which
    assumes they are) does not apply — it is checked on eigh(X + Xᵀ) below."""
    a = {"symmetric": _symmetric(4, seed=9), "batched": _symmetric(3, (2,), seed=10),
         "one_triangle_read": randn(3, 3, seed=11)}[case]
    check(_eigh_fn(fukaku, uplo), _eigh_fn(torch, uplo), [a], dtype, fwd_over_rev=False)
    check(lambda x: fukaku.linalg.eigvalsh(x, uplo), lambda x: torch.linalg.eigvalsh(x, uplo), [a], dtype, second=False)


@dtypes
def test_eigh_of_a_symmetrised_input(dtype):
    """X ↦ eigh(X + Xᵀ) is a function of every entry: all five comparisons apply."""
    check(_eigh_fn(fukaku, "L", True), _eigh_fn(torch, "L", True), [randn(2, 3, 3, seed=24)], dtype)


def _qr_fn(lib, mode):
    def f(a):
        q, r = lib.linalg.qr(a, mode=mode)
        signs = lib.sign(lib.diagonal(r, 0, -2, -1)).unsqueeze(-2)  # R with a non-negative diagonal
        return q * signs, r * signs.mT
    return f


@dtypes
@pytest.mark.parametrize("shape,mode", [((3, 3), "reduced"), ((5, 3), "reduced"), ((3, 5), "reduced"),
                                        ((2, 4, 3), "reduced"), ((3, 4), "complete"), ((3, 3), "complete")], ids=str)
def test_qr(shape, mode, dtype):
    check(_qr_fn(fukaku, mode), _qr_fn(torch, mode), [randn(shape, seed=12)], dtype)


def test_qr_modes():
    a = randn(5, 3, seed=13)
    q, r = fukaku.linalg.qr(fukaku.tensor(a), mode="complete")
    assert q.shape == (5, 5) and r.shape == (5, 3)
    np.testing.assert_allclose((q @ r).numpy(), a, atol=1e-12)
    x = fukaku.tensor(a, requires_grad=True)
    with pytest.raises(RuntimeError, match="not differentiable"):
        fukaku.linalg.qr(x, mode="complete").Q.sum().backward()
    q, r = fukaku.linalg.qr(fukaku.tensor(a), mode="r")
    assert q.numel() == 0 and r.shape == (3, 3)


@dtypes
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("batch", [(), (2,)], ids=str)
def test_cholesky(batch, upper, dtype):
    """As for eigh, the rules follow torch's symmetric convention: forward-over-reverse is checked on
    a function of every entry, cholesky(XXᵀ + 3I)."""
    a = randn(*batch, 3, 3, seed=14)
    spd = a @ np.swapaxes(a, -1, -2) + 3 * np.eye(3)
    check(lambda x: fukaku.linalg.cholesky(x, upper=upper), lambda x: torch.linalg.cholesky(x, upper=upper), [spd],
          dtype, fwd_over_rev=False)

    def gram(lib):
        return lambda x: lib.linalg.cholesky(x @ x.mT + 3 * lib.eye(3, dtype=x.dtype), upper=upper)
    check(gram(fukaku), gram(torch), [a], dtype)


def test_cholesky_not_positive_definite():
    with pytest.raises(RuntimeError, match="positive-definite"):
        fukaku.linalg.cholesky(fukaku.tensor([[1.0, 2.0], [2.0, 1.0]]))


@dtypes
@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (3, 3), (2, 4, 3)], ids=str)
def test_pinv(shape, dtype):
    check(fukaku.linalg.pinv, torch.linalg.pinv, [randn(shape, seed=15)], dtype)


@dtypes
def test_pinv_rank_deficient_and_hermitian(dtype):
    """Singular values below the tolerance count as 0 (forward; the gradient is not defined where
    the rank can change); a symmetric input through eigh."""
    low_rank = randn(4, 1, seed=16) @ randn(1, 3, seed=17)
    check(fukaku.linalg.pinv, torch.linalg.pinv, [low_rank], dtype, backward=False, jvp=False)
    check(lambda a: fukaku.linalg.pinv(a, atol=0.5), lambda a: torch.linalg.pinv(a, atol=0.5),
          [np.diag([3.0, 0.2, 1.0])], dtype, second=False)
    check(lambda a: fukaku.linalg.pinv(a, hermitian=True), lambda a: torch.linalg.pinv(a, hermitian=True),
          [_symmetric(3, seed=18)], dtype)


@dtypes
@pytest.mark.parametrize("sa,sb", [((5, 3), (5, 2)), ((5, 3), (5,)), ((3, 5), (3, 2)), ((2, 4, 3), (2, 4, 1)),
                                   ((3, 3), (3, 2))], ids=str)
def test_lstsq(sa, sb, dtype):
    """The solution (minimum norm for a wide A) and its gradients; the rank; empty residuals and
    singular values, as torch's default CPU driver."""
    a, b = randn(sa, seed=19), randn(sb, seed=20)
    check(lambda x, y: fukaku.linalg.lstsq(x, y).solution, lambda x, y: torch.linalg.lstsq(x, y).solution, [a, b],
          dtype, rtol=1e-3 if dtype == np.float32 else None)
    got = fukaku.linalg.lstsq(fukaku.tensor(a), fukaku.tensor(b))
    want = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b))
    np.testing.assert_array_equal(got.rank.numpy(), want.rank.numpy())
    assert got.residuals.shape == want.residuals.shape and got.singular_values.shape == want.singular_values.shape


@dtypes
@pytest.mark.parametrize("shapes", [[(2, 3), (3, 4)], [(3,), (3, 4), (4, 2)], [(2, 5), (5, 1), (1, 6), (6,)],
                                    [(4,), (4,)], [(3, 2), (2, 6), (6, 2), (2, 5)]], ids=str)
def test_multi_dot(shapes, dtype):
    check_random(lambda *xs: fukaku.linalg.multi_dot(xs), lambda *xs: torch.linalg.multi_dot(xs), shapes, dtype)


def test_multi_dot_errors():
    with pytest.raises(ValueError):
        fukaku.linalg.multi_dot([fukaku.ones(2, 2)])
    shape_error_raised(lambda: fukaku.linalg.multi_dot([fukaku.ones(2, 3), fukaku.ones(4, 2)]), "linalg.multi_dot",
                       (2, 3), (4, 2))


# ----------------------------------------------------------------------------- fukaku.linalg norms, det, inv
INF = float("inf")


@dtypes
@pytest.mark.parametrize("kw", [{}, {"ord": 1}, {"ord": INF}, {"ord": -INF}, {"ord": 0}, {"ord": 3.5},
                                {"dim": 1}, {"ord": 1, "dim": (0, 2), "keepdim": True}, {"dim": -1, "keepdim": True}],
                         ids=str)
def test_vector_norm(kw, dtype):
    x = randn(2, 3, 4, seed=21)
    check(lambda a: fukaku.linalg.vector_norm(a, **kw), lambda a: torch.linalg.vector_norm(a, **kw), [x], dtype,
          second=kw.get("ord") not in (INF, -INF, 0, 1))


@dtypes
@pytest.mark.parametrize("ord", ["fro", "nuc", 2, -2, 1, -1, INF, -INF], ids=str)
@pytest.mark.parametrize("dim,keepdim", [((-2, -1), False), ((0, 2), True), ((2, 0), False)], ids=str)
def test_matrix_norm(ord, dim, keepdim, dtype):
    x = randn(3, 2, 4, seed=22)
    check(lambda a: fukaku.linalg.matrix_norm(a, ord, dim, keepdim),
          lambda a: torch.linalg.matrix_norm(a, ord, dim, keepdim), [x], dtype)


@dtypes
@pytest.mark.parametrize("args", [((3, 4), {}), ((3, 4), {"ord": "nuc"}), ((4,), {"ord": 3}), ((2, 3, 4), {"dim": 1}),
                                  ((2, 3, 4), {"dim": (0, 1), "ord": INF}), ((2, 3, 4), {"keepdim": True}),
                                  ((3, 4), {"axis": 0, "keepdims": True}), ((3, 4), {"ord": -2})], ids=str)
def test_linalg_norm(args, dtype):
    shape, kw = args
    check(lambda a: fukaku.linalg.norm(a, **kw), lambda a: torch.linalg.norm(a, **kw), [randn(shape, seed=23)], dtype)


def test_linalg_names_and_errors():
    a = well_conditioned((3, 3))
    check(fukaku.linalg.det, torch.linalg.det, [a], np.float64, second=False)
    check(fukaku.linalg.inv, torch.linalg.inv, [a], np.float64, second=False)
    assert fukaku.linalg.inv is fukaku.inverse and fukaku.linalg.slogdet is fukaku.slogdet
    with pytest.raises(ValueError):
        fukaku.linalg.vector_norm(fukaku.ones(3), "fro")
    with pytest.raises(ValueError):
        fukaku.linalg.matrix_norm(fukaku.ones(3, 3), 3)
    shape_error_raised(lambda: fukaku.linalg.norm(fukaku.ones(2, 2, 2), ord=2), "linalg.norm", (2, 2, 2))
    shape_error_raised(lambda: fukaku.linalg.svd(fukaku.ones(3)), "linalg.svd", (3,))
    with pytest.raises(TypeError):
        fukaku.linalg.svd(fukaku.tensor([[1, 2], [3, 4]]))


# ----------------------------------------------------------------------------- closed forms (an oracle besides torch)
def _jacobians(f, x: np.ndarray) -> list[np.ndarray]:
    """fukaku's Jacobian of f at x in reverse and in forward mode."""
    return [fukaku.autograd.functional.jacobian(f, fukaku.tensor(x), mode=mode).numpy() for mode in ("rev", "fwd")]


def test_closed_form_derivatives_of_spectral_functions():
    """∂‖A‖_*/∂A = UVᵀ, ∂σ_max/∂A = u₁v₁ᵀ, ∂λ_i/∂A = v_i v_iᵀ (symmetric A), ∂ log|det A|/∂A = A⁻ᵀ."""
    a = randn(4, 3, seed=40)
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    for got in _jacobians(lambda x: fukaku.linalg.matrix_norm(x, "nuc"), a):
        np.testing.assert_allclose(got, u @ vh, atol=1e-12)
    for got in _jacobians(lambda x: fukaku.linalg.matrix_norm(x, 2), a):
        np.testing.assert_allclose(got, np.outer(u[:, 0], vh[0]), atol=1e-12)
    sym = _symmetric(3, seed=41)
    values, vectors = np.linalg.eigh(sym)
    for got in _jacobians(fukaku.linalg.eigvalsh, sym):
        np.testing.assert_allclose(got, np.einsum("ji,ki->ijk", vectors, vectors), atol=1e-12)
    sq = randn(3, 3, seed=42)
    for got in _jacobians(lambda x: fukaku.slogdet(x).logabsdet, sq):
        np.testing.assert_allclose(got, np.linalg.inv(sq).T, atol=1e-12)


def test_closed_form_jacobians_of_scans():
    """cumprod: J[j, k] = Π_{i≤j, i≠k} x_i for k ≤ j, with zeros in x; logcumsumexp: J[j, k] = exp(x_k − y_j)."""
    x = np.array([1.5, 0.0, -2.0, 0.5, 0.0, 3.0])
    n = len(x)
    want = np.array([[np.prod([x[i] for i in range(j + 1) if i != k]) if k <= j else 0.0 for k in range(n)]
                     for j in range(n)])
    for got in _jacobians(lambda t: fukaku.cumprod(t, 0), x):
        np.testing.assert_allclose(got, want, atol=1e-12)
    z = randn(5, seed=43) * 3
    y = np.logaddexp.accumulate(z)
    want = np.tril(np.exp(np.minimum(z[None, :] - y[:, None], 0.0)))
    for got in _jacobians(lambda t: fukaku.logcumsumexp(t, 0), z):
        np.testing.assert_allclose(got, want, atol=1e-12)
