"""``fukaku.jit.trace``: run a function once while recording it, then replay that record.

What is recorded, by what the function does:

* A function that calls **no** ``backward()`` (a model, a loss, an inference step) is recorded as a
  forward program (:mod:`fukaku.jit.forward`): each call replays its ops, without the modules' and the
  functional layer's Python, and links them into the graph for ``backward()``. Where a program would
  keep the traced call's values (an array computed from the data between ops, a random draw or a
  buffer update outside an op), there is none, and each call runs the function eagerly (``TracedStep.why``).
* A **step** that calls ``backward()``: the forward pass and everything else in the step — the model,
  the loss, the optimizer's ``step()`` and ``zero_grad()`` — run again on every call, eagerly (a traced
  loss function inside the step replays its forward program). Running the step's Python again is what
  makes every call exact: the optimizer updates the model's own parameter arrays in place, dropout draws
  fresh numbers, as eager mode. **Each ``backward()``** is replaced by its recorded program
  (:mod:`fukaku.jit.program`): no dependency count, no ready list, no per-node dicts, and the vjp of each
  node whose rule is pure array code replayed as a flat list of ops with elementwise chains evaluated in
  place.

A trace is only as good as the graph staying the same, so the trace refuses a step whose own code
reads a tensor's value in Python (``bool(t)``, ``float(t)``, ``t.item()`` …): a branch on it could
build another graph on another call (PyTorch's trace only warns; fukaku refuses, so that a replay is
never silently wrong). Each call checks its inputs' shapes and dtypes against the trace,
and each replayed backward checks every node of the new graph against the recorded one.

What a trace or a traced step installs is installed in the calling thread only (``fukaku.tensor``'s
thread-local ``_jit_hooks``, read once per ``backward()``, per value read, per op, per creation function and
per in-place update; nothing of
fukaku is swapped at runtime): other threads keep running eagerly meanwhile.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ..amp.autocast_mode import DEVICE_TYPES, is_autocast_enabled
from ..autograd import engine
from ..autograd.grad_mode import state
from ..errors import ShapeError
from ..tensor import Tensor, _jit_hooks
from .forward import ForwardProgram, _ForwardRecorder
from .program import BackwardProgram, TracingError, _Recorder, plain_backward

# Tensor methods that hand a tensor's value to Python (each calls _jit_hooks.value_read), and what to call them
_VALUE_READS = {"__bool__": "bool(tensor) (an `if` or `while` on a tensor, or a comparison used as a condition)",
                "__float__": "float(tensor)", "__int__": "int(tensor)", "__index__": "a tensor used as an index",
                "item": "tensor.item()", "tolist": "tensor.tolist()", "numpy": "tensor.numpy()",
                "__array__": "numpy.asarray(tensor)"}


class _EagerBackward:
    """A ``backward()`` the recorder could not describe exactly: each call runs it in the engine."""

    def __init__(self, why: str) -> None:
        self.why = why

    def run(self, *args, **kwargs) -> None:
        engine._walk_backward(*args, **kwargs)


class TracedStep:
    """The callable :func:`trace` returns: call it with tensors shaped as the example inputs.

    Attributes:
        backward_programs: one entry per ``backward()`` the step calls, in order — a
            :class:`~fukaku.jit.program.BackwardProgram`, or a pass the engine runs (``.why`` says why).
        forward_program: for a function that calls no ``backward()``, its whole forward pass as a
            :class:`~fukaku.jit.forward.ForwardProgram` (each call replays it), or None.
        why: why ``forward_program`` is None (None when there is one).
    """

    def __init__(self, func: Callable, signature: tuple, programs: list, forward: ForwardProgram | None = None,
                 why: str | None = None) -> None:
        self.func, self.signature, self.backward_programs = func, signature, programs
        self.forward_program, self.why = forward, why
        self._modes = _modes()

    def __call__(self, *inputs: Tensor) -> Any:
        self._check(inputs)
        if self.forward_program is not None and _modes() == self._modes:
            return self.forward_program.run(inputs)
        programs = iter(self.backward_programs)

        def replayed_backward(outputs, grad_outputs, retain_graph=None, create_graph=False, inputs=None):
            program = next(programs, None)
            if program is None:
                raise TracingError(f"fukaku.jit: {_name(self.func)} called backward() more often than when it was "
                                   f"traced ({len(self.backward_programs)} times); trace it again, or run it eagerly")
            program.run(outputs, grad_outputs, retain_graph, create_graph, inputs)

        with _installed("backward", replayed_backward):
            result = self.func(*inputs)
        if next(programs, None) is not None:
            raise TracingError(f"fukaku.jit: {_name(self.func)} called backward() less often than when it was traced "
                               f"({len(self.backward_programs)} times); trace it again, or run it eagerly")
        return result

    @property
    def graph(self) -> str:
        """What the trace recorded, as text (``torch.jit.trace``'s result has ``graph`` too): the forward program
        one op per line, or each backward program's size and why the forward pass runs eagerly."""
        if self.forward_program is not None:
            return str(self.forward_program)
        lines = [f"forward pass: eager ({self.why})"]
        for i, program in enumerate(self.backward_programs):
            lines.append(f"backward() {i}: " + (f"engine ({program.why})" if isinstance(program, _EagerBackward) else
                         f"program of {program.flat_nodes} flat nodes, {program.rule_nodes} by rule, "
                         f"{program.in_place_ops} ops in place"))
        return "\n".join(lines)

    code = graph  # PyTorch's traced functions show Python code; fukaku's show the same listing

    def _check(self, inputs: Sequence) -> None:
        name = _name(self.func)
        if len(inputs) != len(self.signature):
            raise TypeError(f"fukaku.jit: {name} was traced with {len(self.signature)} input(s), got {len(inputs)}")
        for i, (t, (shape, dtype, requires_grad)) in enumerate(zip(inputs, self.signature)):
            if not isinstance(t, Tensor):
                raise TypeError(f"fukaku.jit: input {i} of {name} must be a Tensor, as traced; got {type(t).__name__}")
            if tuple(t.shape) != shape:
                raise ShapeError(f"fukaku.jit: input {i} of {name} has shape {tuple(t.shape)}, but the step was traced "
                                 f"with shape {shape}; trace it again for this shape (fukaku.jit.trace(step, inputs)) "
                                 "or call it eagerly")
            if t.dtype != dtype:
                raise TypeError(f"fukaku.jit: input {i} of {name} is {t.dtype}, but the step was traced with {dtype}; "
                                "convert the input, trace the step again, or call it eagerly")
            if t.requires_grad != requires_grad:
                raise TracingError(f"fukaku.jit: input {i} of {name} has requires_grad={t.requires_grad}, but the step "
                                   f"was traced with requires_grad={requires_grad}; trace it again or call it eagerly")

    def __repr__(self) -> str:
        return f"TracedStep({_name(self.func)}, inputs={[s[0] for s in self.signature]})"


def trace(func: Callable, example_inputs) -> TracedStep:
    """Record one call of ``func`` (a training or inference step) and return a callable that replays it.

    The trace *runs* ``func(*example_inputs)`` once, eagerly — a training step trains (as
    ``torch.jit.trace`` runs the function) — and records each ``backward()`` it calls as a static
    program. Calling the result with new tensors of the same shapes, dtypes and ``requires_grad``
    runs the step again with those programs in place of the engine's walk, and returns what
    ``func`` returns. After N calls the model and the optimizer hold bitwise what N eager steps
    leave (parameters are updated in place by the step's own optimizer; dropout draws fresh numbers
    from fukaku's generator, in eager order).

    Args:
        func: the step, taking tensors. It may call ``backward()`` (any number of times), an
            optimizer's ``zero_grad()``/``step()``, and return anything.
        example_inputs: a tensor or a tuple of tensors to call ``func`` with.

    Raises:
        TracingError: ``func`` read a tensor's value in Python (``bool``, ``float``, ``int``,
            ``item``, ``tolist``, ``numpy``, ``numpy.asarray``) — move that branch out of the step, or
            run it eagerly. Calls raise it too when a call's graph differs from the trace.

    Examples::

        >>> model = fukaku.nn.Linear(4, 1)
        >>> opt = fukaku.optim.SGD(model.parameters(), lr=0.1)
        >>> def step(x, y):
        ...     opt.zero_grad()
        ...     loss = fukaku.nn.functional.mse_loss(model(x), y)
        ...     loss.backward()
        ...     opt.step()
        ...     return loss
        >>> traced = fukaku.jit.trace(step, (fukaku.randn(8, 4), fukaku.randn(8, 1)))  # one step, recorded
        >>> loss = traced(fukaku.randn(8, 4), fukaku.randn(8, 1))                     # replayed
    """
    inputs = (example_inputs,) if isinstance(example_inputs, Tensor) else tuple(example_inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"fukaku.jit.trace: example input {i} must be a Tensor, got {type(t).__name__}; pass other "
                            "values through a closure (they are fixed in the trace)")
    signature = tuple((tuple(t.shape), t.dtype, t.requires_grad) for t in inputs)
    programs: list = []
    recorder = _ForwardRecorder(inputs)
    if state.anomaly or state.forward_level:
        recorder.fail("traced in anomaly mode or with forward-mode AD")
    with _installed("value_read", _refusing_value_reads(func)), _installed("backward", _recording(programs)), \
            _installed("applied", recorder.applied), _installed("created", recorder.created_constant), \
            _installed("bumped", recorder.bumped):
        result = func(*inputs)
    if programs:
        return TracedStep(func, signature, programs, why="the step calls backward(): its forward pass runs eagerly")
    forward = recorder.finish(result)
    return TracedStep(func, signature, programs, forward, recorder.failure)


def _modes() -> tuple:
    """What a forward program depends on besides its inputs: grad mode, anomaly mode, forward-mode AD and
    autocast in the calling thread. A call in other modes than the trace's runs the function eagerly."""
    return (state.grad_enabled, state.anomaly, state.forward_level,
            tuple(is_autocast_enabled(device_type) for device_type in DEVICE_TYPES))


@contextmanager
def _installed(hook: str, value: Callable) -> Iterator[None]:
    """Install ``value`` as this thread's ``_jit_hooks.<hook>`` for the block; the one it replaces (a trace
    or a traced step running this one) comes back after."""
    previous = getattr(_jit_hooks, hook)
    setattr(_jit_hooks, hook, value)
    try:
        yield
    finally:
        setattr(_jit_hooks, hook, previous)


def _recording(programs: list) -> Callable:
    """A ``backward`` hook that runs the engine while recording, and appends the program it saw."""
    def recording_backward(outputs, grad_outputs, retain_graph=None, create_graph=False, inputs=None):
        if not plain_backward(create_graph, inputs):
            programs.append(_EagerBackward("create_graph, inputs=, anomaly mode, forward-mode AD or autocast"))
            return engine._walk_backward(outputs, grad_outputs, retain_graph, create_graph, inputs)
        recorder = _Recorder(outputs)
        with _installed("applied", recorder.applied):
            engine._walk_backward(outputs, grad_outputs, retain_graph, create_graph, inputs, steps=recorder)
        programs.append(_EagerBackward(recorder.failure) if recorder.failure else BackwardProgram(recorder))

    return recording_backward


def _refusing_value_reads(func: Callable) -> Callable[[Tensor, str], None]:
    """A ``value_read`` hook that raises :class:`TracingError` for the step's own reads of a tensor's value.

    Reads inside fukaku's library are let through: they are checks that raise on bad input (GPT's
    token-id range), and they run again on every call (the step's Python runs again; if one made
    another graph, the replayed backward's node check would refuse it). A read in the step's own
    module, or in code outside fukaku, is the step branching on data: refused.
    """
    own_module = getattr(func, "__module__", None)

    def refuse(tensor: Tensor, method: str) -> None:
        caller = sys._getframe(2).f_globals.get("__name__", "")  # who called the Tensor method
        if caller.startswith("fukaku.") and caller != own_module:
            return
        raise TracingError(
            f"fukaku.jit.trace: {_name(func)} reads a tensor's value in Python ({_VALUE_READS[method]}, on a tensor "
            f"of shape {tuple(tensor.shape)}). A branch on it could take another path on another call, which the "
            "trace would not record. Move the branch (or the logging) out of the step, compute it with tensor ops "
            "(fukaku.where), or run the step eagerly")

    return refuse


def _name(func: Callable) -> str:
    return getattr(func, "__qualname__", None) or type(func).__name__
