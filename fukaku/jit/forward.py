"""A traced function's forward pass as a static program, replayed without the Python that built it.

When the function :func:`fukaku.jit.trace` records calls no ``backward()`` — a model, a loss, any
function of tensors to tensors — its whole forward pass can be fixed once (seed 000 §6.1.2:
define-then-run). The recorder below watches the traced call and writes down each op
:meth:`Function.apply` runs: its class, its parameters, and where each input comes from:

* an input of the call, or the result of an earlier op: a slot of the program;
* a tensor that existed before the call (a parameter, a buffer, a tensor held by a closure): read
  again on every call, so an optimizer's in-place update or a reassigned ``.data`` is seen;
* a constant: a 0-d array made from Python numbers (``x * 2``), or a tensor a creation function made
  from Python values alone (``fukaku.arange(T)``, ``fukaku.ones(T, T)``), kept as traced.

Anything else an op reads — an array computed from the data with NumPy between ops, a random draw outside
an op, a NumPy scalar computed from arrays and passed as a parameter — would be the traced
call's value on every later call, so the recorder does not make a program: the traced function then
runs eagerly on every call, exact, and ``TracedStep.why`` says which op and which input stopped it.
So does a call that modifies, outside fukaku's ops, a tensor that existed before it (a counter buffer
a module advances in its Python) or a tensor an op made (``h.relu_()`` under ``no_grad``): a program
would not repeat the modification. What an op's own forward pass modifies (BatchNorm's running
statistics) is modified again by the replay.

A replayed call runs the recorded ops' ``forward`` one after another on the call's tensors: no module
call, no functional layer, no autocast or device check. When grad mode is on, each op that was a node of
the traced graph is linked again as one (:meth:`Function.link`: its ``next_functions`` from the recorded
slots), so ``backward()`` walks the same graph as eagerly: the same order, the same sums, bitwise the
eager gradients, with ``retain_graph``, ``create_graph`` and hooks as in eager mode.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .._device import CPU
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..tensor import Tensor, _jit_hooks, _next_serial, wrap
from .program import TracingError, _holds_arrays, drops_after_last_use


class _ForwardOp:
    """One recorded op: ``cls(**params)`` run on the tensors of ``in_slots``, its result stored in ``out_slot``.

    ``dynamic`` names the parameters read from slots on each call (``("array", slot)``, ``("tensor", slot)``
    or ``("seq", type, items)``); ``needs`` is the op's ``needs_input_grad`` in the traced graph (None when
    the op was not a node of it).
    """

    __slots__ = ("cls", "params", "dynamic", "in_slots", "out_slot", "needs")

    def __init__(self, cls: type[Function], params: dict, dynamic: dict, in_slots: list[int], out_slot: int,
                 needs: tuple[bool, ...] | None) -> None:
        self.cls, self.params, self.dynamic = cls, params, dynamic
        self.in_slots, self.out_slot, self.needs = in_slots, out_slot, needs

    def run(self, env: list, link: bool) -> None:
        """Run the op on this call's tensors and store its result tensor in ``env``; with ``link``, make it a
        node of the graph when it was one in the traced call."""
        params = self.params
        if self.dynamic:
            params = dict(params)
            for name, ref in self.dynamic.items():
                params[name] = _load(ref, env)
        fn = self.cls(**params)
        inputs = [env[slot] for slot in self.in_slots]
        out = env[self.out_slot] = fn.output_of(inputs, params, fn.forward(*inputs))
        if link and self.needs is not None:
            fn.link(inputs, self.needs, out)


def _load(ref: tuple, env: list):
    kind = ref[0]
    if kind == "tensor":
        return env[ref[1]]
    if kind == "array":
        return env[ref[1]]._data
    if kind == "seq":
        return ref[1](_load(item, env) for item in ref[2])
    return ref[1]  # "value": fixed by the code


class _ForwardRecorder:
    """Watches one call of a traced function (``applied`` sees every op) and collects a :class:`ForwardProgram`,
    or the reason there can be none (``failure``)."""

    def __init__(self, inputs: Sequence[Tensor]) -> None:
        self.start = _next_serial()  # tensors made before the call have smaller serials
        self.slot_of: dict[int, int] = {}     # id(array) -> slot
        self.tensors: list[Tensor] = []       # each slot's tensor at trace time
        self.produced_at: list[int] = []      # each slot's version when it was produced (or first read)
        self.ops: list[_ForwardOp] = []
        self.persistent: list[tuple[int, Tensor]] = []
        self.constants: dict[int, Tensor] = {}
        self.created: set[int] = set()        # ids of arrays creation functions made from Python values
        self.kept: list[Tensor] = []
        self.failure: str | None = None
        self.input_slots = [self.new_slot(t) for t in inputs]
        if len(self.slot_of) < len(inputs):  # an op reading that array could not say which input it read
            self.fail("two inputs of the traced call share one array; trace it with distinct tensors")

    def fail(self, why: str) -> None:
        if self.failure is None:
            self.failure = why

    def new_slot(self, tensor: Tensor) -> int:
        slot = len(self.tensors)
        self.tensors.append(tensor)
        self.produced_at.append(tensor._version.value)
        self.slot_of[id(tensor._data)] = slot
        return slot

    def created_constant(self, tensor: Tensor) -> None:
        """``_jit_hooks.created``: a creation function made ``tensor`` from Python values alone."""
        self.created.add(id(tensor._data))
        self.kept.append(tensor)  # keeps the array alive, so its id is not reused during the call

    def resolve(self, t: Tensor, what: str, op: str) -> int | None:
        """The slot of a tensor an op reads (see the module's docstring), or None after :meth:`fail`."""
        slot = self.slot_of.get(id(t._data))
        if slot is None:
            return self.source(t._data, t if t._version.serial < self.start else None, what, op)
        if t._version.value != self.produced_at[slot]:
            self.fail(f"{op} reads {what}, a tensor of shape {tuple(t.shape)} modified in place outside fukaku's ops "
                      "since it was made; a program would not repeat the modification")
            return None
        return slot

    def source(self, array: np.ndarray, owner: Tensor | None, what: str, op: str) -> int | None:
        """A new slot for an array no recorded op made: that of ``owner``, a tensor made before the call (read
        again on each call); a constant; or None after :meth:`fail`."""
        if owner is not None:
            slot = self.new_slot(owner)
            self.persistent.append((slot, owner))
            return slot
        if array.ndim == 0 or id(array) in self.created:
            slot = self.new_slot(wrap(array))
            self.constants[slot] = self.tensors[slot]
            return slot
        self.fail(f"{op} reads {what}, an array of shape {array.shape} computed outside fukaku's ops (from the data "
                  "with NumPy, or drawn at random outside an op); a program would keep the traced call's")
        return None

    def parameter(self, value, name: str, op: str):
        """How a program gets an op parameter on each call (a ref of :func:`_load`), or None after :meth:`fail`."""
        if isinstance(value, Tensor):
            slot = self.resolve(value, f"its parameter {name!r}", op)
            return None if slot is None else ("tensor", slot)
        if isinstance(value, np.ndarray):
            slot = self.slot_of.get(id(value))
            slot = self.source(value, None, f"its parameter {name!r}", op) if slot is None else slot
            return None if slot is None else ("array", slot)
        if isinstance(value, (tuple, list)) and _holds_arrays(value):
            items = [self.parameter(item, name, op) for item in value]
            return None if None in items else ("seq", type(value), items)
        if _holds_arrays(value) or isinstance(value, np.generic):
            self.fail(f"{op}'s parameter {name!r} is computed from arrays outside fukaku's ops "
                      f"({type(value).__name__}); a program would keep the traced call's value")
            return None
        return ("value", value)

    def applied(self, cls: type[Function], inputs: Sequence[Tensor], params: dict, out: Tensor) -> None:
        """``_jit_hooks.applied``: record the op ``Function.apply`` has just run."""
        if self.failure is not None:
            return
        op = cls.__name__
        if out.device is not CPU:
            self.fail(f"{op} ran on {out.device}: a forward program is recorded on the CPU backend only")
            return
        in_slots = [self.resolve(t, f"input {i}", op) for i, t in enumerate(inputs)]
        static, dynamic = {}, {}
        for name, value in params.items():
            ref = self.parameter(value, name, op)
            if ref is None:
                return
            if ref[0] == "value":
                static[name] = value
            else:
                dynamic[name] = ref
        if self.failure is not None:
            return
        needs = out.grad_fn.needs_input_grad if out.grad_fn is not None else None
        self.ops.append(_ForwardOp(cls, static, dynamic, in_slots, self.new_slot(out), needs))

    def bumped(self, t: Tensor) -> None:
        """``_jit_hooks.bumped``: a tensor was modified in place; one made before the call cannot be, unless an op's
        forward pass does it (BatchNorm's running statistics): a replay runs that forward pass again."""
        if t._version.serial < self.start and not _jit_hooks.in_op:
            self.fail(f"the call modified a tensor of shape {tuple(t.shape)} that existed before it, outside fukaku's "
                      "ops (a buffer a module updates in its Python, or an input); a program would not")

    def finish(self, result) -> ForwardProgram | None:
        """The program of the call that returned ``result``, or None (``failure`` says why)."""
        outputs = self.output_refs(result)
        if self.failure is not None:
            return None
        return ForwardProgram(self, outputs)

    def output_refs(self, value):
        """The traced result as a structure of slots: ``("tensor", slot)``, ``("seq", type, items)``,
        ``("dict", keys, items)`` or ``("value", v)``."""
        if isinstance(value, Tensor):
            slot = self.resolve(value, "the result", "the traced function")
            return None if slot is None else ("tensor", slot)
        if isinstance(value, (tuple, list)):
            return ("seq", type(value), [self.output_refs(v) for v in value])
        if isinstance(value, dict):
            return ("dict", list(value), [self.output_refs(v) for v in value.values()])
        if _holds_arrays(value):
            self.fail(f"the traced function returns {type(value).__name__} holding arrays; return tensors")
        return ("value", value)


class ForwardProgram:
    """A recorded forward pass: :meth:`run` replays it on a call's inputs and returns what the function did."""

    def __init__(self, recorder: _ForwardRecorder, outputs) -> None:
        self.ops = recorder.ops
        self.input_slots = recorder.input_slots
        self.persistent = recorder.persistent
        self.outputs = outputs
        self.template: list = [None] * len(recorder.tensors)
        for slot, t in recorder.constants.items():
            self.template[slot] = t
        self.requires_grad = [(t, t.requires_grad) for _, t in self.persistent]
        self.frees = drops_after_last_use([[*op.in_slots, *_ref_slots(list(op.dynamic.values())), op.out_slot]
                                           for op in self.ops], frozenset(_tensor_slots(outputs)))
        self.shapes = [(tuple(t.shape), t.dtype) for t in recorder.tensors]  # each slot's, for the listing

    def __str__(self) -> str:
        """The program as a listing, one op per line (what ``TracedStep.graph`` and ``.code`` show)."""
        def kind(t) -> str:
            return f"{tuple(t.shape)} {t.dtype}"

        lines = [f"%{slot} = input {i}: {shape} {dtype}" for i, slot in enumerate(self.input_slots)
                 for shape, dtype in [self.shapes[slot]]]
        lines += [f"%{slot} = read each call: {kind(t)}" for slot, t in self.persistent]
        lines += [f"%{slot} = constant: {kind(t)}" for slot, t in enumerate(self.template) if t is not None]
        for op in self.ops:
            args = [f"%{slot}" for slot in op.in_slots]
            args += [f"{name}={_show(ref)}" for name, ref in op.dynamic.items()]
            args += [f"{name}={_short(value)}" for name, value in op.params.items()]
            shape, dtype = self.shapes[op.out_slot]
            lines.append(f"%{op.out_slot} = {op.cls.__name__}({', '.join(args)}): {shape} {dtype}")
        lines.append(f"return {_show(self.outputs)}")
        return "\n".join(lines)

    def run(self, inputs: Sequence[Tensor]):
        """Replay the forward pass on ``inputs`` (checked against the trace by the caller) and return what the
        traced function returned, built from this call's tensors."""
        for t, requires_grad in self.requires_grad:
            if t.requires_grad != requires_grad:
                raise TracingError(f"fukaku.jit: a tensor of shape {tuple(t.shape)} the traced function reads has "
                                   f"requires_grad={t.requires_grad} now, {requires_grad} when traced; trace it again")
        env = list(self.template)
        for slot, t in zip(self.input_slots, inputs):
            env[slot] = t
        for slot, t in self.persistent:
            env[slot] = t
        link = state.grad_enabled
        for op, frees in zip(self.ops, self.frees):
            op.run(env, link)
            for slot in frees:  # what no later op reads is dropped, as eagerly (the graph keeps what it saved)
                env[slot] = None
        return _build(self.outputs, env)


def _ref_slots(refs: list) -> list[int]:
    """The slots named by parameter refs (see :func:`_load`)."""
    slots: list[int] = []
    for ref in refs:
        if ref[0] in ("tensor", "array"):
            slots.append(ref[1])
        elif ref[0] == "seq":
            slots += _ref_slots(ref[2])
    return slots


def _tensor_slots(ref) -> list[int]:
    """The slots of the tensors in a result ref (see :meth:`_ForwardRecorder.output_refs`)."""
    if ref[0] == "tensor":
        return [ref[1]]
    if ref[0] in ("seq", "dict"):
        return [slot for item in ref[2] for slot in _tensor_slots(item)]
    return []


def _show(ref) -> str:
    """A ref of :func:`_load` or of the result, as the listing writes it."""
    kind = ref[0]
    if kind in ("tensor", "array"):
        return f"%{ref[1]}"
    if kind == "seq":
        return "(" + ", ".join(_show(item) for item in ref[2]) + ")"
    if kind == "dict":
        return "{" + ", ".join(f"{key!r}: {_show(item)}" for key, item in zip(ref[1], ref[2])) + "}"
    return _short(ref[1])


def _short(value) -> str:
    """A parameter as the listing writes it: numbers, strings and small tuples as they are, objects by type."""
    if value is None or isinstance(value, (bool, int, float, str)) or (
            isinstance(value, tuple) and len(value) <= 8 and all(isinstance(v, (int, float, tuple)) for v in value)):
        return repr(value)
    return f"<{type(value).__name__}>"


def _build(ref, env: list):
    """The function's result from this call's tensors in ``env``, in the traced structure."""
    kind = ref[0]
    if kind == "tensor":
        return env[ref[1]]
    if kind == "seq":
        return ref[1](_build(item, env) for item in ref[2])
    if kind == "dict":
        return dict(zip(ref[1], (_build(item, env) for item in ref[2])))
    return ref[1]
