"""The backward pass: reverse-mode differentiation over the recorded graph (seed 000 §6.1.2).

The graph is walked without recursion: one pass counts, for each node, how many recorded
consumers will send it a gradient; a second pass (Kahn's order) runs a node's vjp once all its
gradients have arrived and sums them. Time is linear in the graph's size, so a chain of 100,000
ops or an RNN unrolled over thousands of steps back-propagates as easily as a small MLP. Unless
``retain_graph`` is set, each node frees its saved tensors as soon as its vjp has run.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..tensor import Tensor, wrap
from .function import Function, _freed_error
from .grad_mode import set_grad_enabled, state


def _seed_gradient(out: Tensor, grad) -> Tensor:
    if grad is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, but the output has shape "
                f"{tuple(out.shape)}. Pass the vector of the vector-Jacobian product: "
                "out.backward(gradient=fukaku.ones_like(out)) for the gradient of out.sum()"
            )
        return wrap(np.ones_like(out.data))
    if not isinstance(grad, Tensor):
        grad = wrap(np.array(grad, dtype=out.data.dtype))
    elif grad.data.dtype != out.data.dtype:
        grad = grad.to(out.data.dtype)  # a differentiable cast: keeps its graph and its tangent
    if grad.shape != out.shape:
        from ..errors import ShapeError

        raise ShapeError(f"backward: gradient has shape {tuple(grad.shape)} but the output has shape {tuple(out.shape)}")
    return grad


def _count_dependencies(roots: Sequence[Function]) -> dict[Function, int]:
    """Number of recorded edges into each node reachable from the roots."""
    deps: dict[Function, int] = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        fn = stack.pop()
        if fn._released:
            raise _freed_error(fn)
        for nxt in fn.next_functions:
            if isinstance(nxt, Function):
                deps[nxt] = deps.get(nxt, 0) + 1
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
    return deps


def _accumulate(buffers: dict, key, grad: Tensor) -> None:
    prev = buffers.get(key)
    buffers[key] = grad if prev is None else prev + grad


def _run_hooks(hooks, grad: Tensor) -> Tensor:
    for hook in hooks:
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def _checked_vjp(fn: Function, grad: Tensor) -> tuple:
    """Run a vjp in anomaly mode: blame a non-finite gradient on the node, not on the ops inside its rule."""
    from .anomaly import check_backward

    state.anomaly = False
    try:
        input_grads = fn.vjp(grad)
    finally:
        state.anomaly = True
    if type(input_grads) is not tuple:
        input_grads = (input_grads,)
    check_backward(fn, input_grads)
    return input_grads


def _execute(outputs: Sequence[Tensor], grad_outputs: Sequence, retain_graph: bool, create_graph: bool,
             targets: Sequence[Tensor] | None) -> dict:
    """Propagate gradients from ``outputs``; returns ``{id(tensor): grad}`` for leaves (and targets)."""
    node_grads: dict[Function, Tensor] = {}
    leaf_grads: dict[int, Tensor] = {}
    leaves: dict[int, Tensor] = {}
    roots: list[Function] = []
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"element of the outputs (shape {tuple(out.shape)}) does not require grad and has no grad_fn: "
                "nothing to differentiate. Did you create the inputs with requires_grad=True, or run the forward "
                "pass inside fukaku.no_grad()?"
            )
        g = _seed_gradient(out, g)
        if out.grad_fn is None:
            _accumulate(leaf_grads, id(out), g)
            leaves[id(out)] = out
        else:
            _accumulate(node_grads, out.grad_fn, g)
            roots.append(out.grad_fn)
    target_nodes = {}
    if targets is not None:
        target_nodes = {t.grad_fn: t for t in targets if t.grad_fn is not None}
    deps = _count_dependencies(roots)
    ready = [fn for fn in dict.fromkeys(roots) if deps.get(fn, 0) == 0]
    captured: dict[int, Tensor] = {}
    anomaly = state.anomaly
    with set_grad_enabled(create_graph):
        while ready:
            fn = ready.pop()
            grad = node_grads.pop(fn)
            if fn._hooks:
                grad = _run_hooks(fn._hooks, grad)
            if fn._retained is not None:
                fn._retained.grad = grad if create_graph else grad.detach()
            if fn in target_nodes:
                captured[id(target_nodes[fn])] = grad
            if anomaly:
                input_grads = _checked_vjp(fn, grad)
            else:
                input_grads = fn.vjp(grad)
                if type(input_grads) is not tuple:
                    input_grads = (input_grads,)
            for nxt, needed, g in zip(fn.next_functions, fn.needs_input_grad, input_grads):
                if not needed or g is None or nxt is None:
                    continue
                if not isinstance(nxt, Function):
                    _accumulate(leaf_grads, id(nxt), g)
                    leaves[id(nxt)] = nxt
                else:
                    _accumulate(node_grads, nxt, g)
                    deps[nxt] -= 1
                    if deps[nxt] == 0:
                        ready.append(nxt)
            if not retain_graph:
                fn.release()
    result = {}
    for key, g in leaf_grads.items():
        leaf = leaves[key]
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
        result[key] = (leaf, g)
    for key, g in captured.items():
        result[key] = (None, g)
    return result


def run_backward(outputs: Sequence[Tensor], grad_outputs: Sequence, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
    """``Tensor.backward`` / ``fukaku.autograd.backward``: accumulate into leaves' ``.grad``."""
    if retain_graph is None:
        retain_graph = create_graph
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    grads = _execute(outputs, grad_outputs, retain_graph, create_graph, inputs)
    wanted = None if inputs is None else {id(t) for t in inputs}
    # arrays a leaf must not adopt as its .grad: the caller's gradient tensors, and ones already adopted
    assigned: set[int] = {id(g.data) for g in grad_outputs if isinstance(g, Tensor)}
    for key, (leaf, g) in grads.items():
        if leaf is None or (wanted is not None and key not in wanted):
            continue
        if not create_graph:
            g = g.detach()
        if g.data.dtype != leaf.data.dtype:
            g = wrap(g.data.astype(leaf.data.dtype))
        if leaf.grad is None:
            # a leaf owns its .grad: optimizers update it in place, so never alias a view or another leaf's grad
            owned = g.data.flags.owndata and g.data.flags.writeable and id(g.data) not in assigned
            leaf.grad = g if create_graph or owned else wrap(g.data.copy())
            assigned.add(id(leaf.grad.data))
        else:
            with set_grad_enabled(create_graph):
                leaf.grad = leaf.grad + g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None, create_graph: bool = False,
         allow_unused: bool = False, materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (not accumulated into ``.grad``).

    Mirrors ``torch.autograd.grad``. With ``create_graph=True`` the result is itself differentiable:
    ``grad(grad(y, x, create_graph=True)[0].sum(), x)`` is a second derivative.
    """
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError(f"grad: one of the inputs (shape {tuple(t.shape)}) does not require grad")
    if retain_graph is None:
        retain_graph = create_graph
    found = _execute(outputs, grad_outputs, retain_graph, create_graph, inputs)
    result = []
    for t in inputs:
        entry = found.get(id(t))
        if entry is None:
            if not allow_unused and not materialize_grads:
                raise RuntimeError(
                    f"grad: one of the differentiated tensors (shape {tuple(t.shape)}) appears not to have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior"
                )
            result.append(wrap(np.zeros_like(t.data)) if materialize_grads else None)
            continue
        g = entry[1]
        result.append(g if create_graph else g.detach())
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """``fukaku.autograd.backward``: ``Tensor.backward`` for several outputs at once."""
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs)


__all__ = ["grad", "backward", "run_backward"]
