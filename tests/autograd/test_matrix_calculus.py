"""The matrix-calculus identities of seed 002 ch. 2 (problems P5–P12) hold for fukaku's derivatives.

Every closed form is written with NumPy and compared, in float64, with the derivative fukaku
computes in REVERSE mode (``functional.jacobian(mode='rev')`` plus ``autograd.grad`` for a scalar
or ``functional.vjp`` for a vector output) and in FORWARD mode (``functional.jacobian(mode='fwd')``
plus ``functional.jvp`` on a random tangent). Each test is parametrised over ``mode``.

Conventions of the booklet (spec/seed-001-002.md): the gradient of a scalar w.r.t. a vector is a
ROW vector; a Jacobian is in numerator layout (dy = (∂y/∂x) dx, so J[i, j] = ∂y_i/∂x_j); the
derivative of a scalar w.r.t. a matrix has the shape of the matrix ((∂f/∂X)[i, j] = ∂f/∂X_ij).
``functional.jacobian`` returns ``out.shape + in.shape``, which is exactly numerator layout, and for
a 1-d x the row-vs-column distinction is only the 1-d shape (n,); one test uses explicit (n, 1)
column vectors to show the layout. P12 (an exam problem) uses column-vector gradients, as the
booklet notes.
"""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
import fukaku.nn.functional as F
from fukaku.autograd import functional as AF

MODES = ("rev", "fwd")
RTOL, ATOL = 1e-10, 1e-12


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _t(a, requires_grad: bool = False) -> fk.Tensor:
    return fk.tensor(np.asarray(a, dtype=np.float64), dtype=fk.float64, requires_grad=requires_grad)


def _np(x) -> np.ndarray:
    return np.asarray(x.data.numpy(), dtype=np.float64)


def check(f, xs, expected, mode: str, seed: int = 123) -> None:
    """Assert that fukaku's derivative of ``f`` at ``xs`` equals ``expected`` in ``mode``.

    ``xs``: one array or a tuple of arrays (the inputs); ``expected``: the closed-form Jacobian(s),
    shaped ``out.shape + x.shape`` (one per input when ``xs`` is a tuple). f takes and returns tensors.
    rev: full Jacobian by reverse mode, plus autograd.grad (scalar f) or one vjp (vector f).
    fwd: full Jacobian by forward mode, plus one jvp with a random tangent.
    """
    multi = isinstance(xs, tuple)
    xs_np = xs if multi else (xs,)
    exp = tuple(np.asarray(e, dtype=np.float64) for e in (expected if multi else (expected,)))
    xs_t = tuple(_t(x) for x in xs_np)
    arg = xs_t if multi else xs_t[0]
    r = _rng(seed)

    jac = AF.jacobian(f, arg, mode=mode)
    jacs = jac if multi else (jac,)
    assert len(jacs) == len(exp)
    for j, e, x in zip(jacs, exp, xs_np, strict=True):
        assert tuple(j.shape) == e.shape, f"{mode} Jacobian shape {tuple(j.shape)} != closed form {e.shape}"
        np.testing.assert_allclose(_np(j), e, rtol=RTOL, atol=ATOL, err_msg=f"{mode}-mode Jacobian")

    out_shape = exp[0].shape[: exp[0].ndim - xs_np[0].ndim]
    if mode == "rev":
        if out_shape == ():
            leaves = tuple(_t(x, requires_grad=True) for x in xs_np)
            out = f(*leaves)
            grads = fk.autograd.grad(out, leaves)
            for g, e in zip(grads, exp, strict=True):
                np.testing.assert_allclose(_np(g), e, rtol=RTOL, atol=ATOL, err_msg="autograd.grad")
        else:
            u = r.standard_normal(out_shape)
            _, vj = AF.vjp(f, arg, _t(u))
            vjs = vj if multi else (vj,)
            for g, e in zip(vjs, exp, strict=True):
                np.testing.assert_allclose(_np(g), np.tensordot(u, e, axes=u.ndim), rtol=RTOL, atol=ATOL,
                                           err_msg="vjp uᵀJ")
    else:
        vs = tuple(r.standard_normal(x.shape) for x in xs_np)
        _, tangent = AF.jvp(f, xs_t, tuple(_t(v) for v in vs))
        want = sum(np.tensordot(e, v, axes=v.ndim) for e, v in zip(exp, vs, strict=True))
        np.testing.assert_allclose(_np(tangent), want, rtol=RTOL, atol=ATOL, err_msg="jvp J·v")


def dsigmoid(z):
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1.0 - s)


# ================================================================================= P5
@pytest.mark.parametrize("mode", MODES)
def test_p5_1_dx_dx_is_identity(mode):
    """P5 (1): ∂x/∂x = I."""
    x = _rng(0).standard_normal(4)
    check(lambda x: x, x, np.eye(4), mode)


@pytest.mark.parametrize("mode", MODES)
def test_p5_2_linear_map(mode):
    """P5 (2): ∂(Ax)/∂x = A (A rectangular, 3×4)."""
    r = _rng(1)
    A, x = r.standard_normal((3, 4)), r.standard_normal(4)
    check(lambda x: _t(A) @ x, x, A, mode)


ELEMENTWISE = {
    # name: (fukaku f, numpy f', domain)
    "exp": (fk.exp, np.exp, "any"),
    "tanh": (fk.tanh, lambda x: 1 - np.tanh(x) ** 2, "any"),
    "sin": (fk.sin, np.cos, "any"),
    "sigmoid": (fk.sigmoid, dsigmoid, "any"),
    "cube": (lambda x: x ** 3, lambda x: 3 * x ** 2, "any"),
    "log": (fk.log, lambda x: 1 / x, "pos"),
    "sqrt": (fk.sqrt, lambda x: 0.5 / np.sqrt(x), "pos"),
    "softplus": (F.softplus, lambda x: 1 / (1 + np.exp(-x)), "any"),
}


@pytest.mark.parametrize("fname", list(ELEMENTWISE))
@pytest.mark.parametrize("mode", MODES)
def test_p5_3_elementwise_function_has_diagonal_jacobian(mode, fname):
    """P5 (3): ∂(f(x_1), …, f(x_n))ᵀ/∂x = diag(f'(x_i))."""
    f, df, domain = ELEMENTWISE[fname]
    r = _rng(2)
    x = r.uniform(0.3, 2.0, 5) if domain == "pos" else r.standard_normal(5)
    check(f, x, np.diag(df(x)), mode)


@pytest.mark.parametrize("mode", MODES)
def test_p5_4_hadamard_with_constant(mode):
    """P5 (4): ∂(a⊙x)/∂x = diag(a)."""
    r = _rng(3)
    a, x = r.standard_normal(4), r.standard_normal(4)
    check(lambda x: _t(a) * x, x, np.diag(a), mode)


# ================================================================================= P6
@pytest.mark.parametrize("mode", MODES)
def test_p6_1_2_inner_product_with_constant(mode):
    """P6 (1), (2): ∂(aᵀx)/∂x = ∂(xᵀa)/∂x = aᵀ."""
    r = _rng(4)
    a, x = r.standard_normal(4), r.standard_normal(4)
    check(lambda x: _t(a) @ x, x, a, mode)
    check(lambda x: fk.dot(x, _t(a)), x, a, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p6_3_squared_norm(mode):
    """P6 (3): ∂(xᵀx)/∂x = 2xᵀ."""
    x = _rng(5).standard_normal(4)
    check(lambda x: x @ x, x, 2 * x, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p6_4_quadratic_form(mode):
    """P6 (4): ∂(xᵀAx)/∂x = xᵀ(A + Aᵀ), A not symmetric."""
    r = _rng(6)
    A, x = r.standard_normal((4, 4)), r.standard_normal(4)
    check(lambda x: x @ (_t(A) @ x), x, x @ (A + A.T), mode)


@pytest.mark.parametrize("mode", MODES)
def test_p6_4_quadratic_form_column_vectors(mode):
    """P6 (4) with explicit column vectors x ∈ R^{n×1}: (xᵀAx) is 1×1 and its derivative, in
    numerator layout, is the 1×n ROW vector xᵀ(A + Aᵀ)."""
    r = _rng(6)
    A, x = r.standard_normal((4, 4)), r.standard_normal((4, 1))
    row = x.T @ (A + A.T)  # (1, 4)
    # jacobian shape out.shape + in.shape = (1, 1) + (4, 1); numerator layout row = J.reshape(1, n)
    check(lambda x: x.T @ _t(A) @ x, x, row.reshape(1, 1, 4, 1), mode)


@pytest.mark.parametrize("mode", MODES)
def test_p6_5_shifted_squared_norm(mode):
    """P6 (5): ∂((x + a)ᵀ(x + a))/∂x = 2(x + a)ᵀ."""
    r = _rng(7)
    a, x = r.standard_normal(4), r.standard_normal(4)
    check(lambda x: (x + _t(a)) @ (x + _t(a)), x, 2 * (x + a), mode)


@pytest.mark.parametrize("mode", MODES)
def test_p6_6_affine_squared_norm(mode):
    """P6 (6): ∂((Ax + b)ᵀ(Ax + b))/∂x = 2(Ax + b)ᵀA."""
    r = _rng(8)
    A, b, x = r.standard_normal((3, 4)), r.standard_normal(3), r.standard_normal(4)

    def f(x):
        z = _t(A) @ x + _t(b)
        return z @ z

    check(f, x, 2 * (A @ x + b) @ A, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p6_7_affine_quadratic_form(mode):
    """P6 (7): ∂((Ax + b)ᵀC(Ax + b))/∂x = (Ax + b)ᵀ(C + Cᵀ)A, C not symmetric."""
    r = _rng(9)
    A, b, C, x = r.standard_normal((3, 4)), r.standard_normal(3), r.standard_normal((3, 3)), r.standard_normal(4)

    def f(x):
        z = _t(A) @ x + _t(b)
        return z @ (_t(C) @ z)

    check(f, x, (A @ x + b) @ (C + C.T) @ A, mode)


# ================================================================================= P7
@pytest.mark.parametrize("mode", MODES)
def test_p7_1_trace(mode):
    """P7 (1): ∂tr(X)/∂X = I."""
    X = _rng(10).standard_normal((3, 3))
    check(fk.trace, X, np.eye(3), mode)


@pytest.mark.parametrize("mode", MODES)
def test_p7_2_trace_AX(mode):
    """P7 (2): ∂tr(AX)/∂X = Aᵀ (A 3×4, X 4×3)."""
    r = _rng(11)
    A, X = r.standard_normal((3, 4)), r.standard_normal((4, 3))
    check(lambda X: fk.trace(_t(A) @ X), X, A.T, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p7_3_trace_XA(mode):
    """P7 (3): ∂tr(XA)/∂X = Aᵀ (X 3×4, A 4×3)."""
    r = _rng(12)
    A, X = r.standard_normal((4, 3)), r.standard_normal((3, 4))
    check(lambda X: fk.trace(X @ _t(A)), X, A.T, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p7_4_trace_XtAX(mode):
    """P7 (4): ∂tr(XᵀAX)/∂X = (A + Aᵀ)X (X 3×2, A 3×3 not symmetric)."""
    r = _rng(13)
    A, X = r.standard_normal((3, 3)), r.standard_normal((3, 2))
    check(lambda X: fk.trace(X.T @ _t(A) @ X), X, (A + A.T) @ X, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p7_5_derivative_wrt_transpose(mode):
    """P7 (5): ∂f(X)/∂Xᵀ = (∂f(X)/∂X)ᵀ, with f(X) = tr(XᵀAX): differentiate g(Y) = f(Yᵀ) at Y = Xᵀ."""
    r = _rng(14)
    A, X = r.standard_normal((3, 3)), r.standard_normal((3, 2))
    check(lambda Y: fk.trace(Y @ _t(A) @ Y.T), X.T.copy(), ((A + A.T) @ X).T, mode)


def _invertible(seed: int, n: int = 3, positive_det: bool = True) -> np.ndarray:
    r = _rng(seed)
    X = 2.0 * np.eye(n) + 0.5 * r.standard_normal((n, n))
    if not positive_det and np.linalg.det(X) > 0:
        X[0] = -X[0]
    assert abs(np.linalg.det(X)) > 0.5
    return X


@pytest.mark.parametrize("sign", ["pos_det", "neg_det"])
@pytest.mark.parametrize("mode", MODES)
def test_p7_6_determinant(mode, sign):
    """P7 (6): ∂det(X)/∂X = det(X)(X⁻¹)ᵀ (the cofactor matrix), for det > 0 and det < 0."""
    X = _invertible(15, positive_det=sign == "pos_det")
    check(fk.det, X, np.linalg.det(X) * np.linalg.inv(X).T, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p7_7_log_determinant(mode):
    """P7 (7): ∂ln det(X)/∂X = (X⁻¹)ᵀ (det X > 0)."""
    X = _invertible(16)
    check(lambda X: fk.log(fk.det(X)), X, np.linalg.inv(X).T, mode)


FROBENIUS_FORMS = {
    "norm_sq": lambda Z: fk.norm(Z) ** 2,
    "norm_fro_sq": lambda Z: fk.norm(Z, "fro") ** 2,
    "sum_of_squares": lambda Z: (Z * Z).sum(),
    "trace_ZtZ": lambda Z: fk.trace(Z.T @ Z),  # the booklet's alternative solution, tr(ZᵀZ) = ‖Z‖_F²
}


@pytest.mark.parametrize("form", list(FROBENIUS_FORMS))
@pytest.mark.parametrize("mode", MODES)
def test_p7_8_frobenius_AX_plus_B(mode, form):
    """P7 (8): ∂‖AX + B‖_F²/∂X = 2Aᵀ(AX + B) (A 4×3, X 3×2, B 4×2)."""
    r = _rng(17)
    A, X, B = r.standard_normal((4, 3)), r.standard_normal((3, 2)), r.standard_normal((4, 2))
    sq = FROBENIUS_FORMS[form]
    check(lambda X: sq(_t(A) @ X + _t(B)), X, 2 * A.T @ (A @ X + B), mode)


@pytest.mark.parametrize("form", list(FROBENIUS_FORMS))
@pytest.mark.parametrize("mode", MODES)
def test_p7_9_frobenius_XA_plus_B(mode, form):
    """P7 (9): ∂‖XA + B‖_F²/∂X = 2(XA + B)Aᵀ (X 2×3, A 3×4, B 2×4)."""
    r = _rng(18)
    A, X, B = r.standard_normal((3, 4)), r.standard_normal((2, 3)), r.standard_normal((2, 4))
    sq = FROBENIUS_FORMS[form]
    check(lambda X: sq(X @ _t(A) + _t(B)), X, 2 * (X @ A + B) @ A.T, mode)


# ================================================================================= P8
LOSSES = {
    # name: (L(y) in fukaku, ∂L/∂y in numpy)  — the row vector ∂L/∂y
    "mse": (lambda y, t, c: 0.5 * ((y - t) ** 2).sum(), lambda y, t, c: y - t),
    "weighted_tanh": (lambda y, t, c: (c * fk.tanh(y)).sum(), lambda y, t, c: c * (1 - np.tanh(y) ** 2)),
    "logsumexp": (lambda y, t, c: fk.logsumexp(y, 0), lambda y, t, c: np.exp(y) / np.exp(y).sum()),
}


@pytest.mark.parametrize("loss", list(LOSSES))
@pytest.mark.parametrize("mode", MODES)
def test_p8_single_layer_gradients(mode, loss):
    """P8: y = Wx + b, L = L(y): ∂L/∂W = (∂L/∂y)ᵀ xᵀ (an outer product, shape of W), ∂L/∂b = ∂L/∂y."""
    r = _rng(19)
    W, b, x = r.standard_normal((3, 4)), r.standard_normal(3), r.standard_normal(4)
    t, c = r.standard_normal(3), r.standard_normal(3)
    L, dL = LOSSES[loss]
    y = W @ x + b
    e = dL(y, t, c)  # ∂L/∂y (row vector)
    # ∂L/∂y itself
    check(lambda y: L(y, _t(t), _t(c)), y, e, mode)
    # ∂L/∂W and ∂L/∂b together (W, b both inputs)
    check(lambda W, b: L(W @ _t(x) + b, _t(t), _t(c)), (W, b), (np.outer(e, x), e), mode)


# ================================================================================= P9
ACTIVATIONS = {
    # name: (f in fukaku, ∂f/∂p as a matrix in numpy)
    "tanh": (fk.tanh, lambda p: np.diag(1 - np.tanh(p) ** 2)),
    "sigmoid": (fk.sigmoid, lambda p: np.diag(dsigmoid(p))),
    "softmax": (lambda p: F.softmax(p, dim=0),  # a vector-valued f with a full Jacobian
                lambda p: (lambda s: np.diag(s) - np.outer(s, s))(np.exp(p) / np.exp(p).sum())),
}


@pytest.mark.parametrize("act", list(ACTIVATIONS))
@pytest.mark.parametrize("mode", MODES)
def test_p9_affine_layer_backprop(mode, act):
    """P9: p = Wy + b, y' = f(p), e = ∂L/∂y': ∂L/∂y = e (∂f/∂p) W; and ∂y'/∂y = (∂f/∂p) W."""
    r = _rng(20)
    W, b, y = r.standard_normal((3, 4)), r.standard_normal(3), r.standard_normal(4)
    c = r.standard_normal(3)
    f, Jf = ACTIVATIONS[act]
    p = W @ y + b
    fp = _np(f(_t(p)))
    e = 2 * c * fp  # L(y') = Σ c ⊙ y'²  ⇒  e = ∂L/∂y' = 2 c ⊙ y'
    check(lambda y: f(_t(W) @ y + _t(b)), y, Jf(p) @ W, mode)  # vector-valued chain rule (P4)
    check(lambda y: (_t(c) * f(_t(W) @ y + _t(b)) ** 2).sum(), y, e @ Jf(p) @ W, mode)


# ================================================================================= P10
def _softmax(a):
    z = np.exp(a - a.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("mode", MODES)
def test_p10_softmax_jacobian(mode):
    """P10: y_k = exp a_k / Σ_l exp a_l: ∂y_k/∂a_j = y_k(δ_kj − y_j)."""
    a = _rng(21).standard_normal(4)
    y = _softmax(a)
    J = np.array([[y[k] * ((k == j) - y[j]) for j in range(4)] for k in range(4)])
    check(lambda a: F.softmax(a, dim=-1), a, J, mode)


CE_FORMS = {
    "log_of_softmax": lambda a, t: -(t * fk.log(F.softmax(a, dim=-1))).sum(),
    "log_softmax": lambda a, t: -(t * F.log_softmax(a, dim=-1)).sum(),
    "substituted": lambda a, t: -(t * a).sum() + fk.logsumexp(a, -1).sum(),  # the booklet's 別解
}


@pytest.mark.parametrize("target", ["soft", "one_hot"])
@pytest.mark.parametrize("form", list(CE_FORMS))
@pytest.mark.parametrize("mode", MODES)
def test_p10_softmax_cross_entropy(mode, form, target):
    """P10: L = −Σ_k t_k ln y_k with Σ_k t_k = 1: ∂L/∂a_j = y_j − t_j."""
    r = _rng(22)
    a = r.standard_normal(4)
    t = r.dirichlet(np.ones(4)) if target == "soft" else np.eye(4)[2]
    assert np.isclose(t.sum(), 1.0)
    check(lambda a: CE_FORMS[form](a, _t(t)), a, _softmax(a) - t, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p10_softmax_cross_entropy_batched(mode):
    """P10 row by row for a batch (2×4 logits, rows softmaxed): ∂L/∂A = Y − T."""
    r = _rng(23)
    A, T = r.standard_normal((2, 4)), r.dirichlet(np.ones(4), size=2)
    check(lambda A: -(_t(T) * F.log_softmax(A, dim=1)).sum(), A, _softmax(A) - T, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p10_needs_targets_summing_to_one(mode):
    """P10's simplification uses Σ t_k = 1; in general ∂L/∂a_j = (Σ_k t_k) y_j − t_j."""
    r = _rng(24)
    a, t = r.standard_normal(4), r.uniform(0.1, 1.0, 4)  # Σ t ≠ 1
    check(lambda a: -(_t(t) * F.log_softmax(a, dim=-1)).sum(), a, t.sum() * _softmax(a) - t, mode)
    assert not np.allclose(t.sum() * _softmax(a) - t, _softmax(a) - t)


# ================================================================================= P11
RNN_F = {
    # name: (f in fukaku, f in numpy, f' in numpy)
    "tanh": (fk.tanh, np.tanh, lambda p: 1 - np.tanh(p) ** 2),
    "sigmoid": (fk.sigmoid, lambda p: 1 / (1 + np.exp(-p)), dsigmoid),
}


def _rnn_setup(seed: int):
    r = _rng(seed)
    return dict(U=r.standard_normal((3, 2)), W=r.standard_normal((3, 3)), b=r.standard_normal(3),
                x=r.standard_normal(2), x2=r.standard_normal(2), p=r.standard_normal(3), c=r.standard_normal(3))


@pytest.mark.parametrize("fname", list(RNN_F))
@pytest.mark.parametrize("mode", MODES)
def test_p11_rnn_step_backprop_uses_f_prime(mode, fname):
    """P11: h(t−1) = f(p(t−1)), p(t) = Ux(t) + Wh(t−1) + b, e(t) = ∂L/∂p(t):
    ∂L/∂p(t−1) = (e(t)W) ⊙ f'(p(t−1))ᵀ   — with f', per the ERRATUM (the booklet prints f)."""
    s = _rnn_setup(25)
    f, f_np, df_np = RNN_F[fname]
    U, W, b, x, p_prev, c = s["U"], s["W"], s["b"], s["x"], s["p"], s["c"]

    def p_next(p_prev):
        return _t(U) @ _t(x) + _t(W) @ f(p_prev) + _t(b)

    def L(p_prev):  # L(p(t)) = Σ c ⊙ sigmoid(p(t))
        return (_t(c) * fk.sigmoid(p_next(p_prev))).sum()

    p_t = U @ x + W @ f_np(p_prev) + b
    e = c * dsigmoid(p_t)  # e(t) = ∂L/∂p(t), a row vector
    corrected = (e @ W) * df_np(p_prev)
    check(L, p_prev, corrected, mode)
    # the Jacobian ∂p(t)/∂p(t−1) = W diag(f'(p(t−1)))
    check(p_next, p_prev, W @ np.diag(df_np(p_prev)), mode)
    # the formula as printed in the booklet (f instead of f') is wrong
    printed = (e @ W) * f_np(p_prev)
    jac = _np(AF.jacobian(L, _t(p_prev), mode=mode))
    assert not np.allclose(jac, printed, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_p11_two_steps_back(mode):
    """P11 applied twice (truncated BPTT, seed 001): ∂L/∂p(t−2) = (((e(t)W) ⊙ f'(p(t−1))) W) ⊙ f'(p(t−2))."""
    s = _rnn_setup(26)
    U, W, b, x1, x2, p2, c = s["U"], s["W"], s["b"], s["x"], s["x2"], s["p"], s["c"]
    f, f_np, df = RNN_F["tanh"]

    def step(p_prev, x):
        return _t(U) @ _t(x) + _t(W) @ f(p_prev) + _t(b)

    def L(p_tm2):
        return (_t(c) * fk.sigmoid(step(step(p_tm2, x1), x2))).sum()

    p1 = U @ x1 + W @ f_np(p2) + b
    p0 = U @ x2 + W @ f_np(p1) + b
    e0 = c * dsigmoid(p0)
    e1 = (e0 @ W) * df(p1)
    e2 = (e1 @ W) * df(p2)
    check(L, p2, e2, mode)


# ================================================================================= P12
def _regression_data(seed: int, d: int = 3, n: int = 7):
    r = _rng(seed)
    X = r.standard_normal((d, n))  # columns are the samples x_i; rank d
    assert np.linalg.matrix_rank(X) == d
    w_true = r.standard_normal(d)
    y = X.T @ w_true + 0.3 * r.standard_normal(n)
    return X, y, r


def _sq_loss(X, y):
    """L1(w) = ½ Σ_i (y_i − wᵀx_i)²."""
    return lambda w: 0.5 * ((_t(y) - w @ _t(X)) ** 2).sum()


@pytest.mark.parametrize("mode", MODES)
def test_p12_q1_least_squares_gradient(mode):
    """P12 Q1: ∂L1/∂w = −Xy + XXᵀw (column-vector gradient) at any w."""
    X, y, r = _regression_data(27)
    w = r.standard_normal(3)
    check(_sq_loss(X, y), w, -X @ y + X @ X.T @ w, mode)


@pytest.mark.parametrize("mode", MODES)
def test_p12_q1_least_squares_solution_zeroes_the_gradient(mode):
    """P12 Q1: ŵ = (XXᵀ)⁻¹Xy is where the gradient of L1 vanishes (and it is numpy's lstsq)."""
    X, y, _ = _regression_data(28)
    w_hat = np.linalg.inv(X @ X.T) @ X @ y
    np.testing.assert_allclose(w_hat, np.linalg.lstsq(X.T, y, rcond=None)[0], rtol=1e-10)
    check(_sq_loss(X, y), w_hat, np.zeros(3), mode)
    # the same closed form evaluated by fukaku
    Xt, yt = _t(X), _t(y)
    np.testing.assert_allclose(_np(fk.inverse(Xt @ Xt.T) @ Xt @ yt), w_hat, rtol=1e-10)


@pytest.mark.parametrize("mode", MODES)
def test_p12_q2_gaussian_maximum_likelihood_is_least_squares(mode):
    """P12 Q2: y_i = wᵀx_i + ε_i, ε_i ~ N(0, σ²). The log-likelihood
    ℓ(w) = Σ_i log N(y_i; wᵀx_i, σ²) has gradient (1/σ²)(Xy − XXᵀw), zero at the least-squares ŵ."""
    X, y, r = _regression_data(29)
    sigma = 0.7

    def loglik(w):
        resid = _t(y) - w @ _t(X)
        dens = fk.exp(-(resid ** 2) / (2 * sigma ** 2)) / np.sqrt(2 * np.pi * sigma ** 2)
        return fk.log(dens).sum()

    w = r.standard_normal(3)
    check(loglik, w, (X @ y - X @ X.T @ w) / sigma ** 2, mode)
    w_hat = np.linalg.inv(X @ X.T) @ X @ y
    check(loglik, w_hat, np.zeros(3), mode)


def _ridge_loss(X, y, rw, lam):
    """L3(w) = ½ Σ_i r_i (y_i − wᵀx_i)² + (λ/2)‖w‖²."""
    return lambda w: 0.5 * (_t(rw) * (_t(y) - w @ _t(X)) ** 2).sum() + 0.5 * lam * fk.norm(w) ** 2


@pytest.mark.parametrize("mode", MODES)
def test_p12_q3_weighted_ridge(mode):
    """P12 Q3: ∂L3/∂w = −X diag(r)(y − Xᵀw) + λw, which vanishes at
    ŵ = (X diag(r) Xᵀ + λI)⁻¹ X diag(r) y."""
    X, y, r = _regression_data(30)
    rw, lam = r.uniform(0.2, 2.0, y.size), 0.8
    R = np.diag(rw)
    w = r.standard_normal(3)
    check(_ridge_loss(X, y, rw, lam), w, -X @ R @ (y - X.T @ w) + lam * w, mode)
    w_hat = np.linalg.inv(X @ R @ X.T + lam * np.eye(3)) @ X @ R @ y
    check(_ridge_loss(X, y, rw, lam), w_hat, np.zeros(3), mode)


@pytest.mark.parametrize("form", ["log_sigmoid", "softplus"])
@pytest.mark.parametrize("mode", MODES)
def test_p12_q4_q5_logistic_regression_gradient(mode, form):
    """P12 Q4/Q5: p(y=1|x; w) = σ(wᵀx), p(y=0|x; w) = 1 − σ(wᵀx) = σ(−wᵀx); the log-likelihood
    L(w) = Σ_i y_i log p_i + (1 − y_i) log(1 − p_i) has gradient Σ_i (y_i − p_i) x_i."""
    X, _, r = _regression_data(31)
    labels = (r.random(X.shape[1]) < 0.5).astype(np.float64)
    labels[:2] = [0.0, 1.0]
    w = 0.5 * r.standard_normal(3)

    def L(w):
        f = w @ _t(X)
        yt = _t(labels)
        if form == "log_sigmoid":
            s = fk.sigmoid(f)
            return (yt * fk.log(s) + (1 - yt) * fk.log(1 - s)).sum()
        return (-(yt * F.softplus(-f)) - (1 - yt) * F.softplus(f)).sum()

    p = 1 / (1 + np.exp(-(w @ X)))
    check(L, w, X @ (labels - p), mode)  # Σ_i (y_i − p_i) x_i
    # Q4: the y = 0 posterior
    f = _t(w @ X)
    np.testing.assert_allclose(_np(1 - fk.sigmoid(f)), _np(fk.sigmoid(-f)), rtol=1e-12)
    np.testing.assert_allclose(_np(fk.sigmoid(-f)), np.exp(-(w @ X)) / (1 + np.exp(-(w @ X))), rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_p12_sigmoid_derivative(mode):
    """P12: φ'(z) = φ(z)(1 − φ(z)) for the logistic sigmoid φ (elementwise: a diagonal Jacobian)."""
    z = np.linspace(-6.0, 6.0, 7)
    phi = 1 / (1 + np.exp(-z))
    check(fk.sigmoid, z, np.diag(phi * (1 - phi)), mode)
    check(lambda z: fk.sigmoid(z).sum(), z, phi * (1 - phi), mode)


# ================================================================================= second derivatives
# Not printed in the booklet, but they follow by differentiating its first-order answers once more;
# functional.hessian(mode='rev') is reverse-over-reverse, mode='fwd' forward-over-reverse.
@pytest.mark.parametrize("mode", MODES)
def test_p6_4_hessian_of_quadratic_form(mode):
    """P6 (4) differentiated again: ∂²(xᵀAx)/∂x² = A + Aᵀ."""
    r = _rng(40)
    A, x = r.standard_normal((4, 4)), r.standard_normal(4)
    H = AF.hessian(lambda x: x @ (_t(A) @ x), _t(x), mode=mode)
    np.testing.assert_allclose(_np(H), A + A.T, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("mode", MODES)
def test_p12_hessians(mode):
    """P12: the Hessian of L1 is XXᵀ (positive definite: ŵ is the minimum); of the ridge loss
    X diag(r) Xᵀ + λI; of the logistic log-likelihood −X diag(p(1 − p)) Xᵀ (concave)."""
    X, y, r = _regression_data(41)
    w = r.standard_normal(3)
    np.testing.assert_allclose(_np(AF.hessian(_sq_loss(X, y), _t(w), mode=mode)), X @ X.T, rtol=RTOL, atol=ATOL)
    rw, lam = r.uniform(0.2, 2.0, y.size), 0.8
    np.testing.assert_allclose(_np(AF.hessian(_ridge_loss(X, y, rw, lam), _t(w), mode=mode)),
                               X @ np.diag(rw) @ X.T + lam * np.eye(3), rtol=RTOL, atol=ATOL)
    labels = (r.random(X.shape[1]) < 0.5).astype(np.float64)

    def L(w):
        s = fk.sigmoid(w @ _t(X))
        return (_t(labels) * fk.log(s) + (1 - _t(labels)) * fk.log(1 - s)).sum()

    p = 1 / (1 + np.exp(-(w @ X)))
    np.testing.assert_allclose(_np(AF.hessian(L, _t(w), mode=mode)), -X @ np.diag(p * (1 - p)) @ X.T,
                               rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("mode", MODES)
def test_p10_hessian_of_cross_entropy_is_softmax_jacobian(mode):
    """P10 differentiated again: ∂²L/∂a² = ∂y/∂a = diag(y) − yyᵀ (independent of t)."""
    r = _rng(42)
    a, t = r.standard_normal(4), r.dirichlet(np.ones(4))
    y = _softmax(a)
    H = AF.hessian(lambda a: -(_t(t) * F.log_softmax(a, dim=-1)).sum(), _t(a), mode=mode)
    np.testing.assert_allclose(_np(H), np.diag(y) - np.outer(y, y), rtol=RTOL, atol=ATOL)
