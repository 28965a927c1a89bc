"""Fused CuPy kernels: one GPU kernel where fukaku's array code makes several passes.

On a CPU NumPy's passes over a parameter are cheap next to the arithmetic; on a GPU each pass is a kernel
launch of a few microseconds, and an optimizer step over a model's parameters is mostly launches (Adam: 12 per
parameter, 10 ms of GPT-mini's step on an H200). Each kernel here does one update in one launch, with the same
formula, in the same order, as the array code it replaces, which stays the reference (and runs for NumPy).

A kernel is compiled by CuPy on its first use (``cupy.ElementwiseKernel``), so importing this module needs no
GPU; :func:`adam_kernel` answers None for a library without ``ElementwiseKernel``.
"""
from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import numpy as np

__all__ = ["adam_kernel"]

# m ← m + (1 − β₁)(d − m);  v ← β₂v + (1 − β₂)d²;  θ ← θ − s·m/(√v + ε̂), as fukaku.optim.Adam's passes
_ADAM_SOURCE = """
m = m + (d - m) * one_minus_beta1;
v = v * beta2 + d * d * one_minus_beta2;
x = x - m / (sqrt(v) + eps_hat) * step_size;
"""
_kernels: dict[tuple[int, str], Callable] = {}


def adam_kernel(xp: ModuleType, dtype: np.dtype) -> Callable | None:
    """``update(d, x, m, v, one_minus_beta1, beta2, one_minus_beta2, eps_hat, step_size)``: Adam's moment and
    parameter update in place of ``x``, ``m`` and ``v`` in one kernel; None where ``xp`` has no
    ``ElementwiseKernel`` (NumPy) or for a dtype other than float32/float64 (half precision keeps the passes)."""
    build = None if xp is np else getattr(xp, "ElementwiseKernel", None)
    if build is None or np.dtype(dtype) not in (np.float32, np.float64):
        return None
    key = (id(xp), "adam")
    kernel = _kernels.get(key)
    if kernel is None:
        kernel = _kernels[key] = build(
            "T d, T one_minus_beta1, T beta2, T one_minus_beta2, T eps_hat, T step_size", "T x, T m, T v",
            _ADAM_SOURCE, "fukaku_adam_update")

    def update(d, x, m, v, one_minus_beta1, beta2, one_minus_beta2, eps_hat, step_size) -> None:
        t = x.dtype.type
        kernel(d, t(one_minus_beta1), t(beta2), t(one_minus_beta2), t(eps_hat), t(step_size), x, m, v)

    return update
