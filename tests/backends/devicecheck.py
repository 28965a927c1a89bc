"""Run a function of tensors on the CPU and on a device, forward and backward, and compare.

fukaku's CPU results are checked against PyTorch by the conformance suite (tests/conformance.py); a
device result equal to the CPU one is therefore PyTorch's too. :func:`assert_device_matches_cpu`
also checks that every output and every gradient stayed on the device.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

import fukaku as fk
from conformance import TOL as CONFORMANCE_TOL

# conformance.py's tolerances: a GPU sums and multiplies in another order than NumPy does
TOL = {dtype: dict(tol) for dtype, tol in CONFORMANCE_TOL.items()}


def host(t) -> np.ndarray:
    """A tensor's values in host memory (None stays None)."""
    return None if t is None else t.detach().cpu().numpy()


def _as_list(out) -> list:
    return list(out) if isinstance(out, (tuple, list)) else [out]


def run(fn: Callable, inputs: Sequence, device: str, *, seed: int = 0):
    """``fn`` on ``inputs`` placed on ``device``: floating NumPy arrays become leaves that require grad,
    other arrays tensors, anything else is passed as it is. Every floating output gets a seeded random
    upstream gradient; returns (outputs, gradients of the leaves), as host arrays, after checking that
    every output tensor and gradient is on ``device``."""
    want = fk.device(device).type
    args = []
    for a in inputs:
        if isinstance(a, np.ndarray):
            t = fk.tensor(a, device=device)
            args.append(t.requires_grad_() if a.dtype.kind == "f" else t)
        else:
            args.append(a)
    outs = [o for o in _as_list(fn(*args)) if isinstance(o, fk.Tensor)]
    rng = np.random.default_rng(seed)
    total = None
    for o in outs:
        assert o.device.type == want, f"an output is on {o.device}, expected {want}"
        if o.requires_grad:
            up = fk.tensor(rng.standard_normal(o.shape).astype(o.dtype.dtype), device=device)
            term = (o * up).sum()
            total = term if total is None else total + term
    leaves = [t for t in args if isinstance(t, fk.Tensor) and t.requires_grad]
    if total is not None:
        total.backward()
    for t in leaves:
        if t.grad is not None:
            assert t.grad.device.type == want, f"a gradient is on {t.grad.device}, expected {want}"
    return [host(o) for o in outs], [host(t.grad) for t in leaves]


def assert_device_matches_cpu(fn: Callable, inputs: Sequence, device: str, *, what: str = "") -> None:
    """``fn`` gives the same outputs and gradients on ``device`` as on the CPU (to float tolerance)."""
    want_out, want_grad = run(fn, inputs, "cpu")
    got_out, got_grad = run(fn, inputs, device)
    assert len(got_out) == len(want_out), f"{what}: {len(got_out)} outputs on the device, {len(want_out)} on the CPU"
    for kind, got, want in (("output", got_out, want_out), ("gradient", got_grad, want_grad)):
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if w is None:
                assert g is None, f"{what}: {kind} {i} is None on the CPU, not on the device"
                continue
            assert g.dtype == w.dtype and g.shape == w.shape, \
                f"{what}: {kind} {i}: {g.dtype}{g.shape} on the device, {w.dtype}{w.shape} on the CPU"
            np.testing.assert_allclose(g, w, **TOL.get(w.dtype, dict(rtol=0, atol=0)), err_msg=f"{what}: {kind} {i}")
