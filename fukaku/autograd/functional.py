"""Function transforms: vjp, jvp, jacobian, hessian, hvp (``torch.autograd.functional`` names).

``jvp`` is true forward mode: tangents ride on dual tensors through each op's jvp rule. ``vjp``
is one reverse pass. ``jacobian`` builds the full matrix either row by row (reverse mode, one
backward per output element) or column by column (forward mode, one forward per input element):
the cost contrast of seed 000 §6.1.2.
"""
from __future__ import annotations

from ..backends import array_module
from ..tensor import Tensor, wrap
from . import forward_ad
from .engine import grad as _grad
from .grad_mode import enable_grad


def _as_tuple(x) -> tuple[tuple, bool]:
    if isinstance(x, Tensor):
        return (x,), True
    return tuple(x), False


def _fresh_leaves(inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
    """Detached copies that require grad, keeping any tangent (for forward-over-reverse)."""
    out = []
    for x in inputs:
        leaf = x.detach()
        leaf._tangent = x._tangent
        out.append(leaf.requires_grad_(True))
    return tuple(out)


def _grads_or_zeros(outputs, inputs, grad_outputs=None, create_graph: bool = False, retain_graph: bool = True):
    """``autograd.grad`` that treats outputs not depending on the inputs as giving zero gradients
    (like torch.autograd.functional with strict=False)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    pairs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
    grads = (None,) * len(inputs)
    if pairs:
        grads = _grad(tuple(o for o, _ in pairs), inputs, tuple(g for _, g in pairs), retain_graph=retain_graph,
                      create_graph=create_graph, allow_unused=True)
    return tuple(g if g is not None else _zeros_like(x) for g, x in zip(grads, inputs))


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), vᵀ J)``: the vector-Jacobian product in one reverse pass."""
    inputs_t, single_in = _as_tuple(inputs)
    with enable_grad():
        xs = _fresh_leaves(inputs_t)
        out = func(*xs)
        outs, single_out = _as_tuple(out)
        vs = None if v is None else _as_tuple(v)[0]
        grads = _grads_or_zeros(outs, xs, vs, create_graph=create_graph, retain_graph=create_graph)
    outs = tuple(o if create_graph else o.detach() for o in outs)
    return (outs[0] if single_out else outs), (grads[0] if single_in else grads)


def jvp(func, primals, tangents):
    """``(func(*primals), J·tangents)`` by forward mode (like ``torch.func.jvp``)."""
    xs, single_in = _as_tuple(primals)
    vs, _ = _as_tuple(tangents)
    if len(xs) != len(vs):
        raise ValueError(f"jvp: got {len(vs)} tangents for {len(xs)} primals")
    with forward_ad.dual_level():
        duals = [forward_ad.make_dual(x, v) for x, v in zip(xs, vs)]
        out = func(*duals)
        outs, single_out = _as_tuple(out)
        primal_out, tangent_out = [], []
        for o in outs:
            p, t = forward_ad.unpack_dual(o)
            primal_out.append(p.detach())
            tangent_out.append(t if t is not None else _zeros_like(o))
    if single_out:
        return primal_out[0], tangent_out[0]
    return tuple(primal_out), tuple(tangent_out)


def _zeros_like(x: Tensor) -> Tensor:
    return wrap(array_module(x._data).zeros_like(x._data))


def _basis(like: Tensor, k: int) -> Tensor:
    """The ``k``-th standard basis vector (flat index) in the shape, dtype and array module of ``like``."""
    e = array_module(like._data).zeros(like.numel(), like.dtype)
    e[k] = 1
    return wrap(e.reshape(like.shape))


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
             strategy: str = "reverse-mode", mode: str | None = None):
    """∂func/∂inputs with shape ``out.shape + in.shape`` (tuples of them for tuple inputs/outputs).

    ``mode="rev"`` (default): one backward pass per output element. ``mode="fwd"``: one
    forward-mode pass per input element — cheaper when inputs are few and outputs many.
    """
    mode = mode or {"reverse-mode": "rev", "forward-mode": "fwd"}.get(strategy, strategy)
    if mode not in ("rev", "fwd"):
        raise ValueError(f"jacobian: mode must be 'rev' or 'fwd', got {mode!r}")
    xs, single_in = _as_tuple(inputs)
    if mode == "rev":
        with enable_grad():
            leaves = _fresh_leaves(xs)
            outs, single_out = _as_tuple(func(*leaves))
            blocks = []
            for o in outs:
                rows = [[] for _ in leaves]
                for k in range(o.numel()):
                    gs = _grads_or_zeros((o,), leaves, (_basis(o, k),), create_graph=create_graph)
                    for i, g in enumerate(gs):
                        rows[i].append(g)
                blocks.append(tuple(_stack_rows(r, o, x) for r, x in zip(rows, leaves)))
    else:
        cols_per_input = []
        out_template = None
        for i, x in enumerate(xs):
            cols = []
            for k in range(x.numel()):
                tangents = [(_basis(x, k) if j == i else _zeros_like(y))
                            for j, y in enumerate(xs)]
                out, jv = jvp(func, xs, tangents)
                out_template = out
                cols.append(_as_tuple(jv)[0])
            cols_per_input.append(cols)
        outs, single_out = _as_tuple(out_template if out_template is not None else func(*xs))
        blocks = []
        for oi, o in enumerate(outs):
            xp = array_module(o._data)
            per_input = []
            for x, cols in zip(xs, cols_per_input):
                mat = xp.stack([c[oi]._data.reshape(-1) for c in cols], axis=1) if cols else xp.zeros((o.numel(), 0), o.dtype)
                per_input.append(wrap(mat.reshape(tuple(o.shape) + tuple(x.shape))))
            blocks.append(tuple(per_input))
    result = tuple(b[0] if single_in else b for b in blocks)
    return result[0] if single_out else result


def _stack_rows(rows, out: Tensor, x: Tensor) -> Tensor:
    """The Jacobian block ∂out/∂x, shape ``out.shape + x.shape``, from its rows (one per element of out)."""
    from ..ops import reshape, stack

    shape = tuple(out.shape) + tuple(x.shape)
    if not rows:
        return wrap(array_module(out._data).zeros(shape))
    return reshape(stack(rows), shape)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False, vectorize: bool = False,
            outer_jacobian_strategy: str = "reverse-mode", mode: str | None = None):
    """Second derivatives of a scalar ``func``: the Jacobian of its gradient.

    ``mode="rev"`` differentiates the gradient again in reverse mode (reverse-over-reverse);
    ``mode="fwd"`` pushes tangents through the backward pass (forward-over-reverse).
    """
    xs, single_in = _as_tuple(inputs)

    def gradient(*args):
        with enable_grad():
            leaves = _fresh_leaves(args) if any(not a.requires_grad for a in args) else args
            out = func(*leaves)
            if out.numel() != 1:
                raise RuntimeError(f"hessian: func must return a single-element tensor, got shape {tuple(out.shape)}")
            gs = _grads_or_zeros((out,), leaves, create_graph=True)
        return gs[0] if single_in else gs

    mode = mode or {"reverse-mode": "rev", "forward-mode": "fwd"}.get(outer_jacobian_strategy, outer_jacobian_strategy)
    return jacobian(gradient, xs[0] if single_in else xs, create_graph=create_graph, mode=mode)


def hvp(func, inputs, v, create_graph: bool = False, strict: bool = False):
    """``(func(*inputs), H·v)`` for scalar ``func``, by double backward (no Hessian is formed)."""
    xs, single_in = _as_tuple(inputs)
    vs, _ = _as_tuple(v)
    with enable_grad():
        leaves = _fresh_leaves(xs)
        out = func(*leaves)
        gs = _grads_or_zeros((out,), leaves, create_graph=True)
        from ..ops import sum as _sum

        dot = None
        for g, vv in zip(gs, vs):
            term = _sum(g * vv)
            dot = term if dot is None else dot + term
        hv = _grads_or_zeros((dot,), leaves, create_graph=create_graph)
    return out.detach(), (hv[0] if single_in else hv)


def vhp(func, inputs, v, create_graph: bool = False, strict: bool = False):
    """``vᵀH``; equal to ``H·v`` for the symmetric Hessians of smooth functions."""
    return hvp(func, inputs, v, create_graph, strict)
