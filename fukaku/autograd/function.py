"""``Function``: one differentiable op, its forward, reverse rule (vjp) and forward rule (jvp).

Every op in :mod:`fukaku.ops` is a subclass. ``forward`` computes the output array with NumPy;
``vjp`` maps the output's gradient to the inputs' gradients; ``jvp`` maps the inputs' tangents to
the output's tangent. Both rules are written with Tensor ops, so running them with grad recording
on builds a graph of the backward pass (higher-order derivatives), and running ``vjp`` on dual
tensors carries tangents through the backward pass (forward-over-reverse Hessian products).

A Function that was recorded is a node of the graph: ``next_functions`` points at the nodes (or
leaf tensors) that produced its inputs, and the saved tensors hold what the rules need.
"""
from __future__ import annotations

import traceback

import numpy as np

from .._device import CPU, DeviceError
from ..backends import DEVICE_MODULES, array_module
from ..tensor import Tensor, _jit_hooks, made_from_python, wrap
from .grad_mode import state


def _check_one_device(op: str, inputs: tuple) -> tuple:
    """``inputs`` on one device: refuse tensors on different devices with PyTorch's message, naming the
    op and the fix. A 0-d CPU tensor goes with a tensor of any device, as in PyTorch (``x_cuda *
    fukaku.tensor(2.)``): it is copied to that device, gradient and all."""
    first = None
    for t in inputs:
        if isinstance(t, Tensor) and not (t._data.ndim == 0 and t.device is CPU):
            if first is None:
                first = t.device
            elif t.device != first:
                raise DeviceError(f"{op}: Expected all tensors to be on the same device, but found at least two "
                                  f"devices, {first} and {t.device}! Move them to one device first, e.g. "
                                  f"x.to('{first}')")
    if first is None or first is CPU:
        return inputs
    return tuple(t.to(first) if isinstance(t, Tensor) and t.device is CPU else t for t in inputs)


class Function:
    """Base class of differentiable ops. Subclasses define ``forward``, ``vjp`` and ``jvp``.

    * ``__init__(self, ...)`` — the op's parameters (a dim, an exponent, a dtype), passed to
      ``apply`` as keywords: ``PowScalar.apply(x, exponent=2.0)`` builds ``PowScalar(exponent=2.0)``.
      Ops without parameters define none.
    * ``forward(self, *inputs: Tensor) -> np.ndarray`` — read ``x._data``; call ``self.save(...)``
      for the tensors the rules need.
    * ``vjp(self, grad: Tensor)`` — one gradient (or None) per input; a single Tensor for one input.
      Only inputs with ``self.needs_input_grad[i]`` need a gradient.
    * ``jvp(self, *tangents)`` — the output's tangent; a tangent is None for an input without one.
    * ``saves_output = True`` makes ``self.output`` (the result, as a tensor of this graph) available.
    * ``is_view = True`` marks ops whose output may share memory with input 0. When it does, the
      output shares input 0's version counter and remembers its base and how to make the view again
      (``tensor._view``: see :class:`ViewOf`), so an in-place op on the view writes through to its base
      in the graph as well as in memory (:mod:`fukaku.ops.inplace`).
    """

    differentiable = True
    saves_output = False
    is_view = False
    needs_input_grad: tuple[bool, ...] = ()
    next_functions: tuple = ()
    _saved: tuple = ()
    _saved_versions: tuple = ()
    _out_data = None
    _out_version = None
    _out_tangent = None
    _released = False
    _retained = None
    _hooks = None
    _stack = None
    _autocast = None  # fukaku.amp's hook, set while an autocast region is open in any thread

    @classmethod
    def apply(cls, *inputs: Tensor, **params) -> Tensor:
        """Run the op on tensors; record it in the graph when grad mode is on and an input requires grad."""
        if Function._autocast is not None and (cast := Function._autocast(cls, inputs, params)) is not None:
            return cast  # run under its autocast policy (fukaku.amp.autocast_mode)
        fn = cls(**params)  # an op declares its parameters in __init__: an unknown keyword is a TypeError
        if DEVICE_MODULES and len(inputs) > 1:  # a GPU is in use: inputs on two devices cannot be combined
            inputs = _check_one_device(cls.__name__, inputs)
        applied = _jit_hooks.applied
        if applied is None:
            data = fn.forward(*inputs)
        else:  # fukaku.jit records in this thread: what the forward pass modifies in place is the op's own doing
            _jit_hooks.in_op += 1
            try:
                data = fn.forward(*inputs)
            finally:
                _jit_hooks.in_op -= 1
        out = fn.output_of(inputs, params, data)
        if state.grad_enabled and cls.differentiable:
            needs = tuple([t.requires_grad for t in inputs])
            if True in needs:
                fn.link(inputs, needs, out)
                if state.anomaly:
                    fn._stack = traceback.format_stack()[:-2]
        level = state.forward_level
        if level and not state.forward_suspended and cls.differentiable:
            tangents = [t._tangent[1] if t._tangent is not None and t._tangent[0] == level else None
                        for t in inputs]
            if any(d is not None for d in tangents):
                state.forward_suspended = True  # a jvp rule's own ops carry no tangents
                try:
                    tangent = fn.jvp(*tangents)
                finally:
                    state.forward_suspended = False
                out._tangent = fn._out_tangent = (level, tangent)
        if state.anomaly:
            from .anomaly import check_forward
            check_forward(cls, inputs, data)
        if applied is not None:  # fukaku.jit recording a forward or a backward pass in this thread
            applied(cls, inputs, params, out)
        return out

    def output_of(self, inputs: tuple[Tensor, ...], params: dict, data: np.ndarray) -> Tensor:
        """The tensor around the array ``forward`` returned: a view op's result shares its input's version
        counter and remembers how it was made; an op that saves its output keeps it."""
        out = wrap(data)
        if self.is_view and _shares_memory(data, inputs[0]._data):
            out._version = inputs[0]._version
            out._view = ViewOf(inputs[0], type(self), params)
        if self.saves_output:
            self._out_data = data
            self._out_version = out._version
            self._out_saved_at = out._version.value
        return out

    def link(self, inputs: tuple[Tensor, ...], needs: tuple[bool, ...], out: Tensor) -> None:
        """Make this op a node of the graph: ``out``'s ``grad_fn``, pointing at the nodes (or leaves) that made
        the inputs whose ``needs`` is True."""
        self.needs_input_grad = needs
        self.next_functions = tuple([t.grad_fn if t.grad_fn is not None else (t if t.requires_grad else None)
                                     for t in inputs])
        out.requires_grad = True
        out.grad_fn = self

    # -- saved tensors ----------------------------------------------------------------------
    def save(self, *tensors: Tensor) -> None:
        """Keep input tensors for the rules; their version is checked when they are used."""
        self._saved = tensors
        self._saved_versions = tuple([t._version.value for t in tensors])

    @property
    def saved(self) -> tuple[Tensor, ...]:
        if self._released:
            raise _freed_error(self)
        for t, v in zip(self._saved, self._saved_versions):
            if t._version.value != v:
                raise RuntimeError(
                    f"one of the tensors needed by {self.name} for gradient computation has been modified by "
                    f"an in-place operation: a tensor of shape {tuple(t.shape)} is at version {t._version.value}, "
                    f"expected version {v}. Use an out-of-place op (x = x + y instead of x += y), or clone() it "
                    "before modifying it"
                )
        return self._saved

    @property
    def output(self) -> Tensor:
        """The op's result as a tensor of this graph (so rules that use it stay differentiable)."""
        if self._released:
            raise _freed_error(self)
        if self._out_version.value != self._out_saved_at:
            raise RuntimeError(f"the output of {self.name}, needed for its gradient, was modified by an in-place operation")
        out = wrap(self._out_data)
        if self.needs_input_grad:
            out.requires_grad = True
            out.grad_fn = self
        out._tangent = self._out_tangent
        return out

    def release(self) -> None:
        """Free saved buffers after backward (``retain_graph=False``)."""
        self._saved = ()
        self._out_data = None
        self._out_tangent = None
        self.next_functions = ()
        self._released = True

    @property
    def name(self) -> str:
        return type(self).__name__

    # -- rules (subclasses) ---------------------------------------------------------------
    def forward(self, *inputs: Tensor) -> np.ndarray:
        raise NotImplementedError(f"{self.name} defines no forward")

    def vjp(self, grad: Tensor):
        raise RuntimeError(f"{self.name} is not differentiable in reverse mode")

    def jvp(self, *tangents):
        raise RuntimeError(f"{self.name} is not differentiable in forward mode")

    def __repr__(self) -> str:
        return f"<{self.name}Backward0>"


class ViewOf:
    """How a view was made: the view op ``op(source, **params)``, its ``source`` possibly a view itself.

    :attr:`base` is the first tensor up the chain that is not a view (the one owning the memory);
    ``view_of(t)`` applies the whole chain of view ops to any tensor shaped like the base, through
    the ops' ``apply``, so it is recorded and differentiable: the in-place machinery uses it to read
    the gradient of a view's region out of its base's gradient (PyTorch's CopySlices). Only the link
    is stored when a view is made — every transpose and slice makes one, so it must cost little.
    """

    __slots__ = ("source", "op", "params")

    def __init__(self, source: Tensor, op: type[Function], params: dict) -> None:
        self.source, self.op, self.params = source, op, params

    @property
    def base(self) -> Tensor:
        source = self.source
        while source._view is not None:
            source = source._view.source
        return source

    def __call__(self, tensor: Tensor) -> Tensor:
        if self.source._view is not None:
            tensor = self.source._view(tensor)
        return self.op.apply(tensor, **self.params)


def _shares_memory(view: np.ndarray, source: np.ndarray) -> bool:
    """Whether a view op's result shares ``source``'s memory (reshape copies when it must). NumPy points a
    view's ``base`` at the array owning the memory, so identity answers the common case at no cost."""
    if view.base is None:
        return False
    return view.base is (source if source.base is None else source.base) or \
        bool(array_module(view).may_share_memory(view, source))


def _freed_error(fn: Function) -> RuntimeError:
    return RuntimeError(
        f"Trying to backward through the graph a second time (at {fn.name}): its saved tensors were freed "
        "after the first backward. Pass retain_graph=True to the first backward() or autograd.grad() "
        "if you need to backward through the graph twice"
    )


def constant(array: np.ndarray) -> Tensor:
    """Wrap an array that rules use as a fixed factor (a mask, a count): no gradient flows into it."""
    return wrap(array)


def code_constant(array: np.ndarray) -> Tensor:
    """:func:`constant` for an array made from Python values and shapes alone (a causal mask): the same on
    every call of the code, so a forward program of ``fukaku.jit`` may keep it."""
    return made_from_python(wrap(array))


def constant_like(value: float, like: np.ndarray) -> Tensor:
    """A 0-d constant ``value`` in ``like``'s dtype and array library: the fixed branch of a masked
    rule (``Where(mask, constant_like(0, x._data), f(x))``) or a fill value."""
    return wrap(array_module(like).asarray(value, like.dtype))
