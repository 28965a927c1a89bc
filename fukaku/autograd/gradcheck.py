"""``gradcheck``: compare analytic derivatives with float64 central differences.

Both the reverse-mode Jacobian (vjp with unit vectors) and the forward-mode one (jvp with unit
vectors) are checked against (f(x + εe_k) − f(x − εe_k)) / 2ε, element by element.
"""
from __future__ import annotations

import numpy as np

from ..backends import array_module
from ..tensor import Tensor, wrap
from .functional import jacobian


class GradcheckError(RuntimeError):
    """Analytic and numerical derivatives disagree; the message shows where and by how much."""


def _flat_outputs(func, inputs) -> np.ndarray:
    out = func(*inputs)
    arrays = [o._data for o in ((out,) if isinstance(out, Tensor) else out)]
    return array_module(*arrays).concatenate([a.astype(np.float64).reshape(-1) for a in arrays])


def numerical_jacobian(func, inputs: tuple[Tensor, ...], eps: float = 1e-6) -> list[np.ndarray]:
    """One (n_out, n_in) matrix per input that requires grad."""
    mats = []
    # not under no_grad: func may itself differentiate (gradient penalties, gradgradcheck)
    for x in inputs:
        if not x.requires_grad:
            continue
        flat = x._data.reshape(-1)  # a view: perturb in place, restore after
        cols = []
        for k in range(flat.size):
            orig = flat[k]
            flat[k] = orig + eps
            plus = _flat_outputs(func, inputs)
            flat[k] = orig - eps
            minus = _flat_outputs(func, inputs)
            flat[k] = orig
            cols.append((plus - minus) / (2 * eps))
        n_out = _flat_outputs(func, inputs).size
        xp = array_module(x._data)
        mats.append(xp.stack(cols, axis=1) if cols else xp.zeros((n_out, 0)))
    return mats


def _analytic(func, inputs, mode: str) -> list[np.ndarray]:
    wrt = [i for i, x in enumerate(inputs) if x.requires_grad]

    def restricted(*args):
        full = list(inputs)
        for i, a in zip(wrt, args):
            full[i] = a
        return func(*full)

    jac = jacobian(restricted, tuple(inputs[i] for i in wrt), mode=mode)
    n_out = _flat_outputs(func, inputs).size
    # jac: per output, per input -> (out.shape + in.shape); flatten and stack outputs row-wise
    per_out = jac if isinstance(jac, tuple) and len(jac) and isinstance(jac[0], tuple) else (jac,)
    mats = []
    for j, i in enumerate(wrt):
        blocks = [blk[j]._data.reshape(-1, inputs[i].numel()) for blk in per_out]
        xp = array_module(*blocks)
        mats.append(xp.concatenate(blocks, axis=0).reshape(n_out, inputs[i].numel()) if blocks else None)
    return mats


def gradcheck(func, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3, raise_exception: bool = True,
              check_forward_ad: bool = True, check_backward_ad: bool = True) -> bool:
    """True when reverse- (and forward-) mode Jacobians match central differences.

    ``inputs`` are tensors; those with ``requires_grad=True`` are checked and should be float64.
    On a mismatch, raises :class:`GradcheckError` naming the input, the mode and the worst entry
    (or returns False with ``raise_exception=False``).
    """
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for x in inputs:
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise GradcheckError(f"gradcheck: inputs that require grad must be float64 for a meaningful check, got {x.dtype}")
    numeric = numerical_jacobian(func, inputs, eps)
    modes = [m for m, on in (("rev", check_backward_ad), ("fwd", check_forward_ad)) if on]
    wrt = [i for i, x in enumerate(inputs) if x.requires_grad]
    for mode in modes:
        analytic = _analytic(func, inputs, mode)
        for idx, num, ana in zip(wrt, numeric, analytic):
            xp = array_module(ana, num)
            if not xp.allclose(ana, num, rtol=rtol, atol=atol):
                worst = xp.unravel_index(xp.argmax(xp.abs(ana - num) - rtol * xp.abs(num)), num.shape)
                msg = (f"gradcheck: {'reverse' if mode == 'rev' else 'forward'}-mode Jacobian mismatch for input {idx}: "
                       f"at (output {worst[0]}, input element {worst[1]}) analytic {ana[worst]:.8g} vs numerical "
                       f"{num[worst]:.8g}; max abs diff {xp.max(xp.abs(ana - num)):.3g}\n"
                       f"analytic:\n{ana}\nnumerical:\n{num}")
                if raise_exception:
                    raise GradcheckError(msg)
                return False
    return True


def gradgradcheck(func, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
                  raise_exception: bool = True) -> bool:
    """gradcheck of the gradient: second derivatives (reverse-over-reverse) against differences."""
    from .engine import grad
    from .grad_mode import enable_grad

    inputs = tuple(inputs)
    wrt = [x for x in inputs if x.requires_grad]

    def first_grad(*args):
        with enable_grad():
            out = func(*args)
            outs = (out,) if isinstance(out, Tensor) else tuple(out)
            total = None
            from ..ops import sum as _sum

            for o in outs:
                xp = array_module(o._data)
                s = _sum(o * wrap(xp.cos(xp.arange(o.numel()).reshape(o.shape)).astype(o.dtype)))
                total = s if total is None else total + s
            used = [a for a in args if a.requires_grad]
            gs = grad(total, used, create_graph=True, allow_unused=True, materialize_grads=True)
        return gs

    return gradcheck(first_grad, inputs, eps, atol, rtol, raise_exception, check_forward_ad=False) if wrt else True
