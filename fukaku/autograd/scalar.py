"""Reverse-mode automatic differentiation on Python floats: the whole idea of backprop, first reading.

Seed 000 §6.1.2 describes an autodiff engine in three steps: (1) the forward pass records the
intermediate values, (2) the backward pass walks the graph in reverse applying local derivatives,
(3) an optimiser uses the gradients. This module is steps (1) and (2) for single numbers, in the
spirit of Karpathy's micrograd::

    >>> w, x, b = Value(0.5), Value(-2.0), Value(0.3)
    >>> y = (w * x + b).tanh()      # (1) forward: every op records its inputs ...
    >>> y.backward()                # (2) backward: the chain rule, from y back to w, x and b
    >>> round(w.grad, 6)            # dy/dw = (1 − tanh²(wx + b)) · x
    -1.269479

The lesson is in three places:

* **Each op knows its own local derivative.** ``a * b`` returns a ``Value`` that remembers its
  inputs ``(a, b)`` and the partial derivatives ``(b, a)`` of its result with respect to them,
  written on the line beside the forward formula. Nothing else about the op is needed later.
* **The chain rule is one multiply-add.** A node whose gradient ``g = ∂L/∂node`` is known sends
  ``g · ∂node/∂input`` to each input; an input used several times (``x * x``, or a shared
  subexpression) receives the *sum* of what every use sends — the multivariate chain rule.
* **Order matters, and Kahn's algorithm gives it.** A node may pass its gradient on only when
  it is complete, i.e. once every node that consumed it has reported. :meth:`Value.backward`
  counts each node's consumers, then repeatedly takes a node whose count reached zero. The walk
  is a loop, not a recursion, so a chain of 10,000 ops is as easy as a chain of three.

fukaku's real engine is this module with tensors in place of floats. A
:class:`~fukaku.autograd.function.Function` (an op in :mod:`fukaku.ops`) holds the forward and,
instead of a number per input, a *vector-Jacobian product* ``vjp(grad)`` — the local derivative
applied to a whole gradient array; ``fukaku.autograd.engine._backpropagate`` is the loop of
:meth:`Value.backward`, line for line, with the saved arrays freed as it goes. The tests check
that both give the same gradients (tests/autograd/test_scalar.py).
"""
from __future__ import annotations

import math
from collections.abc import Sequence


class Value:
    """A number that remembers how it was computed, so its derivatives can be taken.

    Args:
        data: the number.

    Attributes:
        data: the value computed by the forward pass.
        grad: ∂(output)/∂(this value), summed over calls of ``backward`` (0.0 until one runs).
        inputs: the Values this one was computed from (empty for a leaf).
        local_grads: ∂(this value)/∂(input), one per input, in the same order.
        op: the op's name, for ``repr``.
    """

    __slots__ = ("data", "grad", "inputs", "local_grads", "op")

    def __init__(self, data: float, inputs: Sequence[Value] = (), local_grads: Sequence[float] = (),
                 op: str = "") -> None:
        self.data = float(data)
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.local_grads = tuple(local_grads)
        self.op = op

    # -- ops: the forward value, then the local derivative with respect to each input ----------
    def __add__(self, other: Value | float) -> Value:
        other = _as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")

    def __mul__(self, other: Value | float) -> Value:
        other = _as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")

    def __pow__(self, exponent: float) -> Value:
        if isinstance(exponent, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number (x ** 2.0)")
        return Value(self.data ** exponent, (self,), (exponent * self.data ** (exponent - 1),), f"**{exponent}")

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")

    def exp(self) -> Value:
        e = math.exp(self.data)
        return Value(e, (self,), (e,), "exp")

    def relu(self) -> Value:
        return Value(max(self.data, 0.0), (self,), (1.0 if self.data > 0 else 0.0,), "relu")

    # -- ops written with the ones above (their derivatives follow by the chain rule) ------------
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other: Value | float) -> Value:
        return self + (-_as_value(other))

    def __rsub__(self, other: float) -> Value:
        return _as_value(other) - self

    def __truediv__(self, other: Value | float) -> Value:
        return self * _as_value(other) ** -1.0

    def __rtruediv__(self, other: float) -> Value:
        return _as_value(other) * self ** -1.0

    __radd__ = __add__
    __rmul__ = __mul__

    # -- the backward pass ------------------------------------------------------------------
    def backward(self) -> None:
        """Add ∂self/∂v to ``v.grad`` for every Value ``v`` that self was computed from (and self)."""
        waiting = _count_consumers(self)  # consumers that have yet to send each node its gradient
        grads = {self: 1.0}  # ∂self/∂self = 1; the others are summed as their consumers report
        ready = [self]
        while ready:
            node = ready.pop()
            grad = grads.pop(node)  # complete: every consumer has sent its share
            node.grad += grad
            for inp, local in zip(node.inputs, node.local_grads):
                grads[inp] = grads.get(inp, 0.0) + grad * local  # the chain rule
                waiting[inp] -= 1
                if waiting[inp] == 0:
                    ready.append(inp)

    def __repr__(self) -> str:
        return f"Value(data={self.data!r}, grad={self.grad!r}{', op=' + repr(self.op) if self.op else ''})"


def _count_consumers(root: Value) -> dict[Value, int]:
    """How many times each Value below ``root`` is used as an input (an iterative graph walk)."""
    counts: dict[Value, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        for inp in node.inputs:
            if inp not in counts:
                counts[inp] = 0
                stack.append(inp)  # first time seen: walk its inputs too
            counts[inp] += 1
    return counts


def _as_value(x: Value | float) -> Value:
    return x if isinstance(x, Value) else Value(x)


__all__ = ["Value"]
