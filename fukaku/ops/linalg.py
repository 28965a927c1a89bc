"""Linear algebra: matmul (1-d, 2-d, batched, broadcast), mm/bmm/mv/dot, the addmm family, einsum,
tensordot, outer, kron, cross, det/slogdet, inverse, solve, trace, matrix_power, cdist/dist, and
the decompositions behind :mod:`fukaku.linalg` — svd, eigh, qr, cholesky — each one graph node
whose rules are written with tensor ops, so that they differentiate again.

Matrix-calculus identities used here are those of seed 002 ch. 2 (P7–P8):
y = AB ⇒ ∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G;  ∂det X/∂X = det(X) X⁻ᵀ;  d(X⁻¹) = −X⁻¹ dX X⁻¹.
"""
from __future__ import annotations

import math
import string
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .. import dtypes
from ..autograd.function import Function, constant
from ..backends import array_module
from ..tensor import Tensor, wrap
from ._util import (_norm_dim, dim_aliases, fmt, in_float32_if_bfloat16, named, operands, shape_error,
                    tensor_method)
from .elementwise import _floating, clone, where
from .reduce import Norm, norm
from .reduce import sum as _sum
from .shape import (_mT, broadcast_to, cat, diag_embed, diagonal, permute,
                    reshape, roll, sum_to, tril, unsqueeze)


class MatMul(Function):
    """Matrix product; ``op`` is the public name in error messages (mm, bmm and dot run through here)."""

    def __init__(self, op: str = "matmul") -> None:
        self.op = op

    def forward(self, a, b):
        self.save(a, b)
        try:
            return in_float32_if_bfloat16(array_module(a._data, b._data).matmul, a._data, b._data)
        except ValueError:
            raise shape_error(self.op, a._data.shape, b._data.shape, hint=_matmul_hint(a._data.shape, b._data.shape)) from None

    def vjp(self, grad):
        a, b = self.saved
        na, nb = self.needs_input_grad
        if a.ndim == 2 and b.ndim == 2:  # the MLP case, kept free of reshapes
            return (grad @ _mT(b) if na else None, _mT(a) @ grad if nb else None)
        if a.ndim == 1 and b.ndim == 1:
            return (grad * b if na else None, grad * a if nb else None)
        a2 = unsqueeze(a, 0) if a.ndim == 1 else a
        b2 = unsqueeze(b, -1) if b.ndim == 1 else b
        g2 = grad
        if a.ndim == 1:
            g2 = unsqueeze(g2, -2)
        if b.ndim == 1:
            g2 = unsqueeze(g2, -1)
        ga = reshape(sum_to(g2 @ _mT(b2), a2.shape), a.shape) if na else None
        gb = reshape(sum_to(_mT(a2) @ g2, b2.shape), b.shape) if nb else None
        return ga, gb

    def jvp(self, da, db):
        a, b = self.saved
        out = MatMul.apply(da, b) if da is not None else None
        if db is not None:
            term = MatMul.apply(a, db)
            out = term if out is None else out + term
        return out


def _matmul_hint(sa, sb) -> str:
    if not sa or not sb:
        return "both arguments to matmul need at least 1 dimension"
    inner_a = sa[-1]
    inner_b = sb[-2] if len(sb) > 1 else sb[0]
    if inner_a != inner_b:
        return f"the inner dimensions differ ({inner_a} vs {inner_b}): (…, n, k) @ (…, k, m) needs equal k"
    return "the batch dimensions must broadcast"


def _product(input, other, op: str = "matmul") -> Tensor:
    """The matrix product behind matmul, mm, bmm and dot; ``op`` names the caller in errors."""
    a, b = operands(input, other)
    if a.ndim == 0 or b.ndim == 0:
        raise shape_error(op, a.shape, b.shape, hint="both arguments to matmul need at least 1 dimension")
    if op == "matmul":  # the hot path: the op's default name, no keyword to pass
        return MatMul.apply(a, b)
    return MatMul.apply(a, b, op=op)


@tensor_method("matmul", "__matmul__", reflected=("__rmatmul__",))
def matmul(input, other) -> Tensor:
    """Matrix product with NumPy/torch semantics: 1-d vectors are promoted and squeezed back,
    leading (batch) dimensions broadcast. ``(B, n, k) @ (k, m) -> (B, n, m)``."""
    return _product(input, other)


def _ranked_product(op: str, input: Tensor, other: Tensor, ranks: tuple[int, int], hint: str) -> Tensor:
    """The product ``op`` of tensors of exactly ``ranks`` with equal batch dimensions (no broadcasting)."""
    if (input.ndim, other.ndim) != ranks or input.shape[:-2] != other.shape[:-2]:
        raise shape_error(op, input.shape, other.shape, hint=hint)
    return _product(input, other, op)


def _fixed_rank(op: str, ranks: tuple[int, int], doc: str, hint: str) -> Callable[[Tensor, Tensor], Tensor]:
    """The product ``op`` of two tensors of ``ranks`` (see :func:`_ranked_product`)."""
    def product(input: Tensor, other: Tensor) -> Tensor:
        return _ranked_product(op, input, other, ranks, hint)

    return named(product, op, doc)


mm = tensor_method()(_fixed_rank("mm", (2, 2), "Product of two matrices, ``(n, k) @ (k, m) -> (n, m)``.",
                                 hint="mm takes two 2-d matrices; use matmul for other shapes"))
bmm = tensor_method()(_fixed_rank("bmm", (3, 3), "Batched matrix product without broadcasting, "
                                  "``(B, n, k) @ (B, k, m) -> (B, n, m)``.",
                                  hint="bmm takes (B, n, k) and (B, k, m) with the same B"))
dot = tensor_method()(_fixed_rank("dot", (1, 1), "Inner product of two 1-d tensors of the same length.",
                                  hint="dot takes two 1-d tensors"))
mv = tensor_method()(_fixed_rank("mv", (2, 1), "Matrix times vector, ``(n, m) @ (m,) -> (n,)``.",
                                 hint="mv takes a 2-d matrix and a 1-d vector"))


# ----------------------------------------------------------------------- products with an added term
def _scaled_sum(op: str, input: Tensor, product: Tensor, beta, alpha) -> Tensor:
    """beta·input + alpha·product, ``input`` broadcast to the product's shape. As in torch, beta = 0
    ignores ``input`` (its NaN and inf do not propagate), and a factor of 1 multiplies nothing."""
    try:
        fits = np.broadcast_shapes(tuple(input.shape), tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise shape_error(op, input.shape, product.shape, hint=f"input must broadcast to the product's shape "
                          f"{fmt(product.shape)}")
    out = product if alpha == 1 else product * alpha
    if beta == 0:
        return out
    return out + (input if beta == 1 else input * beta)


def _added_product(op: str, ranks: tuple[int, int], formula: str, operands: str, out: str,
                   over_batch: bool = False):
    """``op(input, a, b, *, beta=1, alpha=1)``: beta·input + alpha·``formula`` for ``operands`` of ``ranks``
    (named so in its docstring and shape errors), ``input`` broadcasting to the shape ``out``; the product
    is summed over its batch dimension when ``over_batch`` (addbmm)."""
    hint = f"{op} takes {operands}"

    def added(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta=1, alpha=1) -> Tensor:
        product = _ranked_product(op, mat1, mat2, ranks, hint)
        return _scaled_sum(op, input, _sum(product, 0) if over_batch else product, beta, alpha)

    return named(added, op, f"beta·input + alpha·{formula} for {operands}; ``input`` broadcasts to {out}. "
                            "``beta=0`` ignores ``input`` (NaN and inf in it do not propagate).")


addmm = tensor_method()(_added_product("addmm", (2, 2), "(mat1 @ mat2)", "two 2-d matrices (n, k) and (k, m)",
                                       "(n, m)"))
addmv = tensor_method()(_added_product("addmv", (2, 1), "(mat @ vec)", "a 2-d matrix (n, m) and a 1-d vector (m,)",
                                       "(n,)"))
baddbmm = tensor_method()(_added_product("baddbmm", (3, 3), "bmm(batch1, batch2)",
                                         "(B, n, k) and (B, k, m) with the same B", "(B, n, m)"))
addbmm = tensor_method()(_added_product("addbmm", (3, 3), "Σ_b batch1[b] @ batch2[b]",
                                        "(B, n, k) and (B, k, m) with the same B", "(n, m)", over_batch=True))


@tensor_method()
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """``outer(a, b)[i, j] = a[i]·b[j]``."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise shape_error("outer", input.shape, vec2.shape, hint="outer takes two 1-d tensors")
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


@tensor_method()
def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product: for shapes (a₀, a₁, …) and (b₀, b₁, …) (the shorter padded with leading 1s)
    the result has shape (a₀b₀, a₁b₁, …) and holds every input[i]·other[j] block by block.

    Example::

        >>> fk.kron(fk.eye(2), fk.ones(2, 2)).shape
        fukaku.Size([4, 4])
    """
    a, b = operands(input, other)
    nd = max(a.ndim, b.ndim)
    sa, sb = (1,) * (nd - a.ndim) + tuple(a.shape), (1,) * (nd - b.ndim) + tuple(b.shape)
    spread_a = reshape(a, tuple(v for s in sa for v in (s, 1)))  # (a₀, 1, a₁, 1, …)
    spread_b = reshape(b, tuple(v for s in sb for v in (1, s)))  # (1, b₀, 1, b₁, …)
    return reshape(spread_a * spread_b, tuple(x * y for x, y in zip(sa, sb)))


def _cross(input: Tensor, other: Tensor, dim: int, op: str) -> Tensor:
    a, b = operands(input, other)
    if a.ndim != b.ndim:
        raise shape_error(op, a.shape, b.shape, hint="the inputs must have the same number of dimensions")
    try:
        shape = np.broadcast_shapes(tuple(a.shape), tuple(b.shape))
    except ValueError:
        raise shape_error(op, a.shape, b.shape, hint="the inputs must broadcast against each other") from None
    d = _norm_dim(dim, len(shape), op)
    if a.shape[d] != 3 or b.shape[d] != 3:
        raise shape_error(op, a.shape, b.shape, hint=f"dim {dim} must have size 3 in both inputs")
    a, b = (x if tuple(x.shape) == shape else broadcast_to(x, shape) for x in (a, b))
    # (a × b)_i = a_{i+1} b_{i+2} − a_{i+2} b_{i+1}, indices mod 3
    return roll(a, -1, d) * roll(b, -2, d) - roll(a, -2, d) * roll(b, -1, d)


@tensor_method()
@dim_aliases
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along ``dim``; the inputs broadcast. Without ``dim``, torch's
    (deprecated) default: the first dimension of ``input`` of size 3 — :func:`fukaku.linalg.cross`
    uses the last one instead."""
    if dim is None:
        dim = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in input of shape {fmt(input.shape)}; pass dim")
    return _cross(input, other, dim, "cross")


def tensordot(a: Tensor, b: Tensor, dims=2) -> Tensor:
    """Sum of products over the dimensions ``dims`` of ``a`` and ``b``: an int n contracts the last
    n dims of ``a`` with the first n of ``b``; a pair of lists names them, ``([1, 0], [0, 1])``.
    The free dims of ``a`` then of ``b`` make the result.

    Example::

        >>> fk.tensordot(fk.ones(2, 3, 4), fk.ones(4, 3, 5), dims=([1, 2], [1, 0])).shape
        fukaku.Size([2, 5])
    """
    a, b = operands(a, b)
    if isinstance(dims, (int, np.integer)):
        if not 0 <= dims <= min(a.ndim, b.ndim):
            raise RuntimeError(f"tensordot: dims={dims} must be between 0 and the rank of both inputs "
                               f"{fmt(a.shape)} and {fmt(b.shape)}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = ([d] if isinstance(d, (int, np.integer)) else list(d) for d in dims)
        if len(da) != len(db):
            raise RuntimeError(f"tensordot: both dimension lists should have the same length, got {da} and {db}")
        da, db = [_norm_dim(d, a.ndim, "tensordot") for d in da], [_norm_dim(d, b.ndim, "tensordot") for d in db]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise shape_error("tensordot", a.shape, b.shape, hint=f"contracted dimension {i} of the first has "
                              f"size {a.shape[i]}, dimension {j} of the second {b.shape[j]}")
    free_a, free_b = [i for i in range(a.ndim) if i not in da], [j for j in range(b.ndim) if j not in db]
    size_a, size_b = [a.shape[i] for i in free_a], [b.shape[j] for j in free_b]
    k = math.prod(a.shape[i] for i in da)
    left = reshape(permute(a, free_a + da), (math.prod(size_a), k))
    right = reshape(permute(b, db + free_b), (k, math.prod(size_b)))
    return reshape(_product(left, right, "tensordot"), tuple(size_a + size_b))


# ----------------------------------------------------------------------- distances
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0, compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distances between the rows of ``x1`` (…, P, M) and ``x2`` (…, R, M) → (…, P, R);
    batch dims broadcast.

    p may be 0 (the count of differing coordinates), any positive number, or inf. The gradient is
    torch's, 0 at zero distance; for p = inf each coordinate reaching the max gets sgn(difference)
    (ties are not shared, as in torch's cdist). ``compute_mode`` is accepted for compatibility:
    the differences are always taken directly (exact, O(P·R·M) memory)."""
    if x1.ndim < 2 or x2.ndim < 2 or x1.shape[-1] != x2.shape[-1]:
        raise shape_error("cdist", x1.shape, x2.shape, hint="x1 (…, P, M) and x2 (…, R, M) need at least 2 dims and "
                          "the same number of columns M")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got p={p}")
    a, b = operands(x1, x2)
    if a._data.dtype.kind != "f":
        raise TypeError(f"cdist only supports floating-point dtypes, got {a.dtype}; convert with .float()")
    differences = unsqueeze(a, -2) - unsqueeze(b, -3)  # (…, P, R, M)
    return Norm.apply(differences, p=float(p), axes=(differences.ndim - 1,), keepdim=False, even_ties=False)


@tensor_method()
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of ``input − other`` (broadcast) over all elements."""
    a, b = operands(input, other)
    return norm(a - b, p)


# ----------------------------------------------------------------------- einsum
def _parse_einsum(equation: str, shapes) -> tuple[list[str], str]:
    """Explicit subscripts (ellipses spelled out with spare letters) and the output subscripts."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} names {len(terms)} operands but {len(shapes)} were given")
    spare = [c for c in string.ascii_letters if c not in eq]
    ell_len = max((len(s) - (len(t) - 3) for t, s in zip(terms, shapes) if "..." in t), default=0)
    ell = "".join(spare[:ell_len])
    explicit = []
    for t, s in zip(terms, shapes):
        if "..." in t:
            n = len(s) - (len(t) - 3)
            t = t.replace("...", ell[ell_len - n:] if n else "")
        if len(t) != len(s):
            raise shape_error("einsum", s, hint=f"subscripts {t!r} name {len(t)} dimensions")
        explicit.append(t)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts = {c: "".join(explicit).count(c) for c in set("".join(explicit))}
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return explicit, out


class Einsum(Function):
    """Sum of products over repeated subscripts. The gradient for operand k is the einsum of the
    output gradient with all other operands, producing operand k's subscripts.

    ``equation`` has explicit subscripts: no ellipsis and no letter repeated within an operand
    (:func:`einsum` spells those out first)."""

    def __init__(self, equation: str) -> None:
        self.equation = equation

    def forward(self, *xs):
        self.save(*xs)
        self.terms, self.out = _parse_einsum(self.equation, [x._data.shape for x in xs])
        for t in self.terms:
            if len(set(t)) != len(t):  # einsum() takes diagonals first
                raise NotImplementedError(f"Einsum: repeated subscripts within one operand ({t!r})")
        eq = ",".join(self.terms) + "->" + self.out
        try:
            arrays = [x._data for x in xs]
            xp = array_module(*arrays)
            return in_float32_if_bfloat16(lambda *a: xp.einsum(eq, *a, optimize=len(a) > 2), *arrays)
        except ValueError as e:
            raise shape_error("einsum", *[x._data.shape for x in xs], hint=str(e)) from None

    def _operand_grad(self, k: int, grad: Tensor, xs) -> Tensor:
        target = self.terms[k]
        others = [(t, x) for i, (t, x) in enumerate(zip(self.terms, xs)) if i != k]
        present = set(self.out).union(*[set(t) for t, _ in others])
        reduced = "".join(c for c in target if c in present)
        g = einsum(",".join([self.out] + [t for t, _ in others]) + "->" + reduced, grad, *[x for _, x in others])
        own = tuple(xs[k].shape[target.index(c)] for c in reduced)
        if g.shape != own:  # size-1 dims of operand k that broadcast against the others: sum them back
            g = sum_to(g, own)
        if reduced != target:  # letters only operand k had were summed: broadcast back over them
            shape = tuple(xs[k].shape[i] if c in present else 1 for i, c in enumerate(target))
            from .shape import broadcast_to

            g = broadcast_to(reshape(g, shape), xs[k].shape)
        return g

    def vjp(self, grad):
        xs = self.saved
        return tuple(self._operand_grad(k, grad, xs) if need else None for k, need in enumerate(self.needs_input_grad))

    def jvp(self, *tangents):
        xs = self.saved
        eq = ",".join(self.terms) + "->" + self.out
        out = None
        for k, d in enumerate(tangents):
            if d is None:
                continue
            term = einsum(eq, *[d if i == k else x for i, x in enumerate(xs)])
            out = term if out is None else out + term
        return out


def einsum(equation: str, *operands_) -> Tensor:
    """Einstein summation, e.g. ``einsum('bij,bjk->bik', a, b)``; ellipsis supported."""
    if len(operands_) == 1 and isinstance(operands_[0], (list, tuple)):
        operands_ = tuple(operands_[0])
    xs = list(operands_)
    if not xs:
        raise ValueError("einsum: expected at least one operand")
    target = xs[0].dtype
    for x in xs[1:]:
        target = dtypes.promote(target, 1, x.dtype, 1)
    xs = [x if x.dtype == target else x.to(target) for x in xs]
    terms, out = _parse_einsum(equation, [x.shape for x in xs])
    if any(len(set(t)) != len(t) for t in terms):
        xs, terms = _take_diagonals(xs, terms)
    return Einsum.apply(*xs, equation=",".join(terms) + "->" + out)


def _take_diagonals(xs, terms):
    """A letter repeated within one operand (``'ii->i'``) selects a diagonal: take it with
    :func:`diagonal` (differentiable), which moves it to the end, until every letter is unique."""
    from .shape import diagonal

    out_xs, out_terms = [], []
    for x, t in zip(xs, terms):
        while len(set(t)) != len(t):
            c = next(c for c in t if t.count(c) > 1)
            i = t.index(c)
            j = t.index(c, i + 1)
            if x.shape[i] != x.shape[j]:
                raise shape_error("einsum", x.shape, hint=f"subscript {c!r} is repeated in {t!r} for dimensions of "
                                  f"different sizes {x.shape[i]} and {x.shape[j]}")
            x = diagonal(x, 0, i, j)
            t = t[:i] + t[i + 1:j] + t[j + 1:] + c
        out_xs.append(x)
        out_terms.append(t)
    return out_xs, out_terms


# ----------------------------------------------------------------------- det, inverse, trace
def _square(op: str, x: Tensor) -> None:
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise shape_error(op, x.shape, hint="expects a square matrix or a batch of them (…, n, n)")


class Inverse(Function):
    """X⁻¹ of a square matrix (or batch): vjp −X⁻ᵀ G X⁻ᵀ, jvp −X⁻¹ Ẋ X⁻¹."""

    saves_output = True

    def forward(self, x):
        xp = array_module(x._data)
        try:
            return xp.linalg.inv(x._data)
        except np.linalg.LinAlgError as e:
            raise RuntimeError(f"inverse: the matrix of shape {fmt(x._data.shape)} is singular ({e})") from None

    def vjp(self, grad):
        y = _mT(self.output)
        return -(y @ grad @ y)

    def jvp(self, dx):
        y = self.output
        return -(y @ dx @ y)


@tensor_method()
def inverse(input: Tensor) -> Tensor:
    """Inverse of a square matrix (or batch of them); a singular matrix is an error."""
    _square("inverse", input)
    return Inverse.apply(input)


class Det(Function):
    """det X of a square matrix (or batch): vjp g · det X · X⁻ᵀ, jvp det X · tr(X⁻¹ Ẋ)."""

    saves_output = True

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return xp.asarray(xp.linalg.det(x._data))

    def _factor(self) -> Tensor | None:
        """What multiplies X⁻ᵀ in the rules: det X here, nothing for log|det X|."""
        return self.output

    def vjp(self, grad):
        (x,) = self.saved
        factor = self._factor()
        scale = unsqueeze(unsqueeze(grad if factor is None else grad * factor, -1), -1)
        return scale * _mT(inverse(x))

    def jvp(self, dx):
        (x,) = self.saved
        factor = self._factor()
        trace_term = _sum(_mT(inverse(x)) * dx, (-2, -1))
        return trace_term if factor is None else factor * trace_term


class LogAbsDet(Det):
    """log|det X|: vjp g · X⁻ᵀ, jvp tr(X⁻¹ Ẋ) — the rules of :class:`Det` without the factor det X."""

    def forward(self, x):
        self.save(x)
        xp = array_module(x._data)
        return xp.asarray(xp.linalg.slogdet(x._data)[1])

    def _factor(self) -> Tensor | None:
        return None


@tensor_method()
def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or batch); d det X = det X · tr(X⁻¹ dX)."""
    _square("det", input)
    return Det.apply(input)


class SlogdetResult(NamedTuple):
    sign: Tensor
    logabsdet: Tensor


@tensor_method()
def slogdet(input: Tensor) -> SlogdetResult:
    """(sign, log|det|) of a square matrix (or batch): det = sign · exp(logabsdet), without the
    overflow of det itself. The sign has no gradient; log|det A| has the gradient A⁻ᵀ."""
    _square("slogdet", input)
    x = _floating(input)
    xp = array_module(x._data)
    sign = xp.asarray(xp.linalg.slogdet(x._data)[0], dtype=x._data.dtype)
    return SlogdetResult(wrap(sign), LogAbsDet.apply(x))


@tensor_method()
def matrix_power(input: Tensor, n: int) -> Tensor:
    """A to the integer power ``n`` for a square matrix (or batch), by repeated squaring; n = 0 gives
    the identity, a negative n the power of the inverse."""
    _square("matrix_power", input)
    if n == 0:  # the identity, in the graph with gradient 0 (as torch; NaN in input does not reach it)
        xp = array_module(input._data)
        eye = xp.broadcast_to(xp.eye(input.shape[-1], dtype=input._data.dtype), input.shape)
        return where(constant(xp.ones(input.shape, dtype=bool)), constant(eye), input)
    base = inverse(input) if n < 0 else input
    n, result = abs(n), None
    while n:  # over the bits of n: the result takes the current square where a bit is set
        if n & 1:
            result = base if result is None else result @ base
        n >>= 1
        if n:
            base = base @ base
    return clone(result) if result is input else result


@tensor_method()
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-d tensor."""
    if input.ndim != 2:
        raise shape_error("trace", input.shape, hint="trace expects a 2-d tensor")
    return _sum(diagonal(input))


# ----------------------------------------------------------------------- solve and the decompositions
class Solve(Function):
    """X = A⁻¹B for square A (…, n, n) and B (…, n, k), batch dims broadcast: vjp G_B = A⁻ᵀ G,
    G_A = −G_B Xᵀ (each summed back over the dims it was broadcast along); jvp Ẋ = A⁻¹(Ḃ − Ȧ X)."""

    saves_output = True

    def forward(self, a, b):
        self.save(a, b)
        xp = array_module(a._data, b._data)
        try:
            return xp.linalg.solve(a._data, b._data)
        except np.linalg.LinAlgError as e:
            raise RuntimeError(f"linalg.solve: the matrix A of shape {fmt(a._data.shape)} is singular ({e}); "
                               "fukaku.linalg.lstsq gives a least-squares solution") from None

    def vjp(self, grad):
        a, b = self.saved
        na, nb = self.needs_input_grad
        gb = Solve.apply(_mT(a), grad)
        return (sum_to(-(gb @ _mT(self.output)), a.shape) if na else None, sum_to(gb, b.shape) if nb else None)

    def jvp(self, da, db):
        a, _ = self.saved
        if da is None:
            return Solve.apply(a, db)
        change = -(da @ self.output) if db is None else db - da @ self.output
        return Solve.apply(a, change)


def _right_solve(x: Tensor, r: Tensor) -> Tensor:
    """x R⁻¹ (differentiable)."""
    return _mT(Solve.apply(_mT(r), _mT(x)))


def _right_solve_transposed(x: Tensor, r: Tensor) -> Tensor:
    """x R⁻ᵀ (differentiable)."""
    return _mT(Solve.apply(r, _mT(x)))


def _matrix_input(op: str, x: Tensor) -> Tensor:
    """``x`` checked to be a floating matrix or batch of them (…, m, n)."""
    if x.ndim < 2:
        raise shape_error(op, x.shape, hint="expects a matrix or a batch of them (…, m, n)")
    if x._data.dtype.kind != "f":
        raise TypeError(f"{op}: expected a floating point input, got {x.dtype}; convert it with .float()")
    return x


def _gaps(v: Tensor) -> Tensor:
    """E[i, j] = v_j − v_i with 1 on the diagonal (a safe divisor there: what it divides is 0)."""
    eye = array_module(v._data).eye(v.shape[-1], dtype=v._data.dtype)
    return unsqueeze(v, -2) - unsqueeze(v, -1) + constant(eye)


def _given(g: Tensor) -> Tensor | None:
    """A factor's gradient, or None where it is all zeros: a factor that was not used (torch's
    "undefined" gradient), whose terms in the rules are skipped — they would divide 0 by the gaps
    between singular or eigen values, which may be 0."""
    return g if array_module(g._data).any(g._data) else None


def _unpack(packed: Tensor, batch: tuple[int, ...], shapes: list[tuple[int, ...]]) -> list[Tensor]:
    """The factors packed side by side along the last axis, cut apart (differentiable)."""
    out, start = [], 0
    for shape in shapes:
        size = math.prod(shape)
        out.append(reshape(packed[..., start:start + size], batch + tuple(shape)))
        start += size
    return out


def _pack(parts: list[Tensor], batch: tuple[int, ...]) -> Tensor:
    return cat([reshape(p, batch + (math.prod(p.shape[len(batch):]),)) for p in parts], -1)


class _Factorization(Function):
    """A decomposition of a matrix (or a batch) into several factors, as one graph node.

    A Function has one output, so ``forward`` packs the factors side by side along a last axis and
    :meth:`factorize` cuts them apart with differentiable indexing. The engine then hands the vjp
    one packed gradient (zeros for a factor that was not used); vjp and jvp unpack it and apply the
    subclass's rules, written with tensor ops on the factors as tensors of this graph, so they
    differentiate again.

    Subclasses define ``factor(a) -> [arrays]``, ``factor_shapes(m, n)`` (after the batch dims),
    ``factors_vjp(x, grads, factors)`` and ``factors_jvp(x, dx, factors) -> [tangents]``.
    """

    saves_output = True

    @classmethod
    def factorize(cls, x: Tensor, **params) -> list[Tensor]:
        """The factors of ``x`` as tensors (one node of the graph)."""
        return _unpack(cls.apply(x, **params), tuple(x.shape[:-2]), cls(**params).factor_shapes(*x.shape[-2:]))

    def factor(self, a: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def factor_shapes(self, m: int, n: int) -> list[tuple[int, ...]]:
        raise NotImplementedError

    def forward(self, x):
        self.save(x)
        batch = x._data.shape[:-2]
        parts = self.factor(x._data)
        return array_module(x._data).concatenate(
            [part.reshape(batch + (math.prod(part.shape[len(batch):]),)) for part in parts], axis=-1)

    def _unpacked(self, packed: Tensor, x: Tensor) -> list[Tensor]:
        return _unpack(packed, tuple(x.shape[:-2]), self.factor_shapes(*x.shape[-2:]))

    def vjp(self, grad):
        (x,) = self.saved
        return self.factors_vjp(x, self._unpacked(grad, x), self._unpacked(self.output, x))

    def jvp(self, dx):
        (x,) = self.saved
        return _pack(self.factors_jvp(x, dx, self._unpacked(self.output, x)), tuple(x.shape[:-2]))


def _zeros_like(x: Tensor) -> Tensor:
    return constant(array_module(x._data).zeros_like(x._data))


class SVD(_Factorization):
    """A = U diag(S) Vh, singular values descending; ``full_matrices`` as NumPy and torch.

    Rules: torch's svd_backward and linalg_svd_jvp (real case), valid for distinct non-zero singular
    values. With E[i, j] = s_j² − s_i² and skew(X) = X − Xᵀ, the vjp is
    U ((skew(UᵀG_U) S + S skew(Vh G_Vhᵀ)) / E + diag(G_S)) Vh plus, for a tall (wide) A, the part of
    G_U (G_Vh) outside U's (V's) span. With only G_S it is U diag(G_S) Vh, which holds for repeated
    singular values too. With full matrices only the first min(m, n) columns of U and rows of Vh are
    differentiated (the others are not determined by A), as torch does.
    """

    def __init__(self, full_matrices: bool) -> None:
        self.full_matrices = full_matrices

    def factor(self, a):
        u, s, vh = array_module(a).linalg.svd(a, full_matrices=self.full_matrices)
        return [u, s, vh]

    def factor_shapes(self, m, n):
        k = min(m, n)
        return [(m, m if self.full_matrices else k), (k,), (n if self.full_matrices else k, n)]

    def factors_vjp(self, x, grads, factors):
        (g_u, g_s, g_vh), (u, s, vh) = grads, factors
        k = s.shape[-1]
        if self.full_matrices:
            g_u, g_vh, u, vh = g_u[..., :k], g_vh[..., :k, :], u[..., :k], vh[..., :k, :]
        g_u, g_s, g_vh = _given(g_u), _given(g_s), _given(g_vh)
        m, n = x.shape[-2:]
        if g_u is None and g_vh is None:
            if g_s is None:
                return _zeros_like(x)
            return u @ (unsqueeze(g_s, -1) * vh) if m >= n else (u * unsqueeze(g_s, -2)) @ vh
        s_row, s_col, gaps = unsqueeze(s, -2), unsqueeze(s, -1), _gaps(s * s)
        if g_u is not None and g_vh is not None:
            inner = (_skew(_mT(u) @ g_u) * s_row + s_col * _skew(vh @ _mT(g_vh))) / gaps
        elif g_u is not None:
            inner = _skew(_mT(u) @ g_u) * (s_row / gaps)
        else:
            inner = s_col * (_skew(vh @ _mT(g_vh)) / gaps)
        if g_s is not None:
            inner = inner + diag_embed(g_s)
        if m > n and g_u is not None:  # G_A = (U inner + (I − UUᵀ) G_U S⁻¹) Vh
            g_u_scaled = g_u / s_row
            return (u @ inner + g_u_scaled - u @ (_mT(u) @ g_u_scaled)) @ vh
        if m < n and g_vh is not None:  # G_A = U (inner Vh + S⁻¹ G_Vh (I − VVᵀ))
            scaled_g_vh = g_vh / s_col
            return u @ (inner @ vh + scaled_g_vh - (scaled_g_vh @ _mT(vh)) @ vh)
        return u @ (inner @ vh) if m >= n else (u @ inner) @ vh

    def factors_jvp(self, x, dx, factors):
        u, s, vh = factors
        m, n = x.shape[-2:]
        k = s.shape[-1]
        if self.full_matrices:
            u, vh = u[..., :k], vh[..., :k, :]
        v = _mT(vh)
        dp = _mT(u) @ (dx @ v) if m >= n else (_mT(u) @ dx) @ v
        ds = diagonal(dp, 0, -2, -1)
        dp = dp - diag_embed(ds)
        gaps = _gaps(s * s)
        du = u @ (_sym(dp * unsqueeze(s, -2)) / gaps)
        dvh = (_sym(dp * unsqueeze(-s, -1)) / gaps) @ vh
        batch, xp = tuple(x.shape[:-2]), array_module(x._data)
        if m > n:  # the part of U̇ outside U's span: (I − UUᵀ) Ȧ V S⁻¹
            scaled = dx @ (v / unsqueeze(s, -2))
            du = du + scaled - u @ (_mT(u) @ scaled)
            if self.full_matrices:  # the other columns are not determined by A: tangent 0, as torch
                du = cat([du, constant(xp.zeros(batch + (m, m - n), x._data.dtype))], -1)
        if m < n:
            scaled = (_mT(u) / unsqueeze(s, -1)) @ dx
            dvh = dvh + scaled - (scaled @ v) @ vh
            if self.full_matrices:
                dvh = cat([dvh, constant(xp.zeros(batch + (n - m, n), x._data.dtype))], -2)
        return [du, ds, dvh]


def _skew(x: Tensor) -> Tensor:
    return x - _mT(x)


def _sym(x: Tensor) -> Tensor:
    return x + _mT(x)


class Eigh(_Factorization):
    """A = V diag(L) Vᵀ for a symmetric A, of which only the ``upper`` or lower triangle is read;
    eigenvalues ascending.

    Rules: torch's linalg_eig_backward and linalg_eig_jvp (hermitian case), valid for distinct
    eigenvalues. With E[i, j] = λ_j − λ_i: vjp V (diag(G_L) + ½ skew(VᵀG_V) / E) Vᵀ (only
    V diag(G_L) Vᵀ when G_V is 0, which holds for repeated eigenvalues too); jvp L̇ = diag(VᵀȦV),
    V̇ = V (VᵀȦV / E with a zero diagonal). Like torch they use the whole Ȧ and give a symmetric
    gradient.
    """

    def __init__(self, upper: bool) -> None:
        self.upper = upper

    def factor(self, a):
        values, vectors = array_module(a).linalg.eigh(a, UPLO="U" if self.upper else "L")
        return [values, vectors]

    def factor_shapes(self, m, n):
        return [(n,), (n, n)]

    def factors_vjp(self, x, grads, factors):
        (g_l, g_v), (values, vectors) = (_given(g) for g in grads), factors
        if g_v is None:
            if g_l is None:
                return _zeros_like(x)
            return (vectors * unsqueeze(g_l, -2)) @ _mT(vectors)
        inner = _skew(_mT(vectors) @ g_v) * 0.5 / _gaps(values)
        if g_l is not None:
            inner = inner + diag_embed(g_l)
        return vectors @ (inner @ _mT(vectors))

    def factors_jvp(self, x, dx, factors):
        values, vectors = factors
        dp = _mT(vectors) @ dx @ vectors
        n = values.shape[-1]
        off_diagonal = constant(1 - array_module(x._data).eye(n, dtype=x._data.dtype))
        return [diagonal(dp, 0, -2, -1), vectors @ (dp / _gaps(values) * off_diagonal)]


class QR(_Factorization):
    """A = QR, Q with orthonormal columns, R upper triangular, by LAPACK's Householder QR (R's diagonal
    may be negative). ``mode`` 'reduced': Q (m, k), R (k, n) with k = min(m, n); 'complete': Q (m, m).

    Rules for a full-rank A (Walter & Lehmann; TensorFlow's qr_grad), written for a square or tall
    R block: vjp Q (G_R + tril(QᵀG_Q − G_QᵀQ + RG_Rᵀ − G_RRᵀ) R⁻ᵀ) + (G_Q − QQᵀG_Q) R⁻ᵀ; jvp with
    C = QᵀȦR⁻¹ and Ω = tril(C, −1) − tril(C, −1)ᵀ: Ṙ = (C − Ω) R, Q̇ = ȦR⁻¹ − Q (C − Ω). A wide
    A = [X | Y] goes through the square QR of X, with R = [U | QᵀY]. 'complete' with m > n is not
    differentiable (Q's extra columns are not determined by A), as in torch.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode

    def factor(self, a):
        q, r = array_module(a).linalg.qr(a, mode=self.mode)
        return [q, r]

    def factor_shapes(self, m, n):
        k = m if self.mode == "complete" else min(m, n)
        return [(m, k), (k, n)]

    def _differentiable(self, x: Tensor) -> None:
        if self.mode == "complete" and x.shape[-2] > x.shape[-1]:
            raise RuntimeError(f"linalg.qr: the QR decomposition of a {x.shape[-2]}×{x.shape[-1]} matrix is not "
                               "differentiable when mode='complete' and nrows > ncols; use mode='reduced'")

    def factors_vjp(self, x, grads, factors):
        self._differentiable(x)
        (g_q, g_r), (q, r) = grads, factors
        m, n = x.shape[-2:]
        if m >= n:
            return _qr_vjp(q, r, g_q, g_r)
        g_v = g_r[..., m:]
        g_x = _qr_vjp(q, r[..., :m], g_q + x[..., m:] @ _mT(g_v), g_r[..., :m])
        return cat([g_x, q @ g_v], -1)

    def factors_jvp(self, x, dx, factors):
        self._differentiable(x)
        q, r = factors
        m, n = x.shape[-2:]
        if m >= n:
            return list(_qr_jvp(q, r, dx))
        dq, du = _qr_jvp(q, r[..., :m], dx[..., :m])
        return [dq, cat([du, _mT(dq) @ x[..., m:] + _mT(q) @ dx[..., m:]], -1)]


def _qr_vjp(q: Tensor, r: Tensor, g_q: Tensor, g_r: Tensor) -> Tensor:
    """G_A of A = QR for a square R (the tall or square case)."""
    qdq, rdr = _mT(q) @ g_q, r @ _mT(g_r)
    low = tril(_skew(qdq) + _skew(rdr))
    return q @ (g_r + _right_solve_transposed(low, r)) + _right_solve_transposed(g_q - q @ qdq, r)


def _qr_jvp(q: Tensor, r: Tensor, dx: Tensor) -> tuple[Tensor, Tensor]:
    """(Q̇, Ṙ) of A = QR for a square R (the tall or square case)."""
    dx_rinv = _right_solve(dx, r)
    c = _mT(q) @ dx_rinv
    low = tril(c, -1)
    upper = c - _skew(low)
    return dx_rinv - q @ upper, upper @ r


class Cholesky(Function):
    """L with A = LLᵀ, L lower triangular, for a symmetric positive-definite A, read from its lower
    triangle; ``upper``: U = Lᵀ (A = UᵀU), read from the upper triangle.

    Rules: torch's cholesky_backward (Murray 2016, arXiv 1602.07527) and cholesky_jvp, for U through
    L = Uᵀ: vjp L⁻ᵀ Φ(LᵀG_L) L⁻¹ with Φ(X) = ½(tril(X) + tril(X, −1)ᵀ), a symmetric gradient; jvp
    L̇ = L (tril(Y) − ½ diag(Y)) with Y = L⁻¹ȦL⁻ᵀ, from the whole Ȧ.
    """

    saves_output = True

    def __init__(self, upper: bool) -> None:
        self.upper = upper

    def forward(self, x):
        xp = array_module(x._data)
        a = xp.swapaxes(x._data, -1, -2) if self.upper else x._data  # A's upper triangle is Aᵀ's lower one
        try:
            low = xp.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            raise RuntimeError(f"linalg.cholesky: the input of shape {fmt(x._data.shape)} is not positive-definite "
                               "(or not symmetric); for a positive semi-definite A, add a small multiple of the "
                               "identity") from None
        return xp.swapaxes(low, -1, -2) if self.upper else low

    def _lower(self, t: Tensor) -> Tensor:
        """L (or its gradient, its tangent) from the output's U when ``upper``."""
        return _mT(t) if self.upper else t

    def vjp(self, grad):
        low = self._lower(self.output)
        phi = tril(_mT(low) @ self._lower(grad))
        phi = 0.5 * (phi + _mT(tril(phi, -1)))
        return _right_solve(Solve.apply(_mT(low), phi), low)

    def jvp(self, dx):
        low = self._lower(self.output)
        y = _right_solve_transposed(Solve.apply(low, dx), low)
        return self._lower(low @ (tril(y) - 0.5 * diag_embed(diagonal(y, 0, -2, -1))))


class Pinv(Function):
    """The Moore–Penrose pseudo-inverse P = A⁺ (n, m) of A (m, n): V diag(1/s) Uᵀ over the singular
    values s > max(atol, rtol·s_max) (``hermitian``: from the eigen-decomposition, s = |λ|).

    Rules: torch's pinv_backward / pinv_jvp, the derivative of A⁺ where the rank does not change
    (Golub & Pereyra): Ṗ = −PȦP + PPᵀȦᵀ(I − AP) + (I − PA)ȦᵀPᵀP, and its transpose, the vjp
    −PᵀGPᵀ + (I − AP)GᵀPPᵀ + PᵀPGᵀ(I − PA)."""

    saves_output = True

    def __init__(self, atol: float, rtol: float, hermitian: bool) -> None:
        self.atol, self.rtol, self.hermitian = atol, rtol, hermitian

    def forward(self, x):
        self.save(x)
        a = x._data
        xp = array_module(a)
        if self.hermitian:
            values, vectors = xp.linalg.eigh(a)
            size = xp.abs(values)
            largest = (size.max(axis=-1, keepdims=True) if size.shape[-1]  # CuPy's max takes no initial=
                       else xp.zeros(size.shape[:-1] + (1,), size.dtype))
            kept = size > xp.maximum(self.atol, self.rtol * largest)
            inverted = xp.where(kept, 1 / xp.where(kept, values, 1), 0)
            return (vectors * inverted[..., None, :]) @ xp.swapaxes(vectors, -1, -2)
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        kept = s > xp.maximum(self.atol, self.rtol * s[..., :1])  # descending: the first is the largest
        inverted = xp.where(kept, 1 / xp.where(kept, s, 1), 0)
        return (xp.swapaxes(vh, -1, -2) * inverted[..., None, :]) @ xp.swapaxes(u, -1, -2)

    def _identities(self, x: Tensor) -> tuple[Tensor, Tensor]:
        xp = array_module(x._data)
        m, n = x.shape[-2:]
        return constant(xp.eye(m, dtype=x._data.dtype)), constant(xp.eye(n, dtype=x._data.dtype))

    def vjp(self, grad):
        (a,) = self.saved
        p, gt = self.output, _mT(grad)
        eye_m, eye_n = self._identities(a)
        return -(_mT(p) @ grad @ _mT(p)) + (eye_m - a @ p) @ gt @ (p @ _mT(p)) + (_mT(p) @ p) @ gt @ (eye_n - p @ a)

    def jvp(self, dx):
        (a,) = self.saved
        p, dxt = self.output, _mT(dx)
        eye_m, eye_n = self._identities(a)
        return -(p @ dx @ p) + (p @ _mT(p)) @ dxt @ (eye_m - a @ p) + (eye_n - p @ a) @ dxt @ (_mT(p) @ p)


class SVDResult(NamedTuple):
    U: Tensor
    S: Tensor
    V: Tensor


@tensor_method()
def svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> SVDResult:
    """A = U diag(S) Vᵀ (torch.svd: V, not Vᵀ): ``some`` gives the reduced U (m, k) and V (n, k),
    k = min(m, n), else the full ones. ``compute_uv=False`` returns zero-filled U (m, m) and V
    (n, n), as torch. Gradients as :class:`SVD` (distinct singular values).
    See :func:`fukaku.linalg.svd` for the newer form that returns Vᵀ."""
    x = _matrix_input("svd", input)
    u, s, vh = SVD.factorize(x, full_matrices=not some and compute_uv)
    if not compute_uv:
        xp, batch = array_module(x._data), tuple(x.shape[:-2])
        m, n = x.shape[-2:]
        zeros = [wrap(xp.zeros(batch + (k, k), x._data.dtype)) for k in (m, n)]
        return SVDResult(zeros[0], s, zeros[1])
    return SVDResult(u, s, _mT(vh))


__all__ = ["matmul", "mm", "bmm", "dot", "mv", "outer", "einsum", "inverse", "det", "trace", "addmm", "addmv",
           "addbmm", "baddbmm", "kron", "cross", "tensordot", "cdist", "dist", "svd", "slogdet", "matrix_power"]
