"""Forward mode: dual tensors carry tangents through each op's jvp rule."""
import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.autograd import forward_ad as fwAD
from fukaku.autograd.functional import hessian, hvp, jacobian, jvp, vjp


def _mlp(x, w1, w2):
    return ((x @ w1).tanh() @ w2).sigmoid()


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in ((4, 3), (3, 5), (5, 2))]


def test_jvp_matches_torch_func_jvp():
    arrays = _inputs()
    tangents = _inputs(1)
    out, tan = jvp(_mlp, tuple(fk.tensor(a) for a in arrays), tuple(fk.tensor(t) for t in tangents))
    t_out, t_tan = torch.func.jvp(_mlp, tuple(torch.tensor(a) for a in arrays), tuple(torch.tensor(t) for t in tangents))
    np.testing.assert_allclose(out.numpy(), t_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(tan.numpy(), t_tan.numpy(), rtol=1e-10)


def test_forward_mode_uses_no_backward_pass():
    x = fk.tensor([1.0, 2.0], dtype=fk.float64)
    with fwAD.dual_level():
        d = fwAD.make_dual(x, fk.tensor([1.0, 0.0], dtype=fk.float64))
        y = (d * d).exp()
        assert not y.requires_grad  # nothing recorded for reverse mode
        primal, tangent = fwAD.unpack_dual(y)
    np.testing.assert_allclose(tangent.numpy(), [2 * np.exp(1), 0.0])
    assert fwAD.unpack_dual(y).tangent is None  # outside the level


def test_make_dual_checks_shapes():
    with fwAD.dual_level():
        with pytest.raises(fk.ShapeError, match="tangent shape"):
            fwAD.make_dual(fk.ones(3, dtype=fk.float64), fk.ones(2, dtype=fk.float64))


def test_jacobian_forward_and_reverse_agree_with_torch():
    arrays = _inputs()
    ours_rev = jacobian(_mlp, tuple(fk.tensor(a) for a in arrays), mode="rev")
    ours_fwd = jacobian(_mlp, tuple(fk.tensor(a) for a in arrays), mode="fwd")
    theirs = torch.autograd.functional.jacobian(_mlp, tuple(torch.tensor(a) for a in arrays))
    for r, f, t in zip(ours_rev, ours_fwd, theirs, strict=True):
        assert r.shape == tuple(t.shape)
        np.testing.assert_allclose(r.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(f.numpy(), t.numpy(), rtol=1e-10, atol=1e-12)


def _scalar_fn(x):
    return (x.sin() * x.exp()).sum() + (x @ x) ** 2


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_hessian_matches_torch(mode):
    x = np.array([0.3, -1.2, 0.7])
    ours = hessian(_scalar_fn, fk.tensor(x), mode=mode)
    theirs = torch.autograd.functional.hessian(_scalar_fn, torch.tensor(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_hvp_and_vjp_match_torch():
    x, v = np.array([0.3, -1.2, 0.7]), np.array([1.0, 2.0, -0.5])
    _, ours = hvp(_scalar_fn, fk.tensor(x), fk.tensor(v))
    _, theirs = torch.autograd.functional.hvp(_scalar_fn, torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)
    _, ours_vjp = vjp(lambda t: t.tanh() * 2, fk.tensor(x), fk.tensor(v))
    _, theirs_vjp = torch.autograd.functional.vjp(lambda t: t.tanh() * 2, torch.tensor(x), torch.tensor(v))
    np.testing.assert_allclose(ours_vjp.numpy(), theirs_vjp.numpy(), rtol=1e-12)


def test_reverse_over_forward_differentiates_a_jvp():
    x = fk.tensor([0.5, 1.5], dtype=fk.float64, requires_grad=True)
    v = fk.tensor([1.0, -1.0], dtype=fk.float64)
    with fwAD.dual_level():
        y = (fwAD.make_dual(x, v) ** 3).sum()
        tangent = fwAD.unpack_dual(y).tangent  # Σ 3x²v
    (g,) = fk.autograd.grad(tangent, x)
    np.testing.assert_allclose(g.numpy(), 6 * x.detach().numpy() * v.numpy())


@pytest.mark.parametrize("create_graph", [False, True])
def test_gradients_keep_their_forward_tangent_as_in_torch(create_graph):
    import torch
    import torch.autograd.forward_ad as torch_fwad

    x0, t0 = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, -2.0])

    def run(lib, fwad):
        x = lib.tensor(x0, requires_grad=True)
        with fwad.dual_level():
            def f():
                dual = fwad.make_dual(x, lib.tensor(t0))
                return (dual ** 3 * lib.sin(dual)).sum()

            (g,) = lib.autograd.grad(f(), x, create_graph=create_graph)  # returned
            f().backward(create_graph=create_graph)  # accumulated into x.grad
            return fwad.unpack_dual(g).tangent, fwad.unpack_dual(x.grad).tangent

    got, want = run(fk, fk.autograd.forward_ad), run(torch, torch_fwad)
    np.testing.assert_allclose(got[0].detach().numpy(), want[0].detach().numpy(), rtol=1e-12)
    if create_graph:  # torch's .grad keeps the tangent only when the backward graph is kept
        np.testing.assert_allclose(got[1].detach().numpy(), want[1].detach().numpy(), rtol=1e-12)
    else:
        assert got[1] is None and want[1] is None
