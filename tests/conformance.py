"""Conformance helper: run one op in fukaku and in PyTorch on the same NumPy inputs and compare.

``check(fk_fn, torch_fn, inputs, dtype)`` compares, in order:

1. the forward outputs (values, shapes and dtypes; a tuple output such as ``max(x, dim)`` is
   compared item by item, integer and bool outputs exactly);
2. reverse mode: ``backward`` with one random upstream gradient per floating output, then every
   floating input's ``.grad`` (``None`` counts as zeros);
3. forward mode: ``fukaku.autograd.functional.jvp`` against ``torch.func.jvp`` with random tangents;
4. second derivatives: ``grad(outputs, inputs, v, create_graph=True)``, then the gradient of
   ``Σ w·grad`` with respect to the inputs again (a Hessian-vector-like product), in both frameworks;
5. the same product by forward-over-reverse in fukaku (tangents w pushed through the backward
   pass on dual tensors), against torch's reverse-over-reverse result.

Floating NumPy arrays become leaves that require grad; other inputs (integer or bool arrays, Python
numbers, None) are passed to both functions as they are (arrays as tensors, numbers as numbers).
"""
from __future__ import annotations

import numpy as np
import torch

import fukaku as fk
from fukaku.autograd.functional import jvp as fk_jvp

TOL = {
    np.dtype(np.float32): dict(rtol=1e-4, atol=1e-5),
    np.dtype(np.float64): dict(rtol=1e-7, atol=1e-10),
}
FLOATS = [np.float32, np.float64]


def torch_dtype_to_numpy(dt: torch.dtype) -> np.dtype:
    return torch.empty((), dtype=dt).numpy().dtype


def _as_list(out) -> list:
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _is_float_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def _prepare(inputs, dtype):
    out = []
    for x in inputs:
        if isinstance(x, np.generic):
            x = np.asarray(x)
        if isinstance(x, np.ndarray) and x.dtype.kind == "f" and dtype is not None:
            x = x.astype(dtype)
        out.append(x)
    return out


def _lib_args(lib, inputs, requires_grad: bool):
    """Tensors of ``lib`` (fukaku or torch) from the NumPy inputs; float ones become leaves."""
    args, leaves = [], []
    for x in inputs:
        if isinstance(x, np.ndarray):
            t = lib.tensor(x.copy())
            if requires_grad and x.dtype.kind == "f":
                t.requires_grad_(True)
                leaves.append(t)
            args.append(t)
        else:
            args.append(x)
    return args, leaves


def _fk_args(inputs, requires_grad: bool):
    return _lib_args(fk, inputs, requires_grad)


def _torch_args(inputs, requires_grad: bool):
    return _lib_args(torch, inputs, requires_grad)


def _np(t) -> np.ndarray:
    if isinstance(t, torch.Tensor):
        return t.detach().numpy(force=True)
    return np.asarray(t.detach().data if isinstance(t, fk.Tensor) else t)


def assert_close(got, want, rtol, atol, what: str) -> None:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != torch's {want.shape}"
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(got, want, err_msg=what)
    else:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol, atol=atol,
                                   equal_nan=True, err_msg=what)


def compare_outputs(fk_outs, t_outs, rtol, atol, what: str = "forward", check_dtype: bool = True) -> None:
    assert len(fk_outs) == len(t_outs), f"{what}: {len(fk_outs)} outputs != torch's {len(t_outs)}"
    for i, (a, b) in enumerate(zip(fk_outs, t_outs)):
        assert isinstance(a, fk.Tensor), f"{what}[{i}]: fukaku returned {type(a).__name__}, not a Tensor"
        if check_dtype:
            assert a.dtype == torch_dtype_to_numpy(b.dtype), f"{what}[{i}]: dtype {a.dtype} != torch's {b.dtype}"
        assert_close(_np(a), _np(b), rtol, atol, f"{what}[{i}]")


def _grads_or_zeros(grads, leaves):
    return [np.zeros(tuple(x.shape)) if g is None else _np(g) for g, x in zip(grads, leaves)]


def check(fk_fn, torch_fn, inputs, dtype=None, rtol=None, atol=None, *, backward: bool = True,
          jvp: bool = True, second: bool = True, fwd_over_rev: bool = True, check_dtype: bool = True,
          seed: int = 0) -> None:
    """Compare ``fk_fn(*fukaku_inputs)`` with ``torch_fn(*torch_inputs)``: forward, vjp, jvp, 2nd order.

    ``dtype`` casts every floating input array (None keeps them). ``rtol``/``atol`` default to
    :data:`TOL` for that dtype. Turn off ``backward``/``jvp``/``second`` for ops that lack them.
    """
    inputs = _prepare(inputs, dtype)
    fdt = np.dtype(dtype) if dtype is not None else next(
        (x.dtype for x in inputs if _is_float_array(x)), np.dtype(np.float32))
    tol = TOL.get(fdt, TOL[np.dtype(np.float32)])
    rtol = tol["rtol"] if rtol is None else rtol
    atol = tol["atol"] if atol is None else atol
    rng = np.random.default_rng(seed)
    has_float = any(_is_float_array(x) for x in inputs)

    # 1. forward ------------------------------------------------------------------------------
    fa, fl = _fk_args(inputs, requires_grad=has_float and backward)
    ta, tl = _torch_args(inputs, requires_grad=has_float and backward)
    fo, to = _as_list(fk_fn(*fa)), _as_list(torch_fn(*ta))
    compare_outputs(fo, to, rtol, atol, "forward", check_dtype)
    if not has_float:
        return
    float_idx = [i for i, o in enumerate(to) if o.is_floating_point()]

    # 2. reverse mode ---------------------------------------------------------------------------
    ups = [np.asarray(rng.standard_normal(tuple(to[i].shape)), dtype=torch_dtype_to_numpy(to[i].dtype)) for i in float_idx]
    if backward and float_idx:
        t_pairs = [(to[i], torch.tensor(u)) for i, u in zip(float_idx, ups) if to[i].requires_grad]
        if t_pairs:
            torch.autograd.backward([p[0] for p in t_pairs], [p[1] for p in t_pairs])
        f_pairs = [(fo[i], fk.tensor(u)) for i, u in zip(float_idx, ups) if fo[i].requires_grad]
        assert len(f_pairs) == len(t_pairs), "backward: outputs that require grad differ from torch's"
        if f_pairs:
            fk.autograd.backward([p[0] for p in f_pairs], [p[1] for p in f_pairs])
        for k, (a, b) in enumerate(zip(fl, tl)):
            ga = np.zeros(tuple(a.shape)) if a.grad is None else _np(a.grad)
            gb = np.zeros(tuple(b.shape)) if b.grad is None else _np(b.grad)
            if a.grad is not None and b.grad is not None and check_dtype:
                assert a.grad.dtype == torch_dtype_to_numpy(b.grad.dtype), f"grad[{k}] dtype {a.grad.dtype}"
            assert_close(ga, gb, rtol, atol, f"backward: grad of float input {k}")

    # 3. forward mode ---------------------------------------------------------------------------
    float_pos = [i for i, x in enumerate(inputs) if _is_float_array(x)]
    if jvp and float_idx:
        tangents = [np.asarray(rng.standard_normal(inputs[i].shape), dtype=inputs[i].dtype) for i in float_pos]

        def wrap(fn, make):
            def f(*xs):
                args = [make(x) if isinstance(x, np.ndarray) else x for x in inputs]
                for i, x in zip(float_pos, xs):
                    args[i] = x
                outs = _as_list(fn(*args))
                return tuple(outs[i] for i in float_idx)
            return f

        fp = tuple(fk.tensor(inputs[i].copy()) for i in float_pos)
        tp = tuple(torch.tensor(inputs[i].copy()) for i in float_pos)
        _, f_tan = fk_jvp(wrap(fk_fn, fk.tensor), fp, tuple(fk.tensor(v) for v in tangents))
        _, t_tan = torch.func.jvp(wrap(torch_fn, torch.tensor), tp, tuple(torch.tensor(v) for v in tangents))
        for k, (a, b) in enumerate(zip(_as_list(f_tan), _as_list(t_tan))):
            assert_close(_np(a), _np(b), rtol, atol, f"jvp: tangent of output {float_idx[k]}")

    # 4. second order: d/dx Σ w · (vᵀ ∂f/∂x) -----------------------------------------------------
    if second and backward and float_idx:
        ws = [np.asarray(rng.standard_normal(inputs[i].shape), dtype=inputs[i].dtype) for i in float_pos]
        results = []
        for lib, make_args, T in ((fk, _fk_args, fk.tensor), (torch, _torch_args, torch.tensor)):
            args, leaves = make_args(inputs, requires_grad=True)
            outs = _as_list((fk_fn if lib is fk else torch_fn)(*args))
            pairs = [(outs[i], T(u)) for i, u in zip(float_idx, ups) if outs[i].requires_grad]
            if not pairs:
                results.append([np.zeros(x.shape) for x in leaves])
                continue
            g1 = lib.autograd.grad([p[0] for p in pairs], leaves, [p[1] for p in pairs],
                                   create_graph=True, allow_unused=True)
            terms = [(g * T(w)).sum() for g, w in zip(g1, ws) if g is not None and g.requires_grad]
            if not terms:
                results.append([np.zeros(x.shape) for x in leaves])
                continue
            s = terms[0]
            for t in terms[1:]:
                s = s + t
            g2 = lib.autograd.grad([s], leaves, allow_unused=True)
            results.append(_grads_or_zeros(g2, leaves))
        for k, (a, b) in enumerate(zip(*results)):
            assert_close(a, b, rtol * 10, atol * 10, f"second order: input {k}")

        # 5. forward-over-reverse: the tangent of vᵀ∂f/∂x along w is the same Hessian product ---
        if fwd_over_rev:
            fo_hv = _forward_over_reverse(fk_fn, inputs, float_idx, float_pos, ups, ws)
            for k, (a, b) in enumerate(zip(fo_hv, results[1])):
                assert_close(a, b, rtol * 10, atol * 10, f"forward-over-reverse: input {k}")


def _forward_over_reverse(fk_fn, inputs, float_idx, float_pos, ups, ws):
    """fukaku's H·w by pushing the tangents w through the backward pass (dual tensors)."""
    fa = fk.autograd.forward_ad
    with fa.dual_level():
        args, leaves = _fk_args(inputs, requires_grad=True)
        duals = [fa.make_dual(x, fk.tensor(w)) for x, w in zip(leaves, ws)]
        for i, d in zip(float_pos, duals):
            args[i] = d
        outs = _as_list(fk_fn(*args))
        pairs = [(outs[i], fk.tensor(u)) for i, u in zip(float_idx, ups) if outs[i].requires_grad]
        if not pairs:
            return [np.zeros(x.shape) for x in leaves]
        g1 = fk.autograd.grad([p[0] for p in pairs], leaves, [p[1] for p in pairs],
                              create_graph=True, allow_unused=True)
        out = []
        for g, x in zip(g1, leaves):
            t = None if g is None else fa.unpack_dual(g).tangent
            out.append(np.zeros(x.shape) if t is None else _np(t))
        return out


def randn(*shape, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.asarray(np.random.default_rng(seed).standard_normal(shape), dtype=dtype)


def uniform(lo, hi, *shape, seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.asarray(np.random.default_rng(seed).uniform(lo, hi, shape), dtype=dtype)


def away_from(x: np.ndarray, points=(0.0,), gap: float = 0.05) -> np.ndarray:
    """Nudge values within ``gap`` of a kink so finite precision cannot straddle it."""
    x = np.array(x, copy=True)
    for p in points:
        near = np.abs(x - p) < gap
        x[near] = p + np.where(x[near] >= p, gap, -gap)
    return x
