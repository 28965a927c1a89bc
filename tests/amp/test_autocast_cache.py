"""The autocast cache of parameter casts against torch.autocast("cpu"): one region may hold several
losses, each run backward on its own, inside or after the region."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.amp.autocast_mode import CachedCast

LOW_DTYPES = ["float16", "bfloat16"]
TOLERANCE = {"float16": 4e-3, "bfloat16": 3e-2}  # a few ulps of the low dtype, relative to the largest value


def _models():
    theirs = torch.nn.Linear(6, 3)
    ours = fk.nn.Linear(6, 3)
    ours.load_state_dict({k: fk.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _inputs(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.standard_normal((4, 6)).astype(np.float32) for _ in range(n)]


def _assert_grads_match(ours, theirs, low: str) -> None:
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert p.grad.dtype is fk.float32, name
        expected = q.grad.numpy()
        np.testing.assert_allclose(p.grad.numpy(), expected, rtol=0,
                                   atol=TOLERANCE[low] * max(1.0, float(np.abs(expected).max())), err_msg=name)


@pytest.mark.parametrize("low", LOW_DTYPES)
def test_two_losses_of_one_region_each_run_backward_after_it(low):
    ours, theirs = _models()
    x1, x2 = _inputs(2)
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        l1 = ours(fk.tensor(x1)).float().sum()
        l2 = (ours(fk.tensor(x2)).float() ** 2).sum()
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        t1 = theirs(torch.tensor(x1)).float().sum()
        t2 = (theirs(torch.tensor(x2)).float() ** 2).sum()
    l1.backward()
    l2.backward()
    t1.backward()
    t2.backward()
    _assert_grads_match(ours, theirs, low)


@pytest.mark.parametrize("low", LOW_DTYPES)
def test_backward_then_a_new_forward_inside_the_region(low):
    ours, theirs = _models()
    (x,) = _inputs(1)
    with fk.autocast("cpu", dtype=getattr(fk, low)):
        ours(fk.tensor(x)).float().sum().backward()
        ours(fk.tensor(x)).float().sum().backward()
    with torch.autocast("cpu", dtype=getattr(torch, low)):
        theirs(torch.tensor(x)).float().sum().backward()
        theirs(torch.tensor(x)).float().sum().backward()
    _assert_grads_match(ours, theirs, low)


def test_each_use_is_its_own_node_over_one_cached_array():
    w = fk.randn(4, 3, requires_grad=True)
    x = fk.randn(2, 3)
    with fk.autocast("cpu"):
        first, second = fk.nn.functional.linear(x, w), fk.nn.functional.linear(x, w)
    casts = [out.grad_fn.next_functions[0].next_functions[1] for out in (first, second)]
    assert all(isinstance(c, CachedCast) for c in casts) and casts[0] is not casts[1]
    assert casts[0].rounded is casts[1].rounded  # cast once
    np.testing.assert_array_equal(casts[0].rounded, w.detach().numpy().astype(fk.bfloat16.dtype).astype(np.float32))


def test_the_cached_cast_rounds_tangents_and_gradients_through_the_low_dtype():
    import fukaku.autograd.forward_ad as fwAD

    w = fk.tensor([[1.0 + 2.0 ** -12, 3.0]], requires_grad=True)
    low = fk.bfloat16.dtype
    rounded = w.detach().numpy().astype(low).astype(np.float32)
    direction = np.array([[1.0 + 2.0 ** -12, -0.5]], np.float32)  # 1 + 2^-12 is not a bfloat16: it rounds to 1
    with fwAD.dual_level():
        out = CachedCast.apply(fwAD.make_dual(w, fk.tensor(direction)), rounded=rounded, target=low)
        assert out.dtype is fk.float32 and out.detach().numpy().tolist() == [[1.0, 3.0]]
        assert fwAD.unpack_dual(out).tangent.numpy().tolist() == [[1.0, -0.5]]
    (grad,) = fk.autograd.grad(CachedCast.apply(w, rounded=rounded, target=low), w, fk.tensor(direction))
    assert grad.dtype is fk.float32 and grad.numpy().tolist() == [[1.0, -0.5]]
