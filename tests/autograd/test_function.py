"""The Function base: an op declares its parameters in its constructor (issue 6, item 4)."""
from __future__ import annotations

import inspect

import pytest

import fukaku as fk
from fukaku.autograd.function import Function
from fukaku.ops.activation import LeakyRelu
from fukaku.ops.elementwise import PowScalar


def _graph_nodes() -> list[type[Function]]:
    found, stack = [], [Function]
    while stack:
        for sub in stack.pop().__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("fukaku.ops."):
                found.append(sub)
    return found


def test_parameters_arrive_through_the_constructor() -> None:
    x = fk.tensor([-2.0, 3.0], requires_grad=True)
    y = LeakyRelu.apply(x, negative_slope=0.5)
    assert y.grad_fn.negative_slope == 0.5 and y.tolist() == [-1.0, 3.0]
    assert PowScalar.apply(x, exponent=2.0).grad_fn.exponent == 2.0


def test_an_unknown_keyword_is_a_type_error_naming_it() -> None:
    x = fk.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="slope"):
        LeakyRelu.apply(x, slope=0.5)
    with pytest.raises(TypeError):
        fk.ops.elementwise.Exp.apply(x, base=2.0)  # an op without parameters takes no keyword


def test_no_op_pours_keywords_into_its_instance() -> None:
    """Every constructor an op defines names its parameters: no **kwargs catch-all."""
    for node in _graph_nodes():
        init = node.__dict__.get("__init__")
        if init is None:
            continue
        kinds = {p.kind for p in inspect.signature(init).parameters.values()}
        assert inspect.Parameter.VAR_KEYWORD not in kinds, f"{node.__qualname__}.__init__ takes **kwargs"
    assert len(_graph_nodes()) > 40


def test_a_vjp_returning_the_wrong_number_of_gradients_is_an_error_naming_the_op():
    class TwoInputs(Function):
        def forward(self, a, b):
            return a._data * b._data

        def vjp(self, grad):
            return grad  # one gradient for two inputs

    a = fk.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"TwoInputs.vjp returned 1 gradient\(s\) for its 2 input\(s\)"):
        TwoInputs.apply(a, a * 1).sum().backward()
