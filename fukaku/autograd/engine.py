"""The backward pass: reverse-mode differentiation over the recorded graph (seed 000 §6.1.2).

Backpropagation is the chain rule applied from the loss back to the parameters: every recorded
op (a :class:`~fukaku.autograd.function.Function`) turns the gradient of its output into the
gradients of its inputs with its ``vjp`` rule, and a tensor used several times receives the sum
of the gradients sent back along each use. Read :func:`_backpropagate` first — it is the whole
algorithm, Kahn's topological order on one screen:

1. count, for each node, how many recorded consumers will send it a gradient;
2. start from the output nodes; pop a node whose consumers have all reported, run its vjp on the
   sum of what they sent, and hand each input's gradient to the node (or leaf) that produced it;
3. free the node's saved tensors (unless ``retain_graph``) — it will not be needed again.

Time is linear in the graph's size and nothing recurses, so a chain of 100,000 ops or an RNN
unrolled over thousands of steps back-propagates as easily as a small MLP.

Everything else a node's gradient may meet — tensor hooks, ``retain_grad()``, the intermediate
tensors ``autograd.grad(inputs=...)`` asks for, anomaly checks — is composed by :func:`_node_step`
into the one function the loop calls per node, chosen once before the loop; with none of them
the loop calls the bare vjp. :mod:`fukaku.autograd.scalar` is the same loop on Python floats.

Two hooks sit around the loop for ``backward()`` (data-parallel training needs them): a leaf with a
``register_post_accumulate_grad_hook`` has its ``.grad`` set, and its hooks run, the moment its last
producer has sent its gradient (:class:`_LeafSink`: the loop only stores into it), and
:func:`queue_callback` runs a function once the whole pass has finished.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import chain

from ..backends import array_module, is_writeable
from ..tensor import POST_ACCUMULATE_HOOKS, Tensor, _jit_hooks, wrap
from .anomaly import check_backward
from .function import Function, _freed_error
from .grad_mode import set_grad_enabled, state

# one node of the backward pass: (node, gradient of its output) -> gradients of its inputs
NodeStep = Callable[[Function, Tensor], tuple]
# something that sees a node's gradient before its vjp runs and may replace it
Observer = Callable[[Function, Tensor], Tensor]


# -- the algorithm -------------------------------------------------------------------------------
def _backpropagate(node_grads: dict[Function, Tensor], waiting: dict[Function, int],
                   leaf_grads: dict[Tensor, Tensor], step: NodeStep, release: bool) -> None:
    """Run every node reachable from ``node_grads`` once, in Kahn's order (seed 000 §6.1.2).

    ``node_grads`` holds the gradients entering the graph at its output nodes; ``waiting`` counts,
    per node, the consumers that have yet to send it a gradient (:func:`_count_dependencies`).
    On return ``leaf_grads`` has gained the summed gradient of every leaf tensor reached.
    """
    ready = [fn for fn in node_grads if fn not in waiting]
    while ready:
        fn = ready.pop()
        input_grads = step(fn, node_grads.pop(fn))  # the gradient is complete: all consumers have run
        for producer, needed, g in zip(fn.next_functions, fn.needs_input_grad, input_grads):
            if not needed or g is None or producer is None:
                continue
            if isinstance(producer, Function):
                _accumulate(node_grads, producer, g)
                waiting[producer] -= 1
                if waiting[producer] == 0:
                    ready.append(producer)
            else:  # a leaf tensor: its sum is complete only when the walk ends
                _accumulate(leaf_grads, producer, g)
        if release:
            fn.release()


def _count_dependencies(roots: Iterable[Function]) -> dict[Function, int]:
    """Number of recorded edges into each node reachable from the roots."""
    deps: dict[Function, int] = {}
    stack = list(roots)
    seen = set(stack)
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


def _vjp(fn: Function, grad: Tensor) -> tuple:
    """The plain node step: the node's vjp, its result always a tuple (one entry per input)."""
    input_grads = fn.vjp(grad)
    input_grads = input_grads if type(input_grads) is tuple else (input_grads,)
    if len(input_grads) != len(fn.next_functions):  # zip would silently drop or ignore a gradient
        raise RuntimeError(f"{fn.name}.vjp returned {len(input_grads)} gradient(s) for its {len(fn.next_functions)} "
                           "input(s); return one per input, None for an input that needs none")
    return input_grads


# -- what a node's gradient may meet besides its vjp -------------------------------------------------
def _node_step(nodes: Iterable[Function], targets: dict[Function, Tensor], captured: dict[Tensor, Tensor],
               create_graph: bool, plain_vjp: NodeStep = _vjp) -> NodeStep:
    """The function the loop runs per node, composed once: observers of the gradient, then the vjp.

    ``nodes`` are the graph's nodes, scanned for hooks and ``retain_grad()``; ``targets`` maps a
    node to the intermediate tensor it produced whose gradient ``autograd.grad`` returns (stored
    into ``captured``). In anomaly mode the vjp is checked for NaN/Inf; otherwise it is ``plain_vjp``.
    """
    vjp = _checked_vjp if state.anomaly else plain_vjp
    observers: list[Observer] = []
    if _watched(nodes):
        observers += [_run_node_hooks, _retainer(create_graph)]
    if targets:
        observers.append(_capturer(targets, captured))
    if not observers:
        return vjp

    def observed_step(fn: Function, grad: Tensor) -> tuple:
        for observe in observers:
            grad = observe(fn, grad)
        return vjp(fn, grad)

    return observed_step


def _watched(nodes: Iterable[Function]) -> bool:
    """Whether a node has hooks or a ``retain_grad()`` tensor (a plain loop: this runs on every backward)."""
    for fn in nodes:
        if fn._hooks or fn._retained is not None:
            return True
    return False


def _run_hooks(hooks, grad: Tensor) -> Tensor:
    """Apply ``register_hook`` hooks in order; a hook that returns a tensor replaces the gradient."""
    for hook in hooks:
        result = hook(grad)
        if result is not None:
            grad = result
    return grad


def _run_node_hooks(fn: Function, grad: Tensor) -> Tensor:
    return _run_hooks(fn._hooks, grad) if fn._hooks else grad


def _retainer(create_graph: bool) -> Observer:
    """Set ``.grad`` of the non-leaf tensors that called ``retain_grad()``."""
    def retain(fn: Function, grad: Tensor) -> Tensor:
        if fn._retained is not None:
            fn._retained.grad = grad if create_graph else grad.detach()
        return grad

    return retain


def _capturer(targets: dict[Function, Tensor], captured: dict[Tensor, Tensor]) -> Observer:
    """Record the gradient of each intermediate tensor ``autograd.grad`` differentiates with respect to."""
    def capture(fn: Function, grad: Tensor) -> Tensor:
        target = targets.get(fn)
        if target is not None:
            captured[target] = grad
        return grad

    return capture


def _checked_vjp(fn: Function, grad: Tensor) -> tuple:
    """Run a vjp in anomaly mode: blame a non-finite gradient on the node, not on the ops inside its rule."""
    state.anomaly = False
    try:
        input_grads = _vjp(fn, grad)
    finally:
        state.anomaly = True
    check_backward(fn, input_grads)
    return input_grads


# -- entry points ----------------------------------------------------------------------------------
def _seed_gradient(out: Tensor, grad) -> Tensor:
    xp = array_module(out._data)
    if grad is None:
        if out._data.size != 1:
            raise RuntimeError(
                f"grad can be implicitly created only for scalar outputs, but the output has shape "
                f"{tuple(out.shape)}. Pass the vector of the vector-Jacobian product: "
                "out.backward(gradient=fukaku.ones_like(out)) for the gradient of out.sum()"
            )
        return wrap(xp.ones_like(out._data))
    if not isinstance(grad, Tensor):
        grad = wrap(xp.array(grad, dtype=out._data.dtype))  # a copy: a leaf may adopt it as its .grad
    elif grad._data.dtype != out._data.dtype:
        grad = grad.to(out._data.dtype)  # a differentiable cast: keeps its graph and its tangent
    if grad.shape != out.shape:
        from ..errors import ShapeError

        raise ShapeError(f"backward: gradient has shape {tuple(grad.shape)} but the output has shape "
                         f"{tuple(out.shape)}; pass a gradient of the output's shape")
    return grad


def _execute(outputs: Sequence[Tensor], grad_outputs: Sequence, retain_graph: bool, create_graph: bool,
             targets: Sequence[Tensor] = (), early: Callable[[Tensor, Tensor], None] | None = None,
             steps=None,
             ) -> tuple[dict[Tensor, Tensor], dict[Tensor, Tensor]]:
    """Propagate gradients from ``outputs``.

    Returns the gradients of the leaves reached (after their hooks), and of the non-leaf
    ``targets`` reached. Tensors hash by identity, so they key the dicts. ``early(leaf, grad)``, if
    given, receives instead the complete gradient of each leaf that has post-accumulate-grad hooks
    as soon as the walk has produced it. ``steps`` replaces the engine's seed, vjp and leaf hooks
    (:class:`_EngineSteps`).
    """
    steps = _EngineSteps if steps is None else steps
    node_grads: dict[Function, Tensor] = {}
    leaf_grads: dict[Tensor, Tensor] = {}
    for out, g in zip(outputs, grad_outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"element of the outputs (shape {tuple(out.shape)}) does not require grad and has no grad_fn: "
                "nothing to differentiate. Did you create the inputs with requires_grad=True, or run the forward "
                "pass inside fukaku.no_grad()?"
            )
        g = steps.seed(out, g)
        if out.grad_fn is None:
            _accumulate(leaf_grads, out, g)
        else:
            _accumulate(node_grads, out.grad_fn, g)
    captured: dict[Tensor, Tensor] = {}
    target_nodes = {t.grad_fn: t for t in targets if t.grad_fn is not None} if targets else {}
    waiting = _count_dependencies(node_grads)
    step = _node_step(chain(node_grads, waiting), target_nodes, captured, create_graph, steps.vjp)  # every node, once
    if early is not None and POST_ACCUMULATE_HOOKS:
        leaf_grads = _LeafSink(leaf_grads, _hooked_leaf_edges(chain(node_grads, waiting)), early, steps.run_hooks)
    with set_grad_enabled(create_graph):
        _backpropagate(node_grads, waiting, leaf_grads, step, release=not retain_graph)
    for leaf, g in leaf_grads.items():
        if leaf._hooks:
            leaf_grads[leaf] = steps.run_hooks(leaf._hooks, g)
    return leaf_grads, captured


def run_backward(outputs: Sequence[Tensor], grad_outputs: Sequence, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Sequence[Tensor] | None = None) -> None:
    """``Tensor.backward`` / ``fukaku.autograd.backward``: accumulate into leaves' ``.grad``.

    A :func:`fukaku.jit.trace` step running in this thread takes the pass over, to record or replay it
    (one thread-local load per pass, outside the walk); otherwise the engine walks the graph."""
    takeover = _jit_hooks.backward
    if takeover is not None:
        return takeover(outputs, grad_outputs, retain_graph, create_graph, inputs)
    _walk_backward(outputs, grad_outputs, retain_graph, create_graph, inputs)


def _walk_backward(outputs: Sequence[Tensor], grad_outputs: Sequence, retain_graph: bool | None = None,
                   create_graph: bool = False, inputs: Sequence[Tensor] | None = None, steps=None) -> None:
    """:func:`run_backward` by the engine's walk, whatever is installed in this thread; ``steps``
    replaces the engine's seed, vjp, leaf update and leaf hooks (fukaku.jit's recorder observes them)."""
    steps = _EngineSteps if steps is None else steps
    if retain_graph is None:
        retain_graph = create_graph
    if isinstance(inputs, Tensor):
        inputs = (inputs,)
    wanted = None if inputs is None else set(inputs)
    # arrays a leaf must not adopt as its .grad: the caller's gradient tensors, and ones already adopted
    assigned: set[int] = {id(g._data) for g in grad_outputs if isinstance(g, Tensor)}

    accumulate_grad = steps.accumulate_grad

    def accumulate(leaf: Tensor, g: Tensor) -> None:
        if wanted is None or leaf in wanted:
            accumulate_grad(leaf, g, create_graph, assigned)

    with _final_callbacks.scope() as run_final_callbacks:
        leaf_grads, _ = _execute(outputs, grad_outputs, retain_graph, create_graph, early=accumulate, steps=steps)
        for leaf, g in leaf_grads.items():
            accumulate(leaf, g)
        run_final_callbacks()


def _accumulate_grad(leaf: Tensor, g: Tensor, create_graph: bool, assigned: set[int]) -> None:
    """Add a leaf's gradient of this pass into its ``.grad`` (PyTorch's AccumulateGrad), then run its
    post-accumulate-grad hooks."""
    if not create_graph:
        g = g.detach()  # as PyTorch's AccumulateGrad: a .grad made without create_graph has no tangent
    if g._data.dtype != leaf._data.dtype:
        g = wrap(g._data.astype(leaf._data.dtype))
    if leaf.grad is None:
        # a leaf owns its .grad: optimizers update it in place, so never alias a view or another leaf's grad
        owned = g._data.flags.owndata and is_writeable(g._data) and id(g._data) not in assigned
        leaf.grad = g if create_graph or owned else wrap(g._data.copy())
        assigned.add(id(leaf.grad._data))
    else:
        with set_grad_enabled(create_graph):
            leaf.grad = leaf.grad + g
    hooks = POST_ACCUMULATE_HOOKS.get(id(leaf)) if POST_ACCUMULATE_HOOKS else None
    for hook in list(hooks.values()) if hooks else ():
        if hook(leaf) is not None:
            raise RuntimeError("Tensor post accumulate grad hooks should return None (a hook may change tensor.grad "
                               "in place instead)")


class _EngineSteps:
    """The steps of a backward pass that :func:`_walk_backward` takes from an object: these, the engine's
    own. ``fukaku.jit``'s recorder passes one with the same methods, which watch and call these."""

    seed = staticmethod(_seed_gradient)
    vjp = staticmethod(_vjp)
    accumulate_grad = staticmethod(_accumulate_grad)
    run_hooks = staticmethod(_run_hooks)


# -- hooks around the walk -------------------------------------------------------------------------
class _FinalCallbacks(threading.local):
    """This thread's queues of callbacks for the end of a backward pass, one per ``backward()`` running in the
    thread, innermost last. PyTorch keeps them per graph task: a ``backward()`` in another thread neither takes
    nor runs this thread's."""

    def __init__(self) -> None:
        self.queues: list[list[Callable[[], None]]] = []

    @contextlib.contextmanager
    def scope(self) -> Iterator[Callable[[], None]]:
        """A queue for the ``backward()`` about to run; yields the function that runs what was queued, in order
        (a callback may queue another)."""
        queue: list[Callable[[], None]] = []
        self.queues.append(queue)
        try:
            yield lambda: _drain(queue)
        finally:
            self.queues.pop()


def _drain(queue: list[Callable[[], None]]) -> None:
    while queue:
        queue.pop(0)()


_final_callbacks = _FinalCallbacks()


def queue_callback(callback: Callable[[], None]) -> None:
    """Run ``callback()`` when the ``backward()`` now running in this thread has finished, after every ``.grad`` is
    set (PyTorch's ``Variable._execution_engine.queue_callback``; call it from a hook)."""
    if not _final_callbacks.queues:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    _final_callbacks.queues[-1].append(callback)


def _hooked_leaf_edges(nodes: Iterable[Function]) -> dict[Tensor, int]:
    """For each leaf with post-accumulate-grad hooks, the number of recorded edges into it."""
    counts: dict[Tensor, int] = {}
    for fn in nodes:
        for producer, needed in zip(fn.next_functions, fn.needs_input_grad):
            if needed and isinstance(producer, Tensor) and POST_ACCUMULATE_HOOKS.get(id(producer)):
                counts[producer] = counts.get(producer, 0) + 1
    return counts


class _LeafSink(dict):
    """The walk's ``leaf_grads`` that hands a hooked leaf's gradient to ``complete(leaf, grad)`` (its
    ``register_hook`` hooks applied) when its last recorded edge has delivered, instead of keeping it
    to the end; an edge that delivers nothing leaves the leaf here, for the end as before."""

    def __init__(self, seeded: dict, pending: dict[Tensor, int], complete: Callable[[Tensor, Tensor], None],
                 run_hooks: Callable = _run_hooks):
        super().__init__(seeded)
        self._pending, self._complete, self._run_hooks = pending, complete, run_hooks

    def __setitem__(self, leaf: Tensor, grad: Tensor) -> None:
        left = self._pending.get(leaf, 0)
        if left != 1:
            if left:
                self._pending[leaf] = left - 1
            return super().__setitem__(leaf, grad)
        del self._pending[leaf]
        self.pop(leaf, None)  # grad is the complete sum: _accumulate added what was here
        self._complete(leaf, self._run_hooks(leaf._hooks, grad) if leaf._hooks else grad)


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
    leaf_grads, captured = _execute(outputs, grad_outputs, retain_graph, create_graph, inputs)
    result = []
    for t in inputs:
        g = captured.get(t, leaf_grads.get(t))
        if g is None:
            if not allow_unused and not materialize_grads:
                raise RuntimeError(
                    f"grad: one of the differentiated tensors (shape {tuple(t.shape)}) appears not to have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior"
                )
            result.append(wrap(array_module(t._data).zeros_like(t._data)) if materialize_grads else None)
            continue
        result.append(g if create_graph else _detached(g))
    return tuple(result)


def _detached(g: Tensor) -> Tensor:
    """A gradient ``grad`` returns without ``create_graph``: cut from the backward graph, but keeping its
    forward-mode tangent, as PyTorch's does — inside ``dual_level`` it carries the forward-over-reverse
    product."""
    out = g.detach()
    out._tangent = g._tangent
    return out


def backward(tensors, grad_tensors=None, retain_graph: bool | None = None, create_graph: bool = False,
             inputs=None) -> None:
    """``fukaku.autograd.backward``: ``Tensor.backward`` for several outputs at once."""
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    run_backward(tensors, grad_tensors, retain_graph, create_graph, inputs)


__all__ = ["grad", "backward", "run_backward", "queue_callback"]
