"""In-place ops in autograd, against PyTorch: residual ``h += x``, slice assignment, in-place activations,
in-place ops on views writing through to their base (CopySlices), and the errors PyTorch raises.

Each program is written once and run on both libraries (their tensors share the method names), through
the conformance harness: forward, backward, forward mode and second derivatives.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from tests.conformance import FLOATS, check, randn


def _residual(x, w):
    h = x @ w
    h += x  # the residual connection, in place
    return h


def _slice_assignment(x, w):
    h = x * w
    h[:, 0] = 0  # a constant written into a region of a tensor in the graph
    return h


def _value_assignment(x, w):
    h = x * 2
    h[1] = w[0]  # a value that requires grad, broadcast into a row
    return h


def _advanced_assignment(x, w):
    h = x * x + 1
    h[[0, 2], 1:3] = w[0, :2] * 3  # advanced and basic keys together
    return h


def _assign_into_constant(x, w):
    buffer = x.new_zeros((3, 4)) if hasattr(x, "new_zeros") else None
    buffer[1:] = w[:2] * x[:2]  # a plain tensor becomes part of the graph through the write
    return buffer


def _inplace_chain(x, w):
    h = x * w
    h.mul_(w).add_(x, alpha=0.5).sub_(1.5).div_(w * w + 1)
    return h.tanh_()


def _inplace_activations(x, w):
    h = x + w
    h.sigmoid_()
    g = (x - w).exp_()
    k = (x * w).relu_()
    return h * g + k * 2 + (x * 3).clamp_(0.1, 2.0)


def _view_mul(x, w):
    h = x * 1
    h[:, 1].mul_(w[:, 0])  # an in-place op on a view writes through to h
    return h


def _chained_views(x, w):
    h = x + w
    h.t()[2][1:3].mul_(w[0, 0])  # a view of a view of h
    h.view(-1)[4:7].add_(w.reshape(-1)[:3])
    return h * h


def _view_then_base(x, w):
    h = x * w
    v = h[0]
    v.zero_()
    h += 1  # the base again, after its view changed it
    return h * v.sum()


def _fill_and_copy(x, w):
    h = x * w
    h[0].fill_(2.0)
    h[1].copy_(w[2])
    return h


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("program", [_residual, _slice_assignment, _value_assignment, _advanced_assignment,
                                     _assign_into_constant, _inplace_chain, _inplace_activations, _view_mul,
                                     _chained_views, _view_then_base, _fill_and_copy],
                         ids=lambda f: f.__name__.lstrip("_"))
def test_inplace_program_matches_torch_to_second_order(program, dtype):
    shape_w = (4, 4) if program is _residual else (3, 4)
    check(program, program, [randn(3, 4, seed=1), randn(*shape_w, seed=2) * 0.5], dtype)


def test_inplace_relu_module_matches_torch():
    x = randn(5, 3, seed=3)
    w = randn(3, 3, seed=4)

    def run(lib, nn):
        xt, wt = lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True)
        h = nn.ReLU(inplace=True)(xt @ wt)
        h.sum().backward()
        return h.detach().numpy(), xt.grad.numpy(), wt.grad.numpy()

    for got, want in zip(run(fk, fk.nn), run(torch, torch.nn), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_the_grad_fn_is_rebased_on_the_inplace_op():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    h = x * 2
    before = h.grad_fn
    h.exp_()
    assert h.grad_fn is not before and not h.is_leaf and h.requires_grad
    t = torch.tensor([1.0, 2.0], requires_grad=True) * 2
    t.exp_()
    assert type(h.grad_fn).__name__.lower().startswith("exp") and "Exp" in type(t.grad_fn).__name__


def test_a_plain_tensor_written_with_a_value_that_requires_grad_joins_the_graph():
    w = fk.tensor([1.0, 2.0], requires_grad=True)
    buffer = fk.zeros(3, 2)
    assert buffer.is_leaf and not buffer.requires_grad
    buffer[1] = w
    assert buffer.requires_grad and not buffer.is_leaf
    (buffer * buffer).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("statement", ["w.add_(1)", "w[0] = 1.0", "w.mul_(2)", "w.zero_()", "w[0].add_(1)",
                                       "w.view(-1).exp_()", "w.t_()"])
def test_an_inplace_op_on_a_leaf_that_requires_grad_is_refused_as_in_torch(statement):
    for lib in (fk, torch):
        w = lib.ones(2, 2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            exec(statement, {"w": w})
        with lib.no_grad():  # the optimizer's way is allowed
            exec(statement, {"w": w})
    w = fk.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place.*fukaku.no_grad"):
        w.add_(1)


def test_an_inplace_change_to_a_saved_tensor_is_caught_as_in_torch():
    for lib in (fk, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a = x * 2
        b = a * a  # saves a
        a.add_(1)
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            b.sum().backward()


def test_a_saved_output_changed_in_place_is_caught():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()  # exp's rule uses its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        (y * x).sum().backward()


def test_data_is_a_tensor_sharing_memory_and_untracked():
    w = fk.tensor([1.0, 2.0], requires_grad=True)
    y = w * w
    d = w.data
    assert isinstance(d, fk.Tensor) and not d.requires_grad and d.numpy() is w.detach().numpy()
    version = w._version.value
    w.data.add_(fk.tensor([0.5, 0.5]), alpha=-2)  # PyTorch's classic manual SGD step
    w.data -= 0.0
    assert w._version.value == version  # .data changes are invisible to autograd, as in torch
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 1.0])
    y.sum().backward()  # no error: the change went through .data
    w.data = fk.tensor([7.0, 8.0, 9.0])
    assert w.shape == (3,) and w.requires_grad


def test_detach_shares_the_version_counter():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    b = a * a
    a.detach().add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        b.sum().backward()


def test_inplace_result_that_cannot_be_cast_is_refused_as_in_torch():
    for lib in (fk, torch):
        n = lib.tensor([1, 2])
        with pytest.raises((RuntimeError, TypeError), match="can't be cast"):
            n += 0.5
        with pytest.raises((RuntimeError, TypeError), match="can't be cast"):
            n.exp_()


def test_an_expanded_view_cannot_be_written():
    x = fk.tensor([1.0, 2.0]).expand(3, 2)
    with pytest.raises(RuntimeError, match="clone"):
        x.add_(1)


def test_twins_exist_for_the_elementwise_ops_and_match_torch():
    x = randn(4, seed=5)
    for name in ["exp", "abs", "neg", "sigmoid", "tanh", "sqrt", "floor", "clamp", "relu", "sign", "cos"]:
        a, b = fk.tensor(np.abs(x) + 0.1), torch.tensor(np.abs(x) + 0.1)
        args = (0.2, 0.9) if name == "clamp" else ()
        assert getattr(a, f"{name}_")(*args) is a
        getattr(b, f"{name}_")(*args)
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, err_msg=name)


def test_shape_changing_inplace_methods():
    for lib in (fk, torch):
        x = lib.arange(6.0).reshape(2, 3)
        assert x.t_() is x and tuple(x.shape) == (3, 2)
        x.unsqueeze_(0)
        assert tuple(x.shape) == (1, 3, 2)
        x.squeeze_()
        assert tuple(x.shape) == (3, 2)
    h = fk.ones(2, 3, requires_grad=True) * 2
    h.t_()
    (h * fk.arange(6.0).reshape(3, 2)).sum().backward()


def test_a_view_of_an_integer_index_writes_through():
    x = fk.zeros(3)
    x[1].add_(5)
    t = torch.zeros(3)
    t[1].add_(5)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


_INPLACE_ACTIVATIONS = {"relu": {}, "leaky_relu": dict(negative_slope=0.2), "elu": {}, "selu": {}, "celu": {},
                        "silu": {}, "hardtanh": {}, "relu6": {}, "hardsigmoid": {}, "hardswish": {}, "mish": {},
                        "threshold": dict(threshold=0.1, value=-2.0)}


@pytest.mark.parametrize("name", list(_INPLACE_ACTIVATIONS))
def test_inplace_activations_match_torch_in_the_graph(name):
    kwargs = _INPLACE_ACTIVATIONS[name]

    def program(lib_functional):
        def run(x, w):
            h = x * w * 4  # spread over the kinks of hardtanh, relu6, hardsigmoid
            out = getattr(lib_functional, name)(h, inplace=True, **kwargs)
            assert out is h
            return h * 2

        return run

    check(program(fk.nn.functional), program(torch.nn.functional),
          [randn(3, 4, seed=7), randn(3, 4, seed=8)], np.float64,
          second=name != "hardsigmoid")  # torch has no second derivative of hardsigmoid
