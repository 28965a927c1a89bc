"""L-BFGS (Nocedal, 1980; Liu and Nocedal, 1989), as ``torch.optim.LBFGS``, with its strong-Wolfe
line search (Nocedal and Wright, *Numerical Optimization*, Algorithms 3.5 and 3.6).

A quasi-Newton method: the step is d = −H·g, where H approximates the inverse Hessian from the last
``history_size`` pairs s = θₖ₊₁ − θₖ, y = gₖ₊₁ − gₖ (kept only when the curvature yᵀs > 10⁻¹⁰),
applied by the two-loop recursion without ever forming a matrix:

    q ← −g;  for i newest → oldest: αᵢ = ρᵢ·sᵢᵀq,  q ← q − αᵢ·yᵢ          (ρᵢ = 1/yᵢᵀsᵢ)
    r ← γ·q  (γ = yᵀs / yᵀy of the newest pair);  for i oldest → newest: βᵢ = ρᵢ·yᵢᵀr,  r ← r + (αᵢ − βᵢ)·sᵢ

One ``step(closure)`` runs up to ``max_iter`` such iterations, re-evaluating the loss with the
closure (at most ``max_eval`` times), like ``scipy.optimize.minimize(method="L-BFGS-B")`` rather
than one gradient step. The step length along d is ``lr`` (the first iteration of all:
``min(1, 1/‖g‖₁)·lr``), or with ``line_search_fn="strong_wolfe"`` one that satisfies the strong
Wolfe conditions, found by bracketing and zooming with cubic interpolation (ported, as torch's,
from minFunc / torch7's ``lswolfe.lua``)::

    opt = fk.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    for _ in range(10):
        opt.step(closure)

The arithmetic follows torch's step by step, including which numbers are 0-d arrays of the
parameters' dtype and which are Python floats, so float32 runs round where torch rounds.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..autograd.grad_mode import enable_grad
from ..backends import array_module
from ..tensor import Tensor, bump_version, wrap
from .optimizer import Optimizer, ParamsT, _as_index, check_nonnegative

__all__ = ["LBFGS"]

# Entries of the state (kept on the first parameter, as torch does) that hold arrays or lists of them.
_ARRAY_STATE = ("d", "t", "old_dirs", "old_stps", "ro", "H_diag", "prev_flat_grad", "al")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
    ``bounds`` (default: the interval between x1 and x2); its midpoint when the cubic has no minimum."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 ** 2 - g1 * g2
    if d2_square >= 0:
        d2 = array_module(d2_square).sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func: Callable, x: list[np.ndarray], t, d: np.ndarray, f: float, g: np.ndarray, gtd,
                  c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9, max_ls: int = 25):
    """A step length t along d from the parameters ``x`` (loss f, gradient g, slope gtd = gᵀd) that
    satisfies the strong Wolfe conditions — sufficient decrease f(t) ≤ f + c1·t·gtd and small slope
    |g(t)ᵀd| ≤ −c2·gtd — using at most ``max_ls`` evaluations ``obj_func(x, t, d) → (f, g)``.

    Returns ``(f_new, g_new, t, evaluations)``.
    """
    d_norm = abs(d).max()
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = g_new.dot(d)

    # bracket an interval containing a point satisfying the Wolfe criteria
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new.copy()], [gtd_prev, gtd_new]
            break
        # extrapolate: the cubic's minimiser, at least 1% further than t and at most 10·t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

    if ls_iter >= max_ls:  # out of evaluations: the bracket is [0, t]
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial point too close to an end of the bracket twice in a row (or outside it) moves to
        # 10% of the bracket's length from that end
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False

        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = g_new.dot(d)
        ls_iter += 1

        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            # not a sufficient decrease, or not below the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the old high end becomes the low end
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new

    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def _unwrap(value):
    """State as stored (fukaku tensors, lists of them) → arrays for the update."""
    if isinstance(value, Tensor):
        return value._data
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


def _wrap(value):
    """Arrays and 0-d results (NumPy scalars) of an update → fukaku tensors, as torch keeps tensors."""
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    if isinstance(value, np.generic) or hasattr(value, "__array__"):
        return wrap(array_module(value).asarray(value))
    return value


def _cast(value, like: np.ndarray, name: str):
    """A loaded state entry (torch or fukaku tensors, arrays, lists of them, numbers) in fukaku's
    form, floating arrays cast to the parameters' dtype as torch casts them."""
    if isinstance(value, (list, tuple)):
        return [_cast(v, like, name) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    xp = array_module(like)
    arr = value._data if isinstance(value, Tensor) else xp.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"LBFGS.load_state_dict: state entry {name!r} holds {type(value).__name__} of dtype "
                        f"{arr.dtype}; expected numbers or tensors")
    return wrap(xp.array(arr, dtype=like.dtype if arr.dtype.kind == "f" else arr.dtype, copy=True))


class LBFGS(Optimizer):
    """``LBFGS(params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7, tolerance_change=1e-9,
    history_size=100, line_search_fn=None)``; ``max_eval`` defaults to ``max_iter * 5 // 4``.

    ``step(closure)`` needs the closure (it re-evaluates the loss, and fills the gradients, several
    times per step) and returns the loss of its first evaluation. One parameter group only; the
    parameters are treated as one flat vector. An iteration stops early when the largest gradient
    component is ≤ ``tolerance_grad``, or the step, the loss change or the directional derivative is
    below ``tolerance_change``.

    State (global, kept under the first parameter as torch does): ``'func_evals'``, ``'n_iter'``,
    the last direction ``'d'`` and step ``'t'``, the history ``'old_dirs'`` (y), ``'old_stps'``
    (s), ``'ro'`` (1/yᵀs), ``'H_diag'`` (γ), ``'prev_flat_grad'``, ``'prev_loss'``, ``'al'``.
    """

    def __init__(self, params: ParamsT, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None) -> None:
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size, line_search_fn=line_search_fn)
        super().__init__(params, defaults)

    def _validate(self, options: dict[str, Any]) -> None:
        check_nonnegative("LBFGS", options, "lr")
        if options["line_search_fn"] not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe' (the only line search "
                             f"implemented), got {options['line_search_fn']!r}")
        for name in ("max_iter", "history_size"):
            value = options[name]
            if isinstance(value, bool) or int(value) != value or value < 1:
                raise ValueError(f"LBFGS: {name} must be a positive integer, got {value!r}")

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups): it treats all "
                             "parameters as one vector; pass them all in one group")
        super().add_param_group(param_group)

    @property
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    # ------------------------------------------------------------------ the parameters as one vector
    def _gather_flat_grad(self) -> np.ndarray:
        """All gradients in one new vector (zeros for a parameter without one)."""
        xp = array_module(self._params[0]._data)
        return xp.concatenate([xp.zeros(p._data.size, p._data.dtype) if p.grad is None else p.grad._data.reshape(-1)
                               for p in self._params])

    def _add_grad(self, step_size, update: np.ndarray) -> None:
        """θ ← θ + step_size·update, ``update`` a flat vector."""
        offset = 0
        for p in self._params:
            x = p._data
            x += step_size * update[offset:offset + x.size].reshape(x.shape)
            offset += x.size
            bump_version(p)

    def _set_param(self, values: list[np.ndarray]) -> None:
        for p, value in zip(self._params, values, strict=True):
            p._data[...] = value
            bump_version(p)

    def _directional_evaluate(self, closure: Callable[[], Any], x: list[np.ndarray], t, d: np.ndarray):
        """Loss and flat gradient at ``x + t·d``; the parameters are then set back to ``x``."""
        self._add_grad(t, d)
        loss = float(closure())
        flat_grad = self._gather_flat_grad()
        self._set_param(x)
        return loss, flat_grad

    def step(self, closure: Callable[[], Any] | None = None):
        """Up to ``max_iter`` L-BFGS iterations; returns the loss the closure gave first.

        Args:
            closure: re-evaluates the model — zero the gradients, compute the loss, call
                ``backward()`` — and returns the loss. It runs with grad mode on.
        """
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step needs a closure that re-evaluates the model and returns the loss "
                            "(opt.step(closure)): L-BFGS evaluates the loss several times per step")

        def evaluate():  # the closure always runs with grad mode on, as in torch
            with enable_grad():
                return closure()

        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = evaluate()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1

        flat_grad = self._gather_flat_grad()
        xp = array_module(flat_grad)
        if abs(flat_grad).max() <= tolerance_grad:  # already optimal
            return orig_loss

        d, t, old_dirs, old_stps, ro, h_diag, prev_flat_grad, al = (_unwrap(state.get(k)) for k in _ARRAY_STATE)
        prev_loss = state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---------------------------------------------------------- the direction
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # enough curvature along s: remember the pair
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / y.dot(y)  # scale of the initial inverse Hessian
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = xp.multiply(q, h_diag)
                for i in range(num_old):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]

            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss

            # ---------------------------------------------------------- the step length
            t = min(1.0, 1.0 / abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)  # directional derivative
            if gtd > -tolerance_change:
                break

            ls_func_evals = 0
            if line_search_fn is not None:
                x_init = [p._data.copy() for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(evaluate, x, t, d)

                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                   max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                if n_iter != max_iter:  # the last iteration's loss is not needed (nor, stochastically, useful)
                    loss = float(evaluate())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = abs(flat_grad).max() <= tolerance_grad
                    ls_func_evals = 1

            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---------------------------------------------------------- stop?
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if abs(d * t).max() <= tolerance_change:  # no progress in θ
                break
            if abs(loss - prev_loss) < tolerance_change:  # no progress in the loss
                break

        for name, value in zip(_ARRAY_STATE, (d, t, old_dirs, old_stps, ro, h_diag, prev_flat_grad, al)):
            if value is not None or name != "al":  # 'al' exists from the first quasi-Newton iteration on
                state[name] = _wrap(value)
        state["prev_loss"] = prev_loss
        return orig_loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """As :meth:`Optimizer.load_state_dict` (fukaku's or torch's state dicts); the flat vectors and
        history lists are copied, floating arrays cast to the parameters' dtype."""
        if "state" not in state_dict or "param_groups" not in state_dict:
            return super().load_state_dict(state_dict)  # raises, naming the missing key
        like = self._params[0]._data
        converted = {key: {name: _cast(v, like, name) for name, v in values.items()}
                     for key, values in state_dict["state"].items()}
        super().load_state_dict({**state_dict, "state": {key: {} for key in converted}})  # checks the groups
        indices = [_as_index(i, "'params' entries") for i in state_dict["param_groups"][0]["params"]]
        index_to_param = dict(zip(indices, self._params))
        self.state.clear()
        for key, values in converted.items():
            self.state[index_to_param[_as_index(key, "'state' keys")]] = values
