"""``fukaku.linalg``: the functions of ``torch.linalg``, on fukaku's graph nodes.

Norms (:func:`norm`, :func:`vector_norm`, :func:`matrix_norm`), determinants (:func:`det`,
:func:`slogdet`), inverses and solutions (:func:`inv`, :func:`solve`, :func:`pinv`,
:func:`lstsq`), decompositions (:func:`svd`, :func:`svdvals`, :func:`eigh`, :func:`eigvalsh`,
:func:`qr`, :func:`cholesky`) and products (:func:`cross`, :func:`matrix_power`,
:func:`multi_dot`). Every function is differentiable in reverse and forward mode, to any order,
where torch's is; the decompositions' rules assume distinct singular values (eigenvalues) and full
rank, as torch's do. Batches of matrices (…, m, n) work throughout.

Example::

    >>> import fukaku as fk
    >>> A = fk.randn(5, 3, requires_grad=True)
    >>> U, S, Vh = fk.linalg.svd(A, full_matrices=False)
    >>> fk.linalg.matrix_norm(A, "nuc").backward()   # the gradient of Σ S is U Vh
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .backends import array_module
from .ops._util import _norm_dim, dim_aliases, operands, shape_error
from .ops.linalg import (QR, SVD, Cholesky, Eigh, Pinv, Solve, _cross,
                         _matrix_input, _square, det, inverse, matmul,
                         matrix_power, slogdet)
from .ops.reduce import amax, amin
from .ops.reduce import norm as _norm
from .ops.reduce import sum as _sum
from .ops.shape import _mT, movedim, squeeze, unsqueeze
from .tensor import Tensor, wrap

__all__ = ["norm", "vector_norm", "matrix_norm", "det", "slogdet", "inv", "solve", "svd", "svdvals", "eigh",
           "eigvalsh", "qr", "cholesky", "cross", "matrix_power", "pinv", "lstsq", "multi_dot"]

inv = inverse  # torch.linalg.inv is torch.inverse


# ----------------------------------------------------------------------------- norms
@dim_aliases
def vector_norm(x: Tensor, ord: float = 2, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """The vector ``ord``-norm over ``dim`` (all dims, flattened, when None): (Σ|x|^ord)^(1/ord),
    max|x| for inf, min|x| for -inf, the count of non-zeros for 0. Gradients follow torch's
    conventions at zero (0 where the norm is 0)."""
    if isinstance(ord, str):
        raise ValueError(f"linalg.vector_norm: ord must be a number, got {ord!r}; use matrix_norm for 'fro' "
                         "and 'nuc'")
    x = x if dtype is None else x.to(dtype)
    if x._data.dtype.kind != "f":
        raise TypeError(f"linalg.vector_norm: expected a floating point input, got {x.dtype}; pass dtype= or "
                        "convert it with .float()")
    return _norm(x, float(ord), dim, keepdim)


def _two_dims(op: str, A: Tensor, dim) -> tuple[int, int]:
    if len(dim) != 2:
        raise ValueError(f"{op}: dim must be a pair of dimensions, got {dim!r}")
    d0, d1 = (_norm_dim(d, A.ndim, op) for d in dim)
    if d0 == d1:
        raise ValueError(f"{op}: dims must be different, got {dim!r}")
    return d0, d1


@dim_aliases
def matrix_norm(A: Tensor, ord="fro", dim=(-2, -1), keepdim: bool = False, *, dtype=None) -> Tensor:
    """The matrix norm ``ord`` of the matrices spanned by ``dim``: 'fro' (Frobenius), 'nuc' (Σ of
    singular values), 2 / -2 (largest / smallest singular value), 1 / -1 (max / min absolute column
    sum), inf / -inf (max / min absolute row sum)."""
    A = A if dtype is None else A.to(dtype)
    if A.ndim < 2:
        raise shape_error("linalg.matrix_norm", A.shape, hint="expects a matrix or a batch of them (…, m, n)")
    d0, d1 = _two_dims("linalg.matrix_norm", A, tuple(dim))
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim)
    if ord == "nuc" or ord in (2, -2):
        s = svdvals(movedim(_matrix_input("linalg.matrix_norm", A), (d0, d1), (-2, -1)))
        out = _sum(s, -1) if ord == "nuc" else (amax if ord == 2 else amin)(s, -1)
        return unsqueeze(unsqueeze(out, min(d0, d1)), max(d0, d1)) if keepdim else out
    if ord in (1, -1, math.inf, -math.inf):
        summed, picked = (d0, d1) if abs(ord) == 1 else (d1, d0)  # torch's order: a 1-norm, then max or min
        sums = vector_norm(A, 1, summed, keepdim=True)
        out = (amax if ord > 0 else amin)(sums, picked, keepdim=True)
        return out if keepdim else squeeze(squeeze(out, max(d0, d1)), min(d0, d1))
    raise ValueError(f"linalg.matrix_norm: unsupported ord {ord!r}; use 'fro', 'nuc', 2, -2, 1, -1, inf or -inf")


@dim_aliases
def norm(A: Tensor, ord=None, dim=None, keepdim: bool = False, *, dtype=None) -> Tensor:
    """A vector norm over one dim, a matrix norm over two. Without ``dim``: the 2-norm of the
    flattened input when ``ord`` is None, else a vector norm of a 1-d and a matrix norm of a 2-d input."""
    if dim is not None:
        dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
        if len(dims) == 1:
            return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if ord is None:
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if A.ndim == 1:
        return vector_norm(A, ord, None, keepdim, dtype=dtype)
    if A.ndim == 2:
        return matrix_norm(A, ord, (-2, -1), keepdim, dtype=dtype)
    raise shape_error("linalg.norm", A.shape, hint="with ord but no dim the input must be 1-d or 2-d; pass dim")


# ----------------------------------------------------------------------------- solving
def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """X with AX = B (``left=False``: XA = B) for a square invertible A (…, n, n). B is a batch of
    vectors (…, n) when it is 1-d or has A's shape without its last dim, else of matrices (…, n, k);
    batch dims broadcast. Gradients: G_B = A⁻ᵀG, G_A = −G_B Xᵀ."""
    _square("linalg.solve", A)
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    if vector and not left:
        raise ValueError("linalg.solve: vector right-hand sides need left=True")
    if not left:
        return _mT(solve(_mT(A), _mT(B)))
    rhs = unsqueeze(B, -1) if vector else B
    if A.shape[-1] != rhs.shape[-2]:
        raise shape_error("linalg.solve", A.shape, B.shape, hint="B needs as many rows as A")
    x = Solve.apply(*_promoted(A, rhs))
    return squeeze(x, -1) if vector else x


def _promoted(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    a, b = operands(a, b)
    if a._data.dtype.kind != "f":
        raise TypeError(f"linalg: expected floating point inputs, got {a.dtype}; convert them with .float()")
    return a, b


def pinv(A: Tensor, rcond=None, hermitian: bool = False, *, atol=None, rtol=None) -> Tensor:
    """The Moore–Penrose pseudo-inverse V diag(1/s) Uᵀ, singular values s ≤ max(atol, rtol·s_max)
    counted as 0. Without atol and rtol, rtol = ε·max(m, n) (``rcond`` is the older name of rtol).
    ``hermitian=True`` computes it from the eigen-decomposition of a symmetric A. Gradients are
    torch's: the derivative of A⁺ where the rank does not change."""
    A = _matrix_input("linalg.pinv", A)
    rtol = rcond if rtol is None else rtol
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else float(np.finfo(A._data.dtype).eps) * max(A.shape[-2:])
    return Pinv.apply(A, atol=0.0 if atol is None else float(atol), rtol=float(rtol), hermitian=hermitian)


class LstsqResult(NamedTuple):
    solution: Tensor
    residuals: Tensor
    rank: Tensor
    singular_values: Tensor


def lstsq(A: Tensor, B: Tensor, rcond=None, *, driver=None) -> LstsqResult:
    """The least-squares solution X minimising ‖AX − B‖ (the minimum-norm one when A is rank
    deficient or wide), as pinv(A) B. B is (…, m, k), or (…, m) when it has one dim less than A.
    Only ``solution`` and ``rank`` are computed: ``residuals`` and ``singular_values`` are empty, as
    torch's default CPU driver ('gelsy') leaves them."""
    A = _matrix_input("linalg.lstsq", A)
    if not 0 <= A.ndim - B.ndim <= 1:
        raise shape_error("linalg.lstsq", A.shape, B.shape, hint="B is (…, m, k), or (…, m) for one right-hand side")
    vector = B.ndim == A.ndim - 1
    if B.shape[-1 if vector else -2] != A.shape[-2]:
        raise shape_error("linalg.lstsq", A.shape, B.shape, hint="A and B need the same number of rows")
    xp = array_module(A._data)
    s = xp.linalg.svd(A._data, compute_uv=False)
    tol = (float(np.finfo(A._data.dtype).eps) if rcond is None else rcond) * max(A.shape[-2:])
    rank = xp.sum(s > tol * s[..., :1], axis=-1).astype(np.int64) if s.shape[-1] else xp.zeros(s.shape[:-1], np.int64)
    solution = matmul(pinv(A, rtol=rcond), unsqueeze(B, -1) if vector else B)
    empty = wrap(xp.zeros((0,), A._data.dtype))
    return LstsqResult(squeeze(solution, -1) if vector else solution, empty, wrap(rank), empty)


# ----------------------------------------------------------------------------- decompositions
class LinalgSVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    Vh: Tensor


def svd(A: Tensor, full_matrices: bool = True, *, driver=None) -> LinalgSVDResult:
    """A = U diag(S) Vh, singular values descending; ``full_matrices`` (the default, as torch) gives
    square U (m, m) and Vh (n, n), else U (m, k) and Vh (k, n) with k = min(m, n). Gradients for
    distinct singular values (with full matrices, of the first k columns of U and rows of Vh only)."""
    return LinalgSVDResult(*SVD.factorize(_matrix_input("linalg.svd", A), full_matrices=full_matrices))


def svdvals(A: Tensor, *, driver=None) -> Tensor:
    """The singular values of A (…, m, n), descending; gradient U diag(g) Vh."""
    return SVD.factorize(_matrix_input("linalg.svdvals", A), full_matrices=False)[1]


class EighResult(NamedTuple):
    eigenvalues: Tensor
    eigenvectors: Tensor


def eigh(A: Tensor, UPLO: str = "L") -> EighResult:
    """Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric A, read from its lower
    (``UPLO='L'``) or upper triangle. Gradients for distinct eigenvalues, symmetric, as torch's."""
    _square("linalg.eigh", A)
    if UPLO not in ("L", "U"):
        raise ValueError(f"linalg.eigh: UPLO must be 'L' or 'U', got {UPLO!r}")
    return EighResult(*Eigh.factorize(_matrix_input("linalg.eigh", A), upper=UPLO == "U"))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """The eigenvalues (ascending) of a symmetric A; gradient V diag(g) Vᵀ."""
    return eigh(A, UPLO).eigenvalues


class QRResult(NamedTuple):
    Q: Tensor
    R: Tensor


def qr(A: Tensor, mode: str = "reduced") -> QRResult:
    """A = QR: ``mode`` 'reduced' (Q (m, k), R (k, n), k = min(m, n)), 'complete' (Q (m, m)), or 'r'
    (R only; Q is empty). Differentiable for full-rank A, except 'complete' with m > n (as torch)."""
    A = _matrix_input("linalg.qr", A)
    if mode not in ("reduced", "complete", "r"):
        raise ValueError(f"linalg.qr: mode must be 'reduced', 'complete' or 'r', got {mode!r}")
    q, r = QR.factorize(A, mode="complete" if mode == "complete" else "reduced")
    if mode == "r":
        return QRResult(wrap(array_module(A._data).zeros((0,), A._data.dtype)), r)
    return QRResult(q, r)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """L lower triangular with A = LLᵀ for a symmetric positive-definite A (its lower triangle is
    read); ``upper=True`` gives U = Lᵀ with A = UᵀU, read from the upper triangle."""
    _square("linalg.cholesky", A)
    return Cholesky.apply(_matrix_input("linalg.cholesky", A), upper=upper)


# ----------------------------------------------------------------------------- products
@dim_aliases
def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along ``dim`` (the last by default); the inputs broadcast."""
    return _cross(input, other, dim, "linalg.cross")


def multi_dot(tensors) -> Tensor:
    """The product of a chain of matrices, multiplied in the order that needs the fewest scalar
    products. The first may be a 1-d row and the last a 1-d column vector.

    Example::

        >>> fk.linalg.multi_dot([fk.ones(3), fk.ones(3, 4), fk.ones(4)])
        tensor(12.)
    """
    tensors = list(tensors)
    if len(tensors) < 2:
        raise ValueError(f"linalg.multi_dot: expected at least 2 tensors, got {len(tensors)}")
    first_vector, last_vector = tensors[0].ndim == 1, tensors[-1].ndim == 1
    chain = list(tensors)
    if first_vector:
        chain[0] = unsqueeze(chain[0], 0)
    if last_vector:
        chain[-1] = unsqueeze(chain[-1], -1)
    for i, t in enumerate(chain):
        if t.ndim != 2:
            raise shape_error("linalg.multi_dot", *[x.shape for x in tensors],
                              hint=f"tensor {i} must be 2-d (only the first and the last may be 1-d)")
    for i in range(len(chain) - 1):
        if chain[i].shape[1] != chain[i + 1].shape[0]:
            raise shape_error("linalg.multi_dot", *[x.shape for x in tensors],
                              hint=f"tensors {i} and {i + 1} cannot be multiplied ({chain[i].shape[1]} columns, "
                              f"{chain[i + 1].shape[0]} rows)")
    out = _chain_product(chain, _chain_order([t.shape[0] for t in chain] + [chain[-1].shape[1]]), 0, len(chain) - 1)
    if first_vector:
        out = squeeze(out, 0)
    if last_vector:
        out = squeeze(out, -1)
    return out


def _chain_order(sizes: list[int]) -> list[list[int]]:
    """split[i][j]: where the optimal product of matrices i…j splits (the matrix-chain recurrence)."""
    n = len(sizes) - 1
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j], split[i][j] = min((cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1], k)
                                          for k in range(i, j))
    return split


def _chain_product(chain: list[Tensor], split: list[list[int]], i: int, j: int) -> Tensor:
    if i == j:
        return chain[i]
    k = split[i][j]
    return matmul(_chain_product(chain, split, i, k), _chain_product(chain, split, k + 1, j))
