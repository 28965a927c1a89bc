"""Conformance harness: run one op in fukaku and in PyTorch and compare everything.

``check(fk_fn, torch_fn, arrays, dtype)`` feeds the same NumPy arrays to both frameworks and
compares, in order:

1. forward values, shapes and dtypes (tuples of outputs allowed);
2. reverse mode: ``.grad`` of every input after ``backward`` with a random upstream gradient;
3. forward mode: ``fukaku.autograd.functional.jvp`` against ``torch.func.jvp``;
4. second order (``second=True``): with ``g = vjp(x, u)`` built with ``create_graph=True``,
   the gradient of ``sum(g · v)`` with respect to every input *and* the upstream ``u``
   (so linear ops still check that their vjp is differentiable), and the same quantity by
   forward-over-reverse (``jvp`` of a ``vjp`` with ``create_graph=True``).

Non-differentiable arguments (index tensors, masks, sizes) are captured in the closures.
"""
from __future__ import annotations

import numpy as np
import torch

import fukaku
from fukaku.autograd import functional as F

RTOL = {np.dtype(np.float32): 1e-4, np.dtype(np.float64): 1e-7}
DTYPES = [np.float32, np.float64]
DTYPE_IDS = ["f32", "f64"]
_TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def randn(shape, dtype, seed: int = 0) -> np.ndarray:
    return rng(seed).standard_normal(shape).astype(dtype)


def well_conditioned(shape, dtype, seed: int = 0) -> np.ndarray:
    """``randn + n·I`` over the last two dims (shape ``(..., n, n)``)."""
    n = shape[-1]
    a = rng(seed).standard_normal(shape) + n * np.eye(n)
    return a.astype(dtype)


def _as_tuple(x):
    return (tuple(x), False) if isinstance(x, (tuple, list)) else ((x,), True)


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy()
    return np.asarray(t.data)


def assert_close(got, want, dtype, what: str = "", rtol: float | None = None) -> None:
    """Values, shape and dtype of a fukaku tensor against a torch tensor (or arrays)."""
    g, w = _np(got), _np(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != torch {w.shape}"
    if isinstance(want, torch.Tensor) and not isinstance(got, np.ndarray):
        assert str(g.dtype) == str(want.dtype).replace("torch.", ""), f"{what}: dtype {g.dtype} != torch {want.dtype}"
    rtol = RTOL[np.dtype(dtype)] if rtol is None else rtol
    finite = np.isfinite(w)
    assert np.array_equal(g[~finite], w[~finite], equal_nan=True), f"{what}: inf/nan entries differ"
    scale = max(1.0, float(np.abs(w[finite]).max())) if finite.any() else 1.0
    np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * scale, err_msg=what)


def _fk_leaves(arrays):
    return [fukaku.tensor(a.copy(), requires_grad=True) for a in arrays]


def _th_leaves(arrays):
    return [torch.from_numpy(a.copy()).requires_grad_(True) for a in arrays]


def _zeros_if_none(gs, like):
    return [g if g is not None else torch.zeros_like(x) for g, x in zip(gs, like)]


def check(fk_fn, torch_fn, arrays, dtype, *, grad: bool = True, jvp: bool = True, second: bool = False,
          rtol: float | None = None, seed: int = 1) -> None:
    arrays = [np.asarray(a, dtype=dtype) for a in arrays]
    r = rng(seed)

    # 1. forward
    fk_out, single = _as_tuple(fk_fn(*[fukaku.tensor(a.copy()) for a in arrays]))
    th_out, _ = _as_tuple(torch_fn(*[torch.from_numpy(a.copy()) for a in arrays]))
    assert len(fk_out) == len(th_out), f"{len(fk_out)} outputs != torch {len(th_out)}"
    for i, (a, b) in enumerate(zip(fk_out, th_out)):
        assert_close(a, b, dtype, f"forward output {i}", rtol)
    ups = [r.standard_normal(tuple(o.shape)).astype(dtype) for o in th_out]

    # 2. reverse mode
    if grad:
        xs = _fk_leaves(arrays)
        outs, _ = _as_tuple(fk_fn(*xs))
        fukaku.autograd.backward(outs, [fukaku.tensor(u) for u in ups])
        ts = _th_leaves(arrays)
        touts, _ = _as_tuple(torch_fn(*ts))
        torch.autograd.backward(touts, [torch.from_numpy(u) for u in ups])
        for i, (x, t) in enumerate(zip(xs, ts)):
            want = t.grad if t.grad is not None else torch.zeros_like(t)
            assert x.grad is not None or not want.any(), f"input {i} got no gradient"
            got = x.grad if x.grad is not None else fukaku.zeros_like(x)
            assert_close(got, want, dtype, f"grad of input {i}", rtol)

    # 3. forward mode
    tangents = [r.standard_normal(a.shape).astype(dtype) for a in arrays]
    if jvp:
        p_fk, t_fk = F.jvp(fk_fn, tuple(fukaku.tensor(a.copy()) for a in arrays),
                           tuple(fukaku.tensor(v) for v in tangents))
        p_th, t_th = torch.func.jvp(torch_fn, tuple(torch.from_numpy(a.copy()) for a in arrays),
                                    tuple(torch.from_numpy(v) for v in tangents))
        for i, (a, b) in enumerate(zip(_as_tuple(p_fk)[0], _as_tuple(p_th)[0])):
            assert_close(a, b, dtype, f"jvp primal {i}", rtol)
        for i, (a, b) in enumerate(zip(_as_tuple(t_fk)[0], _as_tuple(t_th)[0])):
            assert_close(a, b, dtype, f"jvp tangent {i}", rtol)

    # 4. second order, w.r.t. inputs and the upstream gradient
    if second:
        n = len(arrays)
        dups = [r.standard_normal(u.shape).astype(dtype) for u in ups]

        def th_grads(*args):
            xs_, us_ = args[:n], args[n:]
            outs_, _ = _as_tuple(torch_fn(*xs_))
            gs = torch.autograd.grad(outs_, xs_, us_, create_graph=True, allow_unused=True)
            return _zeros_if_none(gs, xs_)

        ts = _th_leaves(arrays) + _th_leaves(ups)
        gs = th_grads(*ts)
        s = sum((g * torch.from_numpy(v)).sum() for g, v in zip(gs, tangents))
        want = _zeros_if_none(torch.autograd.grad(s, ts, allow_unused=True), ts) if s.requires_grad else \
            [torch.zeros_like(t) for t in ts]

        xs = _fk_leaves(arrays) + _fk_leaves(ups)
        outs, _ = _as_tuple(fk_fn(*xs[:n]))
        g1 = fukaku.autograd.grad(outs, xs[:n], xs[n:], create_graph=True, allow_unused=True)
        g1 = [g if g is not None else fukaku.zeros_like(x) for g, x in zip(g1, xs[:n])]
        s = None
        for g, v in zip(g1, tangents):
            term = (g * fukaku.tensor(v)).sum()
            s = term if s is None else s + term
        if s.requires_grad:
            got = fukaku.autograd.grad(s, xs, allow_unused=True)
            got = [g if g is not None else fukaku.zeros_like(x) for g, x in zip(got, xs)]
        else:
            got = [fukaku.zeros_like(x) for x in xs]
        for i, (a, b) in enumerate(zip(got, want)):
            assert_close(a, b, dtype, f"second derivative (reverse-over-reverse) w.r.t. argument {i}", rtol)

        # forward-over-reverse: d/dε vjp(x + εv, u + εdu); compare with torch's jvp of its vjp
        def fk_vjp(*args):
            # the upstream gradient enters through a product (not as grad_outputs): the engine drops
            # the tangent of a grad_output that does not require grad (see the report on engine.py)
            us_ = args[n:]

            def scalar(*xs_):
                outs_, _ = _as_tuple(fk_fn(*xs_))
                total = None
                for o, u in zip(outs_, us_):
                    term = (o * u).sum()
                    total = term if total is None else total + term
                return total

            _, gs_ = F.vjp(scalar, tuple(args[:n]), create_graph=True)
            return gs_

        def th_vjp(*args):
            _, pull = torch.func.vjp(torch_fn, *args[:n])
            gs_ = pull(tuple(args[n:]) if not single else args[n])
            return gs_[0] if n == 1 else tuple(gs_)

        prim = [*arrays, *ups]
        tang = [*tangents, *dups]
        with np.errstate(invalid="ignore"):  # the scalar is nan where outputs hold ±inf; its derivatives are not
            _, t_fk = F.jvp(fk_vjp, tuple(fukaku.tensor(a.copy()) for a in prim), tuple(fukaku.tensor(v) for v in tang))
        _, t_th = torch.func.jvp(th_vjp, tuple(torch.from_numpy(a.copy()) for a in prim),
                                 tuple(torch.from_numpy(v) for v in tang))
        for i, (a, b) in enumerate(zip(_as_tuple(t_fk)[0], _as_tuple(t_th)[0])):
            assert_close(a, b, dtype, f"second derivative (forward-over-reverse) of input {i}", rtol)


def shape_error_raised(fn, op: str, *shapes) -> None:
    """``fn()`` must raise fukaku.ShapeError naming ``op`` and each of ``shapes``."""
    import pytest

    with pytest.raises(fukaku.ShapeError) as info:
        fn()
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert op in msg, f"message {msg!r} does not name the op {op!r}"
    for s in shapes:
        assert str(tuple(s)) in msg, f"message {msg!r} does not name the shape {tuple(s)}"
