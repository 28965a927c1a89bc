"""One backward pass as a static program: recorded once from the engine's walk, replayed without it.

The engine (:mod:`fukaku.autograd.engine`) discovers the backward graph on every ``backward()``:
it counts each node's consumers, keeps a ready list, sums gradients in dicts keyed by node, and
runs every node's vjp — Tensor code that wraps each array it makes and builds an op object per
step. A traced step's graph has the same shape on every call, so all of that can be decided once
(seed 000 §6.1.2: a define-then-run framework fixes the graph before the data flows). The
recorder below watches one real ``backward()`` and writes down, in order:

* where each node sits: the loss's ``grad_fn``, or input ``p`` of a node met earlier — so the
  nodes of a later call's graph are found by following the same edges, with no walk and no dicts;
* each node's vjp as a list of array operations (*flat*): the ops its rule ran, their inputs
  named by slot — an array an earlier op produced, the incoming gradient, or what the node holds:
  its saved tensors, output and attributes, and for a one-input elementwise op the array its
  ``derivative()`` returns (ReLU's mask ``y > 0`` is NumPy code, so the program asks the call's node
  for it) — replayed by calling the same ops' ``forward`` on reused input tensors: no Tensor, no
  graph node and no grad-mode check per op;
* the sums of gradients reaching a node or a leaf along several edges, in the order they arrived
  (so the floating-point sums are bitwise those of the engine), and each leaf's ``.grad`` update.

What a flat list may keep from the traced call is what the code fixes: a number or an index a rule
passes to its ops is read again from each call's node when the node holds it (``scale=self.scale``,
``grad * self.scale``: the count a mean divides by changes with the batch), and otherwise taken as a
literal of the rule (the 2 of x²'s derivative). A vjp that computes an array outside an op from
values that change each call, or that writes into an op's result with NumPy, is kept *by rule*: its
vjp runs again, as in the engine, on that call's arrays — and so is every ``Function`` defined
outside fukaku, whose rule the recorder cannot vouch for. A pass the recorder cannot describe
exactly (``create_graph``, ``inputs=``, hooks on graph nodes, anomaly mode, forward-mode AD) is kept
whole and run by the engine.

*Fusion* here means in-place evaluation: an elementwise op (add, sub, mul, div) whose first
operand is a temporary that dies at this op, with the op's output shape and dtype, writes its
result into that operand's buffer (``np.add(a, b, out=a)``) instead of allocating a new array —
a chain of such ops runs in one buffer. Each op is still one pass over memory (one NumPy ufunc
call); a single-pass kernel would need a compiler (numexpr, numba), which fukaku does not require.
"""
from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from ..amp.autocast_mode import DEVICE_TYPES, is_autocast_enabled
from ..autograd import engine
from ..autograd.function import Function
from ..autograd.grad_mode import set_grad_enabled, state
from ..ops.elementwise import Add, Div, Mul, Neg, Sub, _Unary
from ..tensor import Tensor, wrap


class TracingError(RuntimeError):
    """A step that :func:`fukaku.jit.trace` refuses to record, or a call that does not fit its trace.

    The message names what happened and the fix: move a value-dependent branch out of the step,
    trace it again for new shapes, or run the step eagerly.
    """


# ops whose forward is one ufunc of two arrays: the ones an in-place chain may evaluate into a buffer
_IN_PLACE_UFUNCS: dict[type[Function], np.ufunc] = {Add: np.add, Sub: np.subtract, Mul: np.multiply, Div: np.divide}


class _Op:
    """One recorded op: ``fn.forward`` on the arrays of ``in_slots``, the result stored in ``out_slot``."""

    __slots__ = ("fn", "cls", "params", "dynamic", "in_slots", "shells", "out_slot", "ufunc", "in_place")

    def __init__(self, cls: type[Function], params: dict, dynamic: dict[str, object], inputs: Sequence[Tensor],
                 in_slots: list[int], out_slot: int) -> None:
        self.cls, self.params, self.dynamic = cls, params, dynamic
        self.fn = None if dynamic else cls(**params)  # an op without array parameters is built once
        self.in_slots, self.out_slot = in_slots, out_slot
        self.shells = []
        for t in inputs:  # reused each call: only their arrays change
            shell = wrap(t._data)
            shell.requires_grad = t.requires_grad
            self.shells.append(shell)
        self.ufunc = _IN_PLACE_UFUNCS.get(cls) if not params else None
        self.in_place = False

    def reads(self) -> list[int]:
        """Every slot the op reads: its inputs and its array parameters."""
        slots = list(self.in_slots)
        for slot in self.dynamic.values():
            slots += [slot] if type(slot) is int else [item for is_slot, item in slot[1] if is_slot]
        return slots

    def run(self, env: list) -> None:
        if self.in_place:  # the first operand is a temporary that dies here: write into it
            a = env[self.in_slots[0]]
            env[self.out_slot] = self.ufunc(a, env[self.in_slots[1]], out=a)
            return
        shells = self.shells
        for shell, slot in zip(shells, self.in_slots):
            shell._data = env[slot]
        fn = self.fn
        if fn is None:
            params = dict(self.params)
            for name, slot in self.dynamic.items():
                params[name] = env[slot] if type(slot) is int else slot[0](
                    env[item] if is_slot else item for is_slot, item in slot[1])
            fn = self.cls(**params)
        env[self.out_slot] = fn.forward(*shells)
        for shell in shells:  # the arrays are the program's to drop (see BackwardProgram.frees)
            shell._data = None


class _Unit:
    """One node's vjp: flat (a list of ops over slots) or by rule (the node's vjp runs again)."""

    __slots__ = ("index", "cls", "grad_slot", "loads", "ops", "out_slots", "flat", "children", "leaves",
                 "made", "checks_saved", "checks_output", "shape_places", "shapes")

    def __init__(self, index: int, fn: Function, grad_slot: int) -> None:
        self.index, self.cls, self.grad_slot = index, type(fn), grad_slot
        self.shape_places = _shape_places(fn)  # where the node keeps its shapes, and what they were
        self.shapes = _shapes_at(fn, self.shape_places)
        self.loads: list[tuple[str, object, int]] = []  # (what, key, slot): the node's arrays its ops read
        self.ops: list[_Op] = []
        self.out_slots: tuple = ()
        self.flat = True
        self.children: list[tuple[int, int]] = []  # (node index, input position): nodes found through this one
        self.leaves: list[tuple[int, int]] = []    # (leaf index, input position)
        self.made: list[tuple[int, np.ndarray]] = []  # (slot, copy at production): NumPy writes into it show
        self.checks_saved = self.checks_output = False


class _Recorder:
    """Watches one ``backward()`` and collects a :class:`BackwardProgram`: the engine walks the graph with
    this recorder as its steps (seed, vjp, leaf update, leaf hooks: ``engine._walk_backward(steps=)``), and
    :meth:`applied` sees every op :meth:`Function.apply` runs meanwhile in this thread."""

    engine_steps = engine._EngineSteps  # what each of the recorder's steps calls, after noting what it sees

    def __init__(self, outputs: Sequence[Tensor]) -> None:
        self.outputs = outputs
        self.before_hooks: dict[int, int] = {}  # id(a leaf's hooked gradient) -> slot of the gradient before
        self.slot_of: dict[int, int] = {}     # id(array) -> slot
        self.arrays: list[np.ndarray] = []    # each slot's array at trace time (alive, so ids stay unique)
        self.constants: dict[int, np.ndarray] = {}
        self.steps: list[tuple] = []
        self.node_index: dict[int, int] = {}  # id(node) -> its number, in the order nodes are found
        self.node_classes: list[tuple[type, tuple]] = []  # number -> (class, needs_input_grad): the replay's guard
        self.leaf_index: dict[int, int] = {}
        self.leaf_places: list[tuple] = []    # leaf number -> ("output", i) or (node number, input position)
        self.current: _Unit | None = None  # the node whose vjp runs, and what it holds
        self.node: Function | None = None
        self.owned: dict[int, tuple[str, object]] = {}
        self.attributes: dict[int, str] = {}
        self.quiet = 0  # > 0 while the engine does what the program replays as one step
        self.failure: str | None = None
        self.seeds = 0

    def new_slot(self, array: np.ndarray) -> int:
        slot = len(self.arrays)
        self.arrays.append(array)
        self.slot_of[id(array)] = slot
        return slot

    def fail(self, why: str) -> None:
        if self.failure is None:
            self.failure = why

    def resolve(self, array) -> int | None:
        """The slot of an array a recorded op reads, or None when the program could not name it."""
        if not isinstance(array, np.ndarray):
            return None
        slot = self.slot_of.get(id(array))
        if slot is not None:
            return slot
        unit = self.current
        owner = self.owned.get(id(array)) if unit is not None else None
        if owner is not None:  # one of the node's saved tensors, its output or an array attribute
            slot = self.new_slot(array)
            unit.loads.append((*owner, slot))
            unit.checks_saved |= owner[0] == "saved"
            unit.checks_output |= owner[0] == "output"
            return slot
        if array.ndim == 0:
            name = self._scalar_attribute(array) if unit is not None else None
            slot = self.new_slot(array)
            if name is None:  # a fill value or a factor made from Python numbers (constant_like)
                self.constants[slot] = array
            else:  # a number of the node (``grad * self.scale``): made again from the call's node
                unit.loads.append(("scalar attribute", (name, array.dtype), slot))
            return slot
        return None  # e.g. a mask a rule computed with NumPy: only running the rule again recomputes it

    def _scalar_attribute(self, array: np.ndarray) -> str | None:
        """The name of the node's number attribute equal to a 0-d array the rule made, if any."""
        value = array.item()
        for name, attribute in vars(self.node).items():
            if type(attribute) in (int, float) and attribute == value:
                return name
        return None

    def resolve_parameter(self, value):
        """The slot(s) of an op parameter that depends on the call, or ``value`` itself when it is fixed:
        arrays (as :meth:`resolve`), sequences holding arrays (a tuple index, a cache), and — in a rule — any
        object the node holds as an attribute (``scale=self.scale``: this call's node has its own).
        Returns ``(dynamic, resolved)``; ``resolved`` is None when the program cannot name it."""
        if isinstance(value, np.ndarray):
            return True, self.resolve(value)
        unit = self.current
        if unit is not None and value is not None and not isinstance(value, bool):
            name = self.attributes.get(id(value))
            if name is not None:
                slot = self.new_slot(value)
                unit.loads.append(("attribute", name, slot))
                return True, slot
        if isinstance(value, (tuple, list)) and any(isinstance(v, np.ndarray) for v in value) \
                and not any(_holds_arrays(v) and not isinstance(v, np.ndarray) for v in value):
            items = [(True, self.resolve(v)) if isinstance(v, np.ndarray) else (False, v) for v in value]
            return True, None if (True, None) in items else (type(value), items)
        return (True, None) if _holds_arrays(value) else (False, value)

    def _found(self, fn: Function) -> int:
        index = self.node_index[id(fn)] = len(self.node_classes)
        self.node_classes.append((type(fn), fn.needs_input_grad))
        return index

    # -- the engine's steps, as engine._walk_backward(steps=recorder) calls them while it records ----
    def seed(self, out: Tensor, grad) -> Tensor:
        self.quiet += 1
        try:
            g = self.engine_steps.seed(out, grad)
        finally:
            self.quiet -= 1
        i, self.seeds = self.seeds, self.seeds + 1
        self.steps.append(("seed", i, self.new_slot(g._data)))
        node = out.grad_fn
        if node is not None and id(node) not in self.node_index:
            self.steps.append(("root", self._found(node), i))
        return g

    def vjp(self, fn: Function, grad: Tensor) -> tuple:
        index = self.node_index.get(id(fn))
        grad_slot = self.slot_of.get(id(grad._data))
        if fn._hooks or fn._retained is not None:
            self.fail(f"{fn.name} has a hook or a retain_grad()")
        if index is None or grad_slot is None:
            self.fail(f"{fn.name} was reached along an edge the recorder did not see")
            return self.engine_steps.vjp(fn, grad)
        unit = _Unit(index, fn, grad_slot)
        unit.flat = type(fn).__module__.startswith("fukaku.")  # a rule written elsewhere runs as a rule
        for position, producer in enumerate(fn.next_functions):
            if isinstance(producer, Function) and id(producer) not in self.node_index:
                unit.children.append((self._found(producer), position))
            elif isinstance(producer, Tensor) and id(producer) not in self.leaf_index:
                self.leaf_index[id(producer)] = len(self.leaf_places)
                unit.leaves.append((len(self.leaf_places), position))
                self.leaf_places.append((index, position))
        self.current, self.owned, self.node = unit, _arrays_of(fn), fn
        self.attributes = {id(v): name for name, v in vars(fn).items()
                           if v is not None and not isinstance(v, (bool, np.ndarray, Tensor))}
        if isinstance(fn, _Unary):  # its vjp is grad · derivative(): recomputed by the node on each call
            fn.derivative = self._derivative_of(fn)
        try:
            input_grads = self.engine_steps.vjp(fn, grad)
            self._finish(unit, input_grads)
        finally:
            self.current, self.owned, self.node, self.attributes = None, {}, None, {}
            vars(fn).pop("derivative", None)
        self.steps.append(("unit", unit))
        return input_grads

    def _derivative_of(self, fn: _Unary) -> Callable[[], Tensor]:
        """``fn.derivative`` while its vjp is recorded: the array it returns is one the program loads by
        calling ``derivative()`` on the call's node (ReLU's mask ``y > 0`` is NumPy code, not an op)."""
        derivative = type(fn).derivative

        def recorded() -> Tensor:
            self.quiet += 1  # the ops inside are the method's business: the program calls the method
            try:
                d = derivative(fn)
            finally:
                self.quiet -= 1
            self.owned[id(d._data)] = ("derivative", None)
            return d

        return recorded

    def _finish(self, unit: _Unit, input_grads: tuple) -> None:
        """Name the vjp's results; a unit the list cannot describe becomes a unit by rule."""
        if unit.flat and not all(_same_bits(self.arrays[slot], made) for slot, made in unit.made):
            unit.flat = False  # the rule wrote into an op's result with NumPy: the list would miss that
        slots: list[int | None] = []
        if unit.flat:
            for g in input_grads:
                slot = None if g is None else self.resolve(g._data)
                if g is not None and slot is None:
                    unit.flat = False
                    break
                slots.append(slot)
        if not unit.flat:  # its ops are not replayed, so nothing later may name what they made
            for slot in [op.out_slot for op in unit.ops] + [slot for *_, slot in unit.loads]:
                if self.slot_of.get(id(self.arrays[slot])) == slot:
                    del self.slot_of[id(self.arrays[slot])]
            unit.ops, unit.loads = [], []
            slots = [None if g is None else self.new_slot(g._data) for g in input_grads]
        unit.out_slots, unit.made = tuple(slots), []

    def applied(self, cls: type[Function], inputs: tuple, params: dict, out: Tensor) -> None:
        """``Function.apply`` ran ``cls`` on ``inputs`` and made ``out`` (the thread's ``_jit_hooks.applied``)."""
        if self.quiet:
            return
        in_slots = [self.resolve(t._data) if isinstance(t, Tensor) else None for t in inputs]
        static, dynamic = {}, {}
        for name, value in params.items():
            is_dynamic, resolved = self.resolve_parameter(value)
            (dynamic if is_dynamic else static)[name] = resolved
        if None in in_slots or None in dynamic.values():
            if self.current is not None:
                self.current.flat = False
            else:
                self.fail(f"the engine combined gradients with {cls.__name__} on an array it did not record")
            return
        op = _Op(cls, static, dynamic, inputs, in_slots, self.new_slot(out._data))  # type: ignore[arg-type]
        if self.current is not None:
            self.current.ops.append(op)
            self.current.made.append((op.out_slot, out._data.copy()))
        else:  # the engine summing the gradients that reach a node or a leaf along several edges
            self.steps.append(("op", op))

    def run_hooks(self, hooks, grad: Tensor) -> Tensor:
        """A leaf's ``register_hook`` hooks: the program names the gradient before them, and runs them again."""
        self.quiet += 1
        try:
            hooked = self.engine_steps.run_hooks(hooks, grad)
        finally:
            self.quiet -= 1
        slot = self.slot_of.get(id(grad._data))
        if slot is not None:
            self.before_hooks[id(hooked._data)] = slot
        return hooked

    def accumulate_grad(self, leaf: Tensor, g: Tensor, create_graph: bool, assigned: set[int]) -> None:
        index = self.leaf_index.get(id(leaf))
        if index is None and any(out is leaf for out in self.outputs):  # backward() called on a leaf itself
            index = self.leaf_index[id(leaf)] = len(self.leaf_places)
            self.leaf_places.append(("output", next(i for i, out in enumerate(self.outputs) if out is leaf)))
        slot = self.before_hooks.get(id(g._data), self.slot_of.get(id(g._data))) if leaf._hooks \
            else self.slot_of.get(id(g._data))
        if index is None or slot is None:
            self.fail("a leaf's gradient came from an array the recorder did not see")
        else:
            self.steps.append(("leaf", index, slot))
        self.quiet += 1
        try:
            self.engine_steps.accumulate_grad(leaf, g, create_graph, assigned)
        finally:
            self.quiet -= 1


def _arrays_of(fn: Function) -> dict[int, tuple[str, object]]:
    """The arrays a node holds for its rule, by id: saved tensors, its output, array attributes."""
    owned: dict[int, tuple[str, object]] = {}
    for name, value in vars(fn).items():
        if isinstance(value, np.ndarray):
            owned.setdefault(id(value), ("attribute", name))
        elif isinstance(value, Tensor) and name != "_retained":
            owned.setdefault(id(value._data), ("tensor attribute", name))
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, np.ndarray):
                    owned.setdefault(id(item), ("attribute item", (name, i)))
    if fn._out_data is not None:
        owned[id(fn._out_data)] = ("output", None)
    for i, t in enumerate(fn._saved):
        owned[id(t._data)] = ("saved", i)
    return owned


def plain_backward(create_graph: bool, inputs) -> bool:
    """Whether a ``backward()`` is one a program describes: no ``create_graph``, no ``inputs=``, and no mode
    that changes what the ops compute or check in the calling thread (anomaly detection, forward-mode AD, an
    enabled autocast region)."""
    return not (create_graph or inputs is not None or state.anomaly or state.forward_level
                or any(is_autocast_enabled(device_type) for device_type in DEVICE_TYPES))


def _shape_places(fn: Function) -> tuple[tuple[str, object], ...]:
    """Where a node keeps the shapes of its inputs and output: its saved tensors, its saved output, and its
    attributes named ``*shape``/``*shapes`` (``Sum.in_shape``, a binary op's ``a_shape``), which its forward
    sets from its inputs. A shape that depends on the data (``y[y > 0]``) shows there on the next node."""
    places: list[tuple[str, object]] = [("saved", i) for i in range(len(fn._saved))]
    if fn._out_data is not None:
        places.append(("output", None))
    places += [("attribute", name) for name, value in vars(fn).items()
               if name.endswith(("shape", "shapes")) and isinstance(value, (tuple, list))]
    return tuple(places)


def _shapes_at(fn: Function, places: tuple[tuple[str, object], ...]) -> tuple:
    """The shapes a node keeps at ``places`` (:func:`_shape_places`), in that order (None where it keeps none)."""
    saved, output = fn._saved, fn._out_data
    return tuple((saved[key]._data.shape if key < len(saved) else None) if what == "saved"
                 else (None if output is None else output.shape) if what == "output"
                 else getattr(fn, key, None) for what, key in places)


def _holds_arrays(value) -> bool:
    if isinstance(value, (Tensor, np.ndarray)):
        return True
    if isinstance(value, (list, tuple)):
        return any(_holds_arrays(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_arrays(v) for v in value.values())
    return False


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


class BackwardProgram:
    """A recorded ``backward()``, replayed by :meth:`run` on the graph a later call of the step built."""

    def __init__(self, recorder: _Recorder) -> None:
        self.steps = recorder.steps
        self.node_classes = recorder.node_classes
        self.leaf_places = recorder.leaf_places
        self.n_outputs = recorder.seeds
        self.template: list = [None] * len(recorder.arrays)
        for slot, array in recorder.constants.items():
            self.template[slot] = array
        units = [step[1] for step in self.steps if step[0] == "unit"]
        self.flat_nodes = sum(1 for unit in units if unit.flat)
        self.rule_nodes = len(units) - self.flat_nodes
        ops = [step[1] for step in self.steps if step[0] == "op"]
        ops += [op for step in self.steps if step[0] == "unit" for op in step[1].ops]
        self.in_place_ops = _plan_in_place(self.steps, ops, recorder.arrays)
        self.frees = drops_after_last_use([_slots_of(step) for step in self.steps])
        self._shells = [shell for op in ops for shell in op.shells]
        self._empty_shells()
        self._running = threading.Lock()  # a replay fills the shells: calls from several threads take turns

    def _empty_shells(self) -> None:
        """Drop the arrays the reused input tensors point at: nothing of a call outlives it."""
        for shell in self._shells:
            shell._data = None

    def run(self, outputs: Sequence[Tensor], grad_outputs: Sequence, retain_graph: bool | None = None,
            create_graph: bool = False, inputs=None) -> None:
        """``run_backward``'s contract, from the program: every leaf's ``.grad`` as the engine leaves it."""
        if not plain_backward(create_graph, inputs) or len(outputs) != self.n_outputs:
            raise TracingError(
                "fukaku.jit: this call's backward() differs from the traced one (create_graph, inputs=, anomaly "
                f"mode, forward-mode AD, autocast, or the number of outputs: {len(outputs)} here, {self.n_outputs} "
                "traced); trace the step again, or run it eagerly")
        with self._running:
            self._replay(outputs, grad_outputs, not retain_graph)

    def _replay(self, outputs: Sequence[Tensor], grad_outputs: Sequence, release: bool) -> None:
        assigned = {id(g._data) for g in grad_outputs if isinstance(g, Tensor)}  # arrays a leaf must not adopt
        env = list(self.template)
        nodes: list = [None] * len(self.node_classes)
        leaves: list = [None] * len(self.leaf_places)
        try:
            with engine._final_callbacks.scope() as run_final_callbacks:
                with set_grad_enabled(False):
                    for step, frees in zip(self.steps, self.frees):
                        kind = step[0]
                        if kind == "unit":
                            self._run_unit(step[1], env, nodes, leaves, release)
                        elif kind == "op":
                            step[1].run(env)
                        elif kind == "leaf":
                            leaf = leaves[step[1]]
                            if leaf is None:  # backward() on a leaf itself
                                leaf = leaves[step[1]] = outputs[self.leaf_places[step[1]][1]]
                            g = wrap(env[step[2]])
                            if leaf._hooks:
                                g = engine._run_hooks(leaf._hooks, g)
                            engine._accumulate_grad(leaf, g, False, assigned)
                        elif kind == "seed":
                            env[step[2]] = engine._seed_gradient(outputs[step[1]], grad_outputs[step[1]])._data
                        else:  # "root": the node that made an output
                            nodes[step[1]] = self._checked(outputs[step[2]].grad_fn, step[1], "the output's grad_fn")
                        for slot in frees:  # read by no later step: dropped, as the engine drops it
                            env[slot] = None
                run_final_callbacks()  # queue_callback, as run_backward runs them
        finally:
            self._empty_shells()

    def _run_unit(self, unit: _Unit, env: list, nodes: list, leaves: list, release: bool) -> None:
        node = nodes[unit.index]
        if unit.shape_places and _shapes_at(node, unit.shape_places) != unit.shapes:
            self._refuse_shapes(node, unit)
        if unit.flat:
            if unit.checks_saved:
                node.saved  # noqa: B018  (raises the engine's error if a saved tensor was modified in place)
            if unit.checks_output and node._out_version.value != node._out_saved_at:
                node.output  # noqa: B018  (likewise for a modified output)
            for what, key, slot in unit.loads:
                if what == "saved":
                    env[slot] = node._saved[key]._data
                elif what == "output":
                    env[slot] = node._out_data
                elif what == "attribute":
                    env[slot] = getattr(node, key)
                elif what == "attribute item":
                    env[slot] = getattr(node, key[0])[key[1]]
                elif what == "derivative":
                    env[slot] = node.derivative()._data
                elif what == "scalar attribute":
                    env[slot] = np.asarray(getattr(node, key[0]), dtype=key[1])
                else:
                    env[slot] = getattr(node, key)._data
            for op in unit.ops:
                op.run(env)
        else:
            input_grads = engine._vjp(node, wrap(env[unit.grad_slot]))
            for slot, g in zip(unit.out_slots, input_grads):
                if (slot is None) != (g is None):
                    raise TracingError(f"fukaku.jit: {node.name}'s vjp returned gradients for other inputs than when "
                                       "traced; trace the step again, or run it eagerly")
                if slot is not None:
                    env[slot] = g._data
        if unit.children or unit.leaves:
            edges = node.next_functions
            for index, position in unit.children:
                nodes[index] = self._checked(edges[position], index, f"input {position} of {unit.cls.__name__}")
            for index, position in unit.leaves:
                leaves[index] = edges[position]
        if release:
            node.release()

    @staticmethod
    def _refuse_shapes(node: Function, unit: _Unit) -> None:
        """Raise for a node whose shapes differ from the trace: the program's ops have the traced shapes."""
        (what, key), traced, new = next((place, old, new) for place, old, new
                                        in zip(unit.shape_places, unit.shapes, _shapes_at(node, unit.shape_places))
                                        if old != new)
        where = {"saved": f"saved tensor {key}", "output": "output"}.get(what, key)
        raise TracingError(
            f"fukaku.jit: a shape in this call's graph differs from the trace: {unit.cls.__name__} (node {unit.index}) "
            f"has {where} {new} here, {traced} when traced. An intermediate shape depends "
            "on the data (boolean-mask indexing such as y[y > 0], nonzero), and the recorded program has the traced "
            "shapes; trace the step again for this data, or run it eagerly")

    def _checked(self, node, index: int, where: str) -> Function:
        """The node a call's graph has where the trace had node ``index``, after checking it is the same op."""
        cls, needs = self.node_classes[index]
        if type(node) is not cls or node.needs_input_grad != needs:
            found = "nothing" if node is None else f"{type(node).__name__} (needs_input_grad={node.needs_input_grad})"
            raise TracingError(
                f"fukaku.jit: this call built a different graph from the traced one: at {where} it has {found}, the "
                f"trace recorded {cls.__name__} (needs_input_grad={needs}). The step's Python took another path (a "
                "branch on a Python value, a different requires_grad); trace it again, or run it eagerly")
        return node


def drops_after_last_use(slots_by_step: list[list[int]], kept: frozenset[int] = frozenset()
                         ) -> list[tuple[int, ...]]:
    """For each step of a program, given the slots each step names, the slots (not in ``kept``) that no later
    step names: a replay drops them once the step has run, so that an array is freed when eager mode would free
    it (a gradient when the engine has used it), not at the end of the program."""
    last: dict[int, int] = {}
    for i, slots in enumerate(slots_by_step):
        for slot in slots:
            last[slot] = i
    drops: list[list[int]] = [[] for _ in slots_by_step]
    for slot, i in last.items():
        if slot not in kept:
            drops[i].append(slot)
    return [tuple(d) for d in drops]


def _slots_of(step: tuple) -> list[int]:
    """Every slot a step of a backward program names."""
    kind = step[0]
    if kind == "op":
        return [*step[1].reads(), step[1].out_slot]
    if kind in ("leaf", "seed"):
        return [step[2]]
    if kind == "unit":
        unit = step[1]
        slots = [unit.grad_slot, *(slot for *_, slot in unit.loads)]
        slots += [slot for op in unit.ops for slot in (*op.reads(), op.out_slot)]
        return slots + [slot for slot in unit.out_slots if slot is not None]
    return []


def _owner(array: np.ndarray):
    """The object that owns ``array``'s memory: the array itself, or the base NumPy points its views at."""
    return array if array.base is None else array.base


def _plan_in_place(steps: list[tuple], ops: list[_Op], arrays: list) -> int:
    """Let each add/sub/mul/div whose first operand is a temporary dying there write into it; return how many.

    A temporary qualifies when a replayed add/sub/mul/div/neg made it (those always return a fresh
    array), it is read by nothing after this op, it does not leave the program (a leaf may adopt a
    gradient as its ``.grad``; a rule keeps what it is given), no other array of the trace shares its memory
    (a view of it, or of the buffer it lies on), and it has the result's shape and dtype (so the same ufunc
    loop runs and nothing is cast).
    """
    fresh = {op.out_slot for op in ops if op.cls in _IN_PLACE_UFUNCS or op.cls is Neg}
    # arrays sharing memory share its owner (NumPy points every view at the owner): a large result of the
    # caching allocator is itself a view of its buffer, so the count is by owner, not by "is a base"
    sharing = Counter(id(_owner(a)) for a in arrays if isinstance(a, np.ndarray))
    last_use: dict[int, object] = {}
    escaping: set[int] = set()
    for step in steps:
        kind = step[0]
        if kind == "op":
            for slot in step[1].reads():
                last_use[slot] = step[1]
        elif kind == "leaf":
            escaping.add(step[2])
        elif kind == "unit":
            unit = step[1]
            if unit.flat:
                for op in unit.ops:
                    for slot in op.reads():
                        last_use[slot] = op
            else:
                escaping.add(unit.grad_slot)
    count = 0
    for op in ops:
        if op.ufunc is None:
            continue
        a, b = op.in_slots
        result = arrays[op.out_slot]
        if (a in fresh and a != b and last_use.get(a) is op and a not in escaping and sharing[id(_owner(arrays[a]))] == 1
                and arrays[a].shape == result.shape and arrays[a].dtype == result.dtype):
            op.in_place = True
            count += 1
    return count
