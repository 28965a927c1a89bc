"""Linear algebra: matmul (1-d, 2-d, batched, broadcast), einsum, outer, det, inverse, trace.

Matrix-calculus identities used here are those of seed 002 ch. 2 (P7–P8):
y = AB ⇒ ∂L/∂A = G Bᵀ, ∂L/∂B = Aᵀ G;  ∂det X/∂X = det(X) X⁻ᵀ;  d(X⁻¹) = −X⁻¹ dX X⁻¹.
"""
from __future__ import annotations

import string
from collections.abc import Callable

from .. import dtypes
from ..autograd.function import Function
from ..backends import array_module
from ..tensor import Tensor
from ._util import fmt, named, operands, shape_error, tensor_method
from .shape import _mT, reshape, sum_to, unsqueeze


class MatMul(Function):
    """Matrix product; ``op`` is the public name in error messages (mm, bmm and dot run through here)."""

    def __init__(self, op: str = "matmul") -> None:
        self.op = op

    def forward(self, a, b):
        self.save(a, b)
        try:
            return array_module(a._data, b._data).matmul(a._data, b._data)
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


def _fixed_rank(op: str, rank: int, doc: str, hint: str) -> Callable[[Tensor, Tensor], Tensor]:
    """The product ``op`` of two tensors of rank ``rank`` with equal batch dimensions (no broadcasting)."""
    def product(input: Tensor, other: Tensor) -> Tensor:
        if input.ndim != rank or other.ndim != rank or input.shape[:-2] != other.shape[:-2]:
            raise shape_error(op, input.shape, other.shape, hint=hint)
        return _product(input, other, op)

    return named(product, op, doc)


mm = tensor_method()(_fixed_rank("mm", 2, "Product of two matrices, ``(n, k) @ (k, m) -> (n, m)``.",
                                 hint="mm takes two 2-d matrices; use matmul for other shapes"))
bmm = tensor_method()(_fixed_rank("bmm", 3, "Batched matrix product without broadcasting, "
                                  "``(B, n, k) @ (B, k, m) -> (B, n, m)``.",
                                  hint="bmm takes (B, n, k) and (B, k, m) with the same B"))
dot = tensor_method()(_fixed_rank("dot", 1, "Inner product of two 1-d tensors of the same length.",
                                  hint="dot takes two 1-d tensors"))


@tensor_method()
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """``outer(a, b)[i, j] = a[i]·b[j]``."""
    if input.ndim != 1 or vec2.ndim != 1:
        raise shape_error("outer", input.shape, vec2.shape, hint="outer takes two 1-d tensors")
    return unsqueeze(input, 1) * unsqueeze(vec2, 0)


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
            return array_module(*arrays).einsum(eq, *arrays, optimize=len(xs) > 2)
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
        except xp.linalg.LinAlgError as e:
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

    def vjp(self, grad):
        (x,) = self.saved
        scale = unsqueeze(unsqueeze(grad * self.output, -1), -1)
        return scale * _mT(inverse(x))

    def jvp(self, dx):
        (x,) = self.saved
        from .reduce import sum as _sum

        return self.output * _sum(_mT(inverse(x)) * dx, (-2, -1))


@tensor_method()
def det(input: Tensor) -> Tensor:
    """Determinant of a square matrix (or batch); d det X = det X · tr(X⁻¹ dX)."""
    _square("det", input)
    return Det.apply(input)


@tensor_method()
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-d tensor."""
    from .reduce import sum as _sum
    from .shape import diagonal

    if input.ndim != 2:
        raise shape_error("trace", input.shape, hint="trace expects a 2-d tensor")
    return _sum(diagonal(input))


__all__ = ["matmul", "mm", "bmm", "dot", "outer", "einsum", "inverse", "det", "trace"]
