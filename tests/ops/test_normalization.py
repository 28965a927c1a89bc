"""fukaku/ops/normalization.py, the one ``Normalize`` node under batch and layer normalisation, in the
cases the layer tests (tests/nn/test_layers.py) leave out: one input differentiated while the others
are constants (each input's rule on its own, in both modes), and the statistics of a batch of one
whose broadcast dims have size 1 or 2 (where summing γ's and β's gradients back to their shapes
must pick the right axes)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, check, randn

X, W, B = randn(3, 4, 5), randn(4, 5, seed=1), randn(4, 5, seed=2)


def _layer_norm(lib, functional, wrt: str, dtype):
    """layer_norm over the last two dims as a function of the inputs named in ``wrt`` (the others
    held constant)."""
    def f(*args):
        given = dict(zip(wrt, args, strict=True))
        x, w, b = (given.get(k, lib.tensor(v.astype(dtype))) for k, v in zip("xwb", (X, W, B), strict=True))
        return functional.layer_norm(x, (4, 5), w, b)
    return f


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("wrt", ["w", "b", "wb", "xb", "xw"])
def test_layer_norm_with_some_inputs_constant(wrt, dtype):
    """γ alone (x without a tangent in forward mode), β alone, γ and β without x, and x with only
    one of γ and β: each gradient goes to its own input."""
    fk_f, th_f = _layer_norm(fk, F, wrt, dtype), _layer_norm(torch, TF, wrt, dtype)
    check(fk_f, th_f, [{"x": X, "w": W, "b": B}[k] for k in wrt], dtype, second=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 3, 2), (1, 3, 1, 4), (2, 3, 2)])
def test_batch_norm_statistics_and_gradients_on_small_batches(shape, dtype):
    """A batch of one (μ and σ² over the trailing dims alone) and trailing dims of size 1 and 2."""
    x, w, b = randn(shape, seed=3), randn(3, seed=4), randn(3, seed=5)
    check(lambda x, w, b: F.batch_norm(x, None, None, w, b, True),
          lambda x, w, b: TF.batch_norm(x, None, None, w, b, True), [x, w, b], dtype)
    rm, rv = fk.zeros(3, dtype=dtype), fk.ones(3, dtype=dtype)
    F.batch_norm(fk.tensor(x.astype(dtype)), rm, rv, training=True, momentum=1.0)
    axes = tuple(i for i in range(len(shape)) if i != 1)
    np.testing.assert_allclose(rm.numpy(), x.mean(axes), rtol=1e-5)
    np.testing.assert_allclose(rv.numpy(), x.var(axes, ddof=1), rtol=1e-5)


@pytest.mark.parametrize("wrt", ["xwb", "w"])
def test_forward_mode_under_no_grad(wrt):
    """Forward mode does not depend on grad mode: the tangents under no_grad are torch's."""
    primals = [{"x": X, "w": W, "b": B}[k] for k in wrt]
    tangents = [randn(p.shape, seed=7 + i) for i, p in enumerate(primals)]
    with fk.no_grad():
        _, got = fk.autograd.functional.jvp(_layer_norm(fk, F, wrt, np.float64), tuple(map(fk.tensor, primals)),
                                            tuple(map(fk.tensor, tangents)))
    _, want = torch.func.jvp(_layer_norm(torch, TF, wrt, np.float64), tuple(map(torch.tensor, primals)),
                             tuple(map(torch.tensor, tangents)))
    assert isinstance(got, fk.Tensor)
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("create_graph", [False, True])
def test_layer_norm_gradient_carries_its_forward_tangent_as_in_torch(create_graph):
    """Forward over reverse without create_graph: the gradient ``grad`` returns keeps its tangent (H·v)."""
    import torch.autograd.forward_ad as torch_fwad

    x0, v0, w0 = randn(3, 4, seed=31), randn(3, 4, seed=32), randn(4, seed=33)

    def tangent(lib, fwad, functional):
        x = lib.tensor(x0, requires_grad=True)
        weight = lib.tensor(w0)
        with fwad.dual_level():
            y = functional.layer_norm(fwad.make_dual(x, lib.tensor(v0)), (4,), weight)
            (g,) = lib.autograd.grad((y * y * weight).sum(), x, create_graph=create_graph)
            return fwad.unpack_dual(g).tangent

    got = tangent(fk, fk.autograd.forward_ad, fk.nn.functional)
    want = tangent(torch, torch_fwad, torch.nn.functional)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), rtol=1e-10, atol=1e-12)


def _group_norm(lib, functional, wrt: str, dtype):
    """group_norm with 2 groups of (3, 2, 4) inputs (γ and β broadcast as (G, C/G, 1) against the grouped
    input (N, G, C/G, H·W)) as a function of the inputs named in ``wrt``, the others constant."""
    x0, w0, b0 = randn(3, 4, 2, 2, seed=11), randn(4, seed=12), randn(4, seed=13)

    def f(*args):
        given = dict(zip(wrt, args, strict=True))
        x, w, b = (given.get(k, lib.tensor(v.astype(dtype))) for k, v in zip("xwb", (x0, w0, b0), strict=True))
        return functional.group_norm(x, 2, w, b)
    return f, [{"x": x0, "w": w0, "b": b0}[k] for k in wrt]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("wrt", ["w", "b", "wb", "xw"])
def test_group_norm_with_some_inputs_constant(wrt, dtype):
    """The node with γ and β shaped (G, C/G, 1): their gradients summed over N and the positions only."""
    (fk_f, inputs), (th_f, _) = _group_norm(fk, F, wrt, dtype), _group_norm(torch, TF, wrt, dtype)
    check(fk_f, th_f, inputs, dtype, second=True)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 3, 2), (1, 3, 1, 2), (2, 3, 2, 1)])
def test_instance_norm_statistics_on_small_maps(shape, dtype):
    """Statistics over the spatial dims alone: a batch of one, spatial dims of size 1 and 2."""
    x, w, b = randn(shape, seed=3), randn(3, seed=4), randn(3, seed=5)
    check(lambda x, w, b: F.instance_norm(x, weight=w, bias=b), lambda x, w, b: TF.instance_norm(x, weight=w, bias=b),
          [x, w, b], dtype)
