"""The scalar autodiff of first reading (fukaku.autograd.scalar) agrees with the real engine.

Each expression is written once and run three ways: on ``Value``s, on fukaku float64 0-d tensors
(the same ops: +, *, **, tanh, exp, relu, …) and by central differences. Reverse mode on floats
and on tensors must agree to 1e-12; finite differences to 1e-6, the tolerance seed 000 §6.1.2's
check uses (their own truncation error is ~1e-10).
"""
from __future__ import annotations

import doctest

import pytest

import fukaku as fk
from fukaku.autograd import scalar
from fukaku.autograd.scalar import Value


def neuron(w1, w2, b, x1=0.7, x2=-1.3):
    return (w1 * x1 + w2 * x2 + b).tanh()


def shared_subexpression(x, y):
    a = x * y + 1.0  # used three times: its gradient is the sum of three contributions
    return a * a - a / y + (3.0 - a).exp()


def exp_pow_chain(x, y):
    return ((x ** 3).exp() ** 0.5 + 2.0) ** -1.5 + (-y).relu() * x - 1.0 / (y * y + x)


EXPRESSIONS = {
    "neuron tanh(w·x + b)": (neuron, (0.4, -0.6, 0.1)),
    "shared subexpression": (shared_subexpression, (0.8, 1.7)),
    "exp and pow chain": (exp_pow_chain, (0.5, -0.9)),
    "node used twice": (lambda x: x * x + x, (3.0,)),
}


def scalar_grads(f, point):
    values = [Value(p) for p in point]
    f(*values).backward()
    return [v.grad for v in values]


def engine_grads(f, point):
    tensors = [fk.tensor(p, dtype=fk.float64, requires_grad=True) for p in point]
    f(*tensors).backward()
    return [t.grad.item() for t in tensors]


def finite_difference_grads(f, point, h=1e-6):
    def at(i, delta):
        return f(*[Value(p + delta if j == i else p) for j, p in enumerate(point)]).data

    return [(at(i, h) - at(i, -h)) / (2 * h) for i in range(len(point))]


@pytest.mark.parametrize("name", EXPRESSIONS)
def test_gradients_equal_the_engine_and_finite_differences(name):
    f, point = EXPRESSIONS[name]
    ours = scalar_grads(f, point)
    assert ours == pytest.approx(engine_grads(f, point), rel=1e-12, abs=1e-12)
    assert ours == pytest.approx(finite_difference_grads(f, point), rel=1e-6, abs=1e-8)


def test_a_10000_step_chain_backpropagates_without_recursion():
    def chain(x):
        for _ in range(10_000):
            x = x + 0.0001 * x.tanh()  # each step's derivative is a little above 1: the product stays O(1)
        return x

    (ours,) = scalar_grads(chain, (0.3,))
    assert 1.5 < ours < 3.0
    assert ours == pytest.approx(engine_grads(chain, (0.3,))[0], rel=1e-12)


def test_a_node_used_twice_sums_both_uses_and_leaves_accumulate_across_backward_calls():
    # y = x·x: both inputs of the product are x, so dy/dx = x + x
    x, t = Value(3.0), fk.tensor(3.0, dtype=fk.float64, requires_grad=True)
    (x * x).backward()
    (t * t).backward()
    assert x.grad == t.grad.item() == 6.0
    # a second backward adds its gradient, as the engine does for a leaf's .grad
    (x * 4.0).backward()
    (t * 4.0).backward()
    assert x.grad == t.grad.item() == 10.0


def test_an_intermediate_used_twice_is_not_counted_twice_downstream():
    x = Value(2.0)
    a = x.exp()  # a feeds two consumers; x must receive a's summed gradient exactly once
    (a + a * a).backward()
    assert a.grad == pytest.approx(1 + 2 * a.data, rel=1e-15)
    assert x.grad == pytest.approx((1 + 2 * a.data) * a.data, rel=1e-15)


def test_exponent_must_be_a_number():
    with pytest.raises(TypeError, match="exponent must be a number"):
        Value(2.0) ** Value(3.0)


def test_the_module_docstring_example_runs():
    assert doctest.testmod(scalar, raise_on_error=True).attempted > 0
