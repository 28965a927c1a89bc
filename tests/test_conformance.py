"""tests/conformance.py fails on the faults it exists to catch: ops with one rule broken on purpose
(a jvp off by a factor, a vjp computed on arrays so that its second derivative vanishes, a vjp that
does not differentiate in its upstream gradient), outputs missing or outside the graph where
torch's are in it; and its second-order oracle does not lean on fukaku's own Mul and sum."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from conformance import check, randn
from fukaku.autograd import Function
from fukaku.autograd.function import constant
from fukaku.ops import elementwise, reduce


class _Square(Function):
    """x² with its rules right, or with ``fault`` in one of them."""

    def __init__(self, fault: str | None = None) -> None:
        self.fault = fault

    def forward(self, x):
        self.save(x)
        return x._data * x._data

    def vjp(self, grad):
        (x,) = self.saved
        if self.fault == "vjp on arrays":  # right values, but d/dx of the rule is 0
            return constant(2 * x._data) * grad
        if self.fault == "vjp constant in u":  # right values, but d/du of the rule is 0
            return 2 * x * constant(grad._data)
        return 2 * x * grad

    def jvp(self, dx):
        (x,) = self.saved
        return (3 if self.fault == "jvp" else 2) * x * dx


def _square(fault=None):
    return lambda x: _Square.apply(x, fault=fault)


X = randn(2, 3, seed=1)


def test_the_correct_rules_pass():
    check(_square(), torch.square, [X])


@pytest.mark.parametrize("fault, step", [
    ("jvp", "jvp: tangent of output 0"),
    ("vjp on arrays", r"second order \(reverse over reverse\) w.r.t. input 0"),
    ("vjp constant in u", r"second order \(reverse over reverse\) w.r.t. the upstream gradient of output 0"),
])
def test_a_broken_rule_fails_its_step(fault, step):
    with pytest.raises(AssertionError, match=step):
        check(_square(fault), torch.square, [X])


def test_a_rule_constant_in_u_fails_forward_over_reverse_too():
    with pytest.raises(AssertionError, match=r"second order \(forward over reverse\) of input 0"):
        check(_square("vjp constant in u"), torch.square, [X], second_wrt_upstream=False)
    check(_square("vjp constant in u"), torch.square, [X], second_wrt_upstream=False, fwd_over_rev=False)


def test_a_missing_output_fails():
    with pytest.raises(AssertionError, match="forward: 1 outputs != torch's 2"):
        check(lambda x: x * 2, lambda x: (x * 2, x * 3), [X])


def test_outputs_outside_the_graph_where_torchs_are_in_it_fail():
    # as many outputs require grad on both sides, but not the same ones
    with pytest.raises(AssertionError, match=r"outputs \[0, 1\] require grad \[False, True\], torch's \[True, False\]"):
        check(lambda x: (x.detach() * 2, x * 3), lambda x: (x * 2, (x * 3).detach()), [X])


def test_the_second_order_oracle_uses_neither_mul_nor_sum(monkeypatch):
    # neg's rules are negations: with Mul and Sum out of order, only the harness could call them
    def broken(self, *args):
        raise AssertionError(f"the harness called fukaku's {type(self).__name__}")

    monkeypatch.setattr(elementwise.Mul, "forward", broken)
    monkeypatch.setattr(reduce.Sum, "forward", broken)
    with pytest.raises(AssertionError, match="called fukaku's Mul"):
        fk.tensor(X) * 2
    check(fk.neg, torch.neg, [X])
    check(lambda a, b: (a - b, -a), lambda a, b: (a - b, -a), [X, randn(3, seed=2)], np.float32)


def test_a_gradient_the_engine_leaves_out_fails(monkeypatch):
    # autograd.grad returning one gradient fewer than asked must not shorten the comparison
    grad = fk.autograd.grad
    monkeypatch.setattr(fk.autograd, "grad", lambda *a, **k: grad(*a, **k)[:-1])
    with pytest.raises(ValueError, match="zip"):
        check(lambda a, b: a * b, torch.mul, [X, randn(2, 3, seed=2)], jvp=False, fwd_over_rev=False)
