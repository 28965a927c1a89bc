"""Scaled dot-product attention (fukaku/ops/attention.py, fukaku/nn/functional/attention.py) against PyTorch's
``F.scaled_dot_product_attention``: forward, backward, jvp and second derivatives without a mask, with boolean,
float (differentiated) and causal masks, L ≠ S, a given scale, broadcasting of the batch dims and of the mask,
grouped-query attention; rows masked throughout; dropout against its definition and finite differences; the
errors of bad input."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn.attention import SDPBackend, sdpa_kernel

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, assert_close, check, randn, shape_error_raised
from fukaku.autograd.gradcheck import gradcheck, gradgradcheck

TF = torch.nn.functional


def _sdpa(lib, **kw):
    if lib is fk:
        return lambda q, k, v, *mask: F.scaled_dot_product_attention(q, k, v, *mask, **kw)

    def reference(q, k, v, *mask):
        with sdpa_kernel(SDPBackend.MATH):  # torch's CPU flash kernel has no forward-mode AD; its math kernel has
            return TF.scaled_dot_product_attention(q, k, v, *mask, **kw)
    return reference


def _check(inputs, dtype, **kw):
    check(_sdpa(fk, **kw), _sdpa(torch, **kw), inputs, dtype, second=dtype == np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_no_mask_matches_torch(dtype):
    _check([randn(2, 3, 4, 5, seed=1), randn(2, 3, 6, 5, seed=2), randn(2, 3, 6, 7, seed=3)], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
def test_boolean_mask_matches_torch(dtype):
    mask = np.random.default_rng(4).random((4, 6)) > 0.4
    mask[:, 0] = True  # every query keeps a key (rows masked throughout: below)
    q, k, v = randn(2, 3, 4, 5, seed=1), randn(2, 3, 6, 5, seed=2), randn(2, 3, 6, 7, seed=3)
    check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, fk.tensor(mask)),
          lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(mask)), [q, k, v], dtype,
          second=dtype == np.float64)


@pytest.mark.parametrize("dtype", FLOATS)
def test_float_mask_is_added_and_differentiated(dtype):
    # the mask is an input: its gradient (the logits' gradient summed over the broadcast batch dims) is checked too
    _check([randn(2, 3, 4, 5, seed=1), randn(2, 3, 6, 5, seed=2), randn(2, 3, 6, 7, seed=3), randn(3, 1, 6, seed=4)],
           dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("L,S", [(5, 5), (4, 6), (6, 4)])
def test_causal_matches_torch_top_left_aligned(L, S, dtype):
    _check([randn(2, 2, L, 3, seed=1), randn(2, 2, S, 3, seed=2), randn(2, 2, S, 4, seed=3)], dtype, is_causal=True)


def test_scale_and_low_rank_inputs():
    _check([randn(4, 5, seed=1), randn(6, 5, seed=2), randn(6, 2, seed=3)], np.float64, scale=0.3)
    _check([randn(3, 4, 5, seed=1), randn(3, 6, 5, seed=2), randn(3, 6, 2, seed=3)], np.float64, scale=2.0)


@pytest.mark.parametrize("dtype", FLOATS)
def test_batch_dims_and_mask_broadcast(dtype):
    # key and value shared by the batch (leading 1) and by the heads; a mask per sample, shared by the heads
    _check([randn(2, 3, 4, 5, seed=1), randn(1, 3, 6, 5, seed=2), randn(2, 1, 6, 7, seed=3), randn(2, 1, 4, 6, seed=4)],
           dtype)


def test_grouped_query_attention():
    _check([randn(2, 4, 3, 5, seed=1), randn(2, 2, 6, 5, seed=2), randn(2, 2, 6, 3, seed=3)], np.float64,
           enable_gqa=True)


def test_rows_masked_throughout_give_zeros_as_torch():
    mask = np.ones((4, 6), bool)
    mask[1] = False
    fmask = np.where(mask, 0.0, -np.inf)
    q, k, v = randn(2, 4, 5, seed=1), randn(2, 6, 5, seed=2), randn(2, 6, 3, seed=3)
    for m in (mask, fmask):
        check(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, fk.tensor(m)),
              lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, torch.tensor(m)), [q, k, v], np.float64)
    out = F.scaled_dot_product_attention(fk.tensor(q), fk.tensor(k), fk.tensor(v), fk.tensor(mask))
    assert np.all(out.numpy()[:, 1] == 0)


def test_no_keys_gives_zeros():
    q, k, v = fk.randn(2, 4, 5, requires_grad=True), fk.randn(2, 0, 5), fk.randn(2, 0, 3)
    out = F.scaled_dot_product_attention(q, k, v)
    assert out.shape == (2, 4, 3) and not out.detach().numpy().any()
    out.sum().backward()
    assert not q.grad.numpy().any()


def test_double_backward_with_mask_and_gradcheck():
    q, k, v = (fk.tensor(randn(2, 3, 4, seed=s), requires_grad=True) for s in (1, 2, 3))
    m = fk.tensor(randn(3, 3, seed=4), requires_grad=True)
    f = lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, m, scale=0.7)  # noqa: E731
    assert gradcheck(f, (q, k, v, m))
    assert gradgradcheck(f, (q, k, v, m))


def test_dropout_zeroes_and_rescales_the_weights():
    # with the identity as values the output is the (dropped) attention matrix itself
    q, k = fk.tensor(randn(64, 8, 16, seed=1)), fk.tensor(randn(64, 8, 16, seed=2))
    eye = fk.eye(8, dtype=fk.float64).expand(64, 8, 8)
    a = F.scaled_dot_product_attention(q, k, eye).numpy()
    fk.manual_seed(0)
    d = F.scaled_dot_product_attention(q, k, eye, dropout_p=0.25).numpy()
    zero = d == 0
    assert abs(zero.mean() - 0.25) < 0.02
    np.testing.assert_allclose(d[~zero], a[~zero] / 0.75, rtol=1e-12)
    assert not F.scaled_dot_product_attention(q, k, eye, dropout_p=1.0).numpy().any()


def test_dropout_gradients_match_finite_differences():
    q, k, v = (fk.tensor(randn(2, 3, 4, seed=s), requires_grad=True) for s in (1, 2, 3))

    def f(q, k, v):
        fk.manual_seed(7)  # the same dropout mask at every evaluation
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    assert gradcheck(f, (q, k, v))
    assert gradgradcheck(f, (q, k, v))


def test_float32_mask_with_float64_query_is_cast():
    q = randn(3, 4, 5, seed=1)
    m = randn(4, 4, seed=2, dtype=np.float32)
    got = F.scaled_dot_product_attention(fk.tensor(q), fk.tensor(q), fk.tensor(q), fk.tensor(m))
    want = TF.scaled_dot_product_attention(*(torch.tensor(q),) * 3, torch.tensor(m))
    assert_close(got, want)


# ----------------------------------------------------------------------------- errors
def test_bad_input_errors_name_the_op_shapes_and_fix():
    q, k, v = fk.randn(2, 3, 4, 5), fk.randn(2, 3, 6, 5), fk.randn(2, 3, 6, 7)
    op = "scaled_dot_product_attention"
    shape_error_raised(lambda: F.scaled_dot_product_attention(q, k, v, fk.ones(5, 6, dtype=fk.bool)), op, (5, 6),
                       (2, 3, 4, 6))
    shape_error_raised(lambda: F.scaled_dot_product_attention(q, k, v, fk.zeros(3, 3, 4, 6)), op, (3, 3, 4, 6))
    shape_error_raised(lambda: F.scaled_dot_product_attention(q, fk.randn(2, 3, 6, 4), v), op, (2, 3, 4, 5),
                       (2, 3, 6, 4))
    shape_error_raised(lambda: F.scaled_dot_product_attention(q, k, fk.randn(2, 3, 5, 7)), op, (2, 3, 6, 5),
                       (2, 3, 5, 7))
    shape_error_raised(lambda: F.scaled_dot_product_attention(q, k[:, :2], v[:, :2]), op, (2, 3, 4, 5), (2, 2, 6, 5))
    shape_error_raised(lambda: F.scaled_dot_product_attention(fk.randn(2, 4, 4, 5), k, v, enable_gqa=True), op,
                       (2, 4, 4, 5), (2, 3, 6, 5))
    with pytest.raises(TypeError, match=f"{op}.*attn_mask.*int64.*bool"):
        F.scaled_dot_product_attention(q, k, v, fk.zeros(4, 6, dtype=fk.int64))
    with pytest.raises(ValueError, match=f"{op}.*either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, k, v, fk.ones(4, 6, dtype=fk.bool), is_causal=True)
    with pytest.raises(TypeError, match=f"{op}.*same dtype"):
        F.scaled_dot_product_attention(q, k.double(), v)
    with pytest.raises(ValueError, match=f"{op}.*dropout probability"):
        F.scaled_dot_product_attention(q, k, v, dropout_p=1.5)


# ----------------------------------------------------------------------------- blocks shared among threads
@pytest.fixture
def split_everything(monkeypatch):
    """Every pass cut into blocks for 3 worker threads (sharing on, the work threshold at 0), when threadpoolctl can
    keep BLAS to one thread meanwhile."""
    from fukaku.ops import _parallel, attention

    if _parallel.Threads.count() and not _parallel.Threads.blas:
        pytest.skip("threadpoolctl is not installed: the attention passes run in one thread")
    monkeypatch.setattr(attention, "SHARE_BLOCKS", True)
    monkeypatch.setattr(attention, "SPLIT_WORK", 0)
    monkeypatch.setattr(_parallel.Threads, "count", classmethod(lambda cls: 3))
    return attention


def test_blocks_cover_the_batch(split_everything):
    plan = split_everything._Blocks(np, (5, 2), 10)
    assert plan.ranges == [(0, 1), (1, 3), (3, 5)]
    assert len(split_everything._Blocks(np, (), 10).ranges) == 1


@pytest.mark.parametrize("dtype", FLOATS)
def test_blocked_passes_match_torch_with_broadcast_inputs(split_everything, dtype):
    # key shared by the batch, value by the heads, a float mask per sample: cut, broadcast and summed gradients
    _check([randn(5, 2, 4, 3, seed=1), randn(1, 2, 6, 3, seed=2), randn(5, 1, 6, 4, seed=3), randn(5, 1, 4, 6, seed=4)],
           dtype)
    _check([randn(4, 2, 5, 3, seed=1), randn(4, 2, 5, 3, seed=2), randn(4, 2, 5, 4, seed=3)], dtype, is_causal=True)


def test_blocked_dropout_gradients_match_finite_differences(split_everything):
    test_dropout_gradients_match_finite_differences()


def test_one_block_by_default():
    from fukaku.ops import attention

    assert attention._Blocks(np, (32, 8), 128 * 128 * 64).ranges == [(0, 32)]
