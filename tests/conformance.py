"""Conformance harness: run one op in fukaku and in PyTorch on the same NumPy inputs and compare.

``check(fk_fn, torch_fn, inputs, dtype)`` compares, in order:

1. the forward outputs: values, shapes and dtypes (a tuple output such as ``max(x, dim)`` item by
   item, integer and bool outputs exactly);
2. reverse mode: ``backward`` with one random upstream gradient ``u`` per floating output, then every
   floating input's ``.grad`` (``None`` counts as zeros);
3. forward mode: ``fukaku.autograd.functional.jvp`` against ``torch.func.jvp`` with random tangents;
4. second order, reverse over reverse: with ``g = uᵀ∂f/∂x`` built with ``create_graph=True``, the
   gradient of ``Σ w·g`` with respect to every floating input *and* to ``u`` (so that a linear op,
   whose second derivative is zero, still shows that its vjp is differentiable);
5. second order, forward over reverse: the tangent of ``vjp(x + εw, u + εdu)`` in fukaku (``jvp`` of
   a ``vjp`` that keeps its graph) against ``H·w + duᵀ∂f/∂x`` from torch's reverse mode (``H·w`` is
   step 4's result; the Hessian of ``uᵀf`` is symmetric wherever ``f`` is twice differentiable).

Floating NumPy arrays are cast to ``dtype`` and are the inputs differentiated; other inputs (integer
or bool arrays, Python numbers, None) reach both functions as they are, arrays as tensors. Arguments
that must not be differentiated at all (index tensors, masks, sizes) belong in the closures.
Tolerances: see :func:`assert_close`.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.autograd import functional as fk_functional

FLOATS = [np.float32, np.float64]
TOL = {
    np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5),
    np.dtype(np.float64): dict(rtol=1e-7, atol=1e-10),
}
# a second derivative chains two rounded passes: it gets ten times the first-order tolerance
SECOND_ORDER_SLACK = 10


# ----------------------------------------------------------------------------- inputs
def _shape(shape: tuple) -> tuple:
    """``f(2, 3)`` and ``f((2, 3))`` name the same shape, as in ``torch.randn``."""
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def randn(*shape, dtype=np.float64, seed: int | np.random.Generator = 0) -> np.ndarray:
    """Standard normal samples of ``shape`` (ints or one tuple), the same for the same ``seed``
    (a Generator is drawn from)."""
    return np.asarray(np.random.default_rng(seed).standard_normal(_shape(shape)), dtype=dtype)


def uniform(lo: float, hi: float, *shape, dtype=np.float64, seed: int = 0) -> np.ndarray:
    """Samples uniform on ``[lo, hi)`` of ``shape`` (ints or one tuple)."""
    return np.asarray(np.random.default_rng(seed).uniform(lo, hi, _shape(shape)), dtype=dtype)


def well_conditioned(*shape, dtype=np.float64, seed: int = 0) -> np.ndarray:
    """``randn + n·I`` over the last two dims of ``shape = (..., n, n)``: invertible, far from singular."""
    shape = _shape(shape)
    return np.asarray(randn(*shape, seed=seed) + shape[-1] * np.eye(shape[-1]), dtype=dtype)


def away_from(x: np.ndarray, points=(0.0,), gap: float = 0.05) -> np.ndarray:
    """Nudge values within ``gap`` of a kink so finite precision cannot straddle it."""
    x = np.array(x, copy=True)
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x


# ----------------------------------------------------------------------------- comparing
def torch_dtype_to_numpy(dt: torch.dtype) -> np.dtype:
    return torch.empty((), dtype=dt).numpy().dtype


TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def layer_twins(layer: str, args, kw, dtype):
    """The layer ``layer`` built alike in torch and in fukaku (``nn.<layer>(*args, **kw)``), torch's state dict
    (its random initialisation) loaded into ours, strictly: (ours, theirs)."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, layer)(*args, **kw).to(TORCH_DTYPE[np.dtype(dtype)])
    ours = getattr(fk.nn, layer)(*args, **kw).to(dtype)
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()}, strict=True)
    return ours, theirs


def tolerance(dtype, rtol: float | None = None, atol: float | None = None) -> tuple[float, float]:
    """``(rtol, atol)``: the given ones, else :data:`TOL` for ``dtype`` (float32's for other dtypes)."""
    tol = TOL.get(np.dtype(dtype), TOL[np.dtype(np.float32)])
    return (tol["rtol"] if rtol is None else rtol), (tol["atol"] if atol is None else atol)


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return np.asarray(t.detach().data.numpy() if isinstance(t, fk.Tensor) else t)


def assert_close(got, want, dtype=None, what: str = "", *, rtol: float | None = None, atol: float | None = None,
                 check_dtype: bool = True) -> None:
    """``got`` (a fukaku tensor or an array) against ``want`` (a torch tensor or an array).

    Shapes must match, and dtypes too where both are tensors (unless ``check_dtype=False``). Integer
    and bool values must be equal. Floating values must satisfy
    ``|got − want| ≤ rtol·|want| + atol·scale`` with ``scale = max(1, largest finite |want|)``: the
    rounding error of a sum or product grows with its operands, so a tensor's large entries set the
    absolute error its small entries may carry. inf and nan must sit at the same places.
    ``rtol``/``atol`` default to :data:`TOL` for ``dtype`` (``want``'s dtype when None).
    """
    g, w = _np(got), _np(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != torch's {w.shape}"
    if check_dtype and isinstance(got, fk.Tensor) and isinstance(want, torch.Tensor):
        assert got.dtype == torch_dtype_to_numpy(want.dtype), f"{what}: dtype {got.dtype} != torch's {want.dtype}"
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w, err_msg=what)
        return
    rtol, atol = tolerance(w.dtype if dtype is None else dtype, rtol, atol)
    finite = np.isfinite(w)
    scale = max(1.0, float(np.abs(w[finite]).max())) if finite.any() else 1.0
    np.testing.assert_allclose(g.astype(np.float64), w.astype(np.float64), rtol=rtol, atol=atol * scale,
                               equal_nan=True, err_msg=what)


def shape_error_raised(fn: Callable[[], object], op: str, *shapes) -> None:
    """``fn()`` must raise fukaku.ShapeError (a ValueError) naming ``op`` and each of ``shapes``."""
    with pytest.raises(fk.ShapeError) as info:
        fn()
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert op in msg, f"message {msg!r} does not name the op {op!r}"
    for s in shapes:
        assert str(tuple(s)) in msg, f"message {msg!r} does not name the shape {tuple(s)}"


# ----------------------------------------------------------------------------- the harness
def _as_list(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def _is_float_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


class _Case:
    """One op on fixed inputs, in either library, differentiated with respect to its floating arrays."""

    def __init__(self, fk_fn: Callable, torch_fn: Callable, inputs, dtype) -> None:
        self.fns = {fk: fk_fn, torch: torch_fn}
        self.inputs = [self._cast(x, dtype) for x in inputs]
        self.float_pos = [i for i, x in enumerate(self.inputs) if _is_float_array(x)]
        self.float_arrays = [self.inputs[i] for i in self.float_pos]
        self.float_out: list[int] = []  # the floating outputs, known after the forward pass

    @staticmethod
    def _cast(x, dtype):
        if isinstance(x, np.generic):
            x = np.asarray(x)
        return x.astype(dtype) if _is_float_array(x) and dtype is not None else x

    def floats(self, lib, requires_grad: bool = False) -> list:
        """Fresh tensors of ``lib`` holding the floating inputs."""
        return [lib.tensor(x.copy()).requires_grad_(requires_grad) for x in self.float_arrays]

    def call(self, lib, floats):
        """The op on ``floats`` in the floating positions and the other inputs as they are."""
        args = [lib.tensor(x.copy()) if isinstance(x, np.ndarray) else x for x in self.inputs]
        for i, x in zip(self.float_pos, floats, strict=True):
            args[i] = x
        return _as_list(self.fns[lib](*args))

    def of_floats(self, lib) -> Callable:
        """The op as a function of the floating inputs alone, returning its floating outputs."""
        def f(*floats):
            outs = self.call(lib, floats)
            return tuple(outs[i] for i in self.float_out)
        return f

    def vjp_of_floats(self) -> Callable:
        """fukaku's ``(x…, u…) ↦ uᵀ∂f/∂x`` for the floating inputs ``x``, differentiable in both.

        ``u`` enters as the cotangents of the engine (grad_outputs), never through fukaku's own ``Mul``
        and ``sum``: the harness must not lean on the ops it tests."""
        n, f = len(self.float_pos), self.of_floats(fk)

        def vjp(*args):
            return fk_functional.vjp(f, tuple(args[:n]), v=tuple(args[n:]), create_graph=True)[1]
        return vjp


def _zeros_for_none(lib, grads, like) -> list:
    return [lib.zeros_like(x) if g is None else g for g, x in zip(grads, like, strict=True)]


def check(fk_fn: Callable, torch_fn: Callable, inputs, dtype=None, *, rtol: float | None = None,
          atol: float | None = None, backward: bool = True, jvp: bool = True, second: bool = True,
          second_wrt_upstream: bool = True, fwd_over_rev: bool = True, check_dtype: bool = True,
          seed: int = 0) -> None:
    """Compare ``fk_fn(*inputs)`` with ``torch_fn(*inputs)``: forward, vjp, jvp, second order.

    Args:
        fk_fn, torch_fn: the op in each library, called with one argument per input.
        inputs: NumPy arrays, Python numbers or None (see the module docstring).
        dtype: cast every floating input array to it (None keeps their dtypes).
        rtol, atol: tolerances (default: :data:`TOL` for ``dtype``, or for the first floating input's).
        backward, jvp, second, fwd_over_rev: turn off the steps an op (or torch) lacks; ``second``
            and ``fwd_over_rev`` need ``backward``.
        second_wrt_upstream: off leaves out step 4's derivatives with respect to ``u``, for a
            singular point where torch's convention and fukaku's differ.
        check_dtype: compare output dtypes as well as values.
        seed: of the random upstream gradients and tangents.
    """
    case = _Case(fk_fn, torch_fn, inputs, dtype)
    if dtype is None:
        dtype = case.inputs[case.float_pos[0]].dtype if case.float_pos else np.float32
    rtol, atol = tolerance(dtype, rtol, atol)

    def close(got, want, what: str, slack: float = 1) -> None:
        assert_close(got, want, what=what, rtol=rtol * slack, atol=atol * slack, check_dtype=check_dtype)

    rng = np.random.default_rng(seed)
    backward = backward and bool(case.float_pos)

    # 1. forward (on leaves that require grad, to be reused by the backward pass) -----------------
    fk_leaves, th_leaves = case.floats(fk, backward), case.floats(torch, backward)
    fo, to = case.call(fk, fk_leaves), case.call(torch, th_leaves)
    assert len(fo) == len(to), f"forward: {len(fo)} outputs != torch's {len(to)}"
    for i, (a, b) in enumerate(zip(fo, to, strict=True)):
        assert isinstance(a, fk.Tensor), f"forward[{i}]: fukaku returned {type(a).__name__}, not a Tensor"
        close(a, b, f"forward[{i}]")
    case.float_out = [i for i, o in enumerate(to) if o.is_floating_point()]
    if not case.float_pos or not case.float_out:
        return
    ups = [randn(to[i].shape, dtype=torch_dtype_to_numpy(to[i].dtype), seed=rng) for i in case.float_out]
    tangents = [randn(x.shape, dtype=x.dtype, seed=rng) for x in case.float_arrays]

    # 2. reverse mode ---------------------------------------------------------------------------
    if backward:
        fk_req, th_req = ([o[i].requires_grad for i in case.float_out] for o in (fo, to))
        assert fk_req == th_req, f"backward: outputs {case.float_out} require grad {fk_req}, torch's {th_req}"
        f_pairs = [(fo[i], fk.tensor(u)) for i, u in zip(case.float_out, ups, strict=True) if fo[i].requires_grad]
        t_pairs = [(to[i], torch.tensor(u)) for i, u in zip(case.float_out, ups, strict=True) if to[i].requires_grad]
        if t_pairs:
            fk.autograd.backward(*map(list, zip(*f_pairs, strict=True)))
            # torch's graph is kept for the reference of step 5
            torch.autograd.backward(*map(list, zip(*t_pairs, strict=True)), retain_graph=True)
        grads = zip(_zeros_for_none(fk, [x.grad for x in fk_leaves], fk_leaves),
                    _zeros_for_none(torch, [x.grad for x in th_leaves], th_leaves), strict=True)
        for k, (a, b) in enumerate(grads):
            close(a, b, f"backward: grad of input {case.float_pos[k]}")

    # 3. forward mode ---------------------------------------------------------------------------
    if jvp:
        fk_primal, fk_tangent = fk_functional.jvp(case.of_floats(fk), tuple(case.floats(fk)),
                                                  tuple(fk.tensor(v) for v in tangents))
        th_primal, th_tangent = torch.func.jvp(case.of_floats(torch), tuple(case.floats(torch)),
                                               tuple(torch.tensor(v) for v in tangents))
        for k, (a, b) in enumerate(zip(fk_primal, th_primal, strict=True)):
            close(a, b, f"jvp: primal of output {case.float_out[k]}")
        # torch's tangent may differ in dtype from its primal (a 0-d float32 plus a Python float has a
        # float64 tangent): fukaku's is held to its own primal's dtype
        for k, (p, a, b) in enumerate(zip(fk_primal, fk_tangent, th_tangent, strict=True)):
            assert a.dtype == p.dtype, f"jvp: tangent of output {case.float_out[k]} is {a.dtype}, its primal {p.dtype}"
            assert_close(a, b, what=f"jvp: tangent of output {case.float_out[k]}", rtol=rtol, atol=atol,
                         check_dtype=False)

    if not (second and backward):
        return
    ws = [randn(x.shape, dtype=x.dtype, seed=rng) for x in case.float_arrays]
    dups = [randn(u.shape, dtype=u.dtype, seed=rng) for u in ups]
    n = len(case.float_pos)

    # 4. second order, reverse over reverse: d/d(x, u) Σ w · uᵀ∂f/∂x -----------------------------
    fk_rr, th_rr = (_reverse_over_reverse(case, lib, ups, ws) for lib in (fk, torch))
    names = [f"input {i}" for i in case.float_pos] + [f"the upstream gradient of output {i}" for i in case.float_out]
    for name, a, b in list(zip(names, fk_rr, th_rr, strict=True))[:None if second_wrt_upstream else n]:
        close(a, b, f"second order (reverse over reverse) w.r.t. {name}", SECOND_ORDER_SLACK)

    # 5. second order, forward over reverse: the tangent of uᵀ∂f/∂x along (w, du) ----------------
    if fwd_over_rev:
        primals, directions = [*case.float_arrays, *ups], [*ws, *dups]
        # the contraction is ∞·0 = nan where outputs hold ±inf; its derivatives are finite
        with np.errstate(invalid="ignore"):
            _, fk_fr = fk_functional.jvp(case.vjp_of_floats(), tuple(fk.tensor(p.copy()) for p in primals),
                                         tuple(fk.tensor(d) for d in directions))
        # the reference from torch's reverse mode alone (it lacks forward-over-reverse for some ops):
        # H·w, the x-part of step 4 (the Hessian of uᵀf being symmetric), plus duᵀ∂f/∂x
        th_du = _vjp(torch, [to[i] for i in case.float_out], th_leaves, [torch.tensor(d) for d in dups])
        for k, (a, hw, jdu) in enumerate(zip(fk_fr, th_rr[:n], th_du, strict=True)):
            close(a, hw + jdu, f"second order (forward over reverse) of input {case.float_pos[k]}",
                  SECOND_ORDER_SLACK)


def check_random(fk_fn: Callable, torch_fn: Callable, shapes, dtype, seed: int = 0, second: bool = False,
                 **kw) -> None:
    """:func:`check` on standard-normal inputs of ``shapes`` (input i seeded ``seed + i``); second
    order off by default, for suites whose method forms repeat function forms that take it."""
    arrays = [randn(s, dtype=dtype, seed=seed + i) for i, s in enumerate(shapes)]
    check(fk_fn, torch_fn, arrays, dtype, second=second, **kw)


def _vjp(lib, outs: list, xs: list, cotangents: list, create_graph: bool = False) -> list:
    """``uᵀ∂f/∂x`` for the floating outputs ``outs`` computed from the leaves ``xs`` and their
    cotangents ``u`` (zeros where nothing depends on an ``x``)."""
    pairs = [(o, u) for o, u in zip(outs, cotangents, strict=True) if o.requires_grad]
    grads = [None] * len(xs)
    if pairs:
        grads = lib.autograd.grad([o for o, _ in pairs], xs, [u for _, u in pairs], create_graph=create_graph,
                                  allow_unused=True)
    return _zeros_for_none(lib, grads, xs)


def _reverse_over_reverse(case: _Case, lib, ups: list, ws: list) -> list:
    """The gradient of ``Σ w · uᵀ∂f/∂x`` with respect to the floating inputs ``x``, then to ``u``.

    ``w`` enters as the cotangents of the second pass, so the contraction needs neither library's
    multiplication nor sum (fukaku's would otherwise check itself when the op under test is ``mul``)."""
    xs = case.floats(lib, requires_grad=True)
    us = [lib.tensor(u.copy()).requires_grad_(True) for u in ups]
    g = _vjp(lib, case.of_floats(lib)(*xs), xs, us, create_graph=True)
    pairs = [(gi, lib.tensor(w)) for gi, w in zip(g, ws, strict=True) if gi.requires_grad]
    grads = [None] * len(xs + us)
    if pairs:
        grads = lib.autograd.grad([gi for gi, _ in pairs], xs + us, [w for _, w in pairs], allow_unused=True)
    return _zeros_for_none(lib, grads, xs + us)
