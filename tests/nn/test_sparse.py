"""EmbeddingBag (fukaku.nn.functional.embedding_bag and nn.EmbeddingBag) against PyTorch.

torch's ``embedding_bag`` has a forward and a backward but neither forward mode nor a double
backward, so the conformance harness compares those two steps with it directly, and forward
mode and second derivatives with a reference built from torch ops (rows gathered per bag, then
summed, averaged or maxed). Layouts: a 2-d input of equal bags, a 1-d input with offsets (empty
bags included, ``include_last_offset``), ``padding_idx`` and ``per_sample_weights``.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from conformance import FLOATS, assert_close, check, randn, uniform

TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}

INDEX = np.array([1, 2, 4, 5, 4, 3, 2, 0, 2, 2])
# offsets name: (offsets, include_last_offset)
LAYOUTS = {
    "2-d": (None, False),
    "offsets": ([0, 4, 7], False),
    "empty bags": ([0, 4, 4, 7, 10], False),
    "one bag": ([0], False),
    "last offset": ([0, 3, 3, 10], True),
}


def _input(layout: str) -> tuple[np.ndarray, np.ndarray | None, bool]:
    offsets, last = LAYOUTS[layout]
    if offsets is None:
        return INDEX.reshape(2, 5), None, last
    return INDEX, np.array(offsets), last


def _pair(layout: str, mode: str, padding_idx=None, with_weights: bool = False):
    """(fukaku fn, torch fn) of (weight[, per_sample_weights])."""
    index, offsets, last = _input(layout)

    def ours(w, *psw):
        return F.embedding_bag(fk.tensor(index), w, None if offsets is None else fk.tensor(offsets), mode=mode,
                               per_sample_weights=psw[0] if psw else None, include_last_offset=last,
                               padding_idx=padding_idx)

    def theirs(w, *psw):
        return TF.embedding_bag(torch.tensor(index), w, None if offsets is None else torch.tensor(offsets), mode=mode,
                                per_sample_weights=psw[0] if psw else None, include_last_offset=last,
                                padding_idx=padding_idx)

    return ours, theirs


def _reference(layout: str, mode: str, padding_idx=None):
    """The bags computed from torch ops one bag at a time (a test oracle, not a hot path), with
    forward mode and double backward."""
    index, offsets, last = _input(layout)
    flat = index.reshape(-1)
    if offsets is None:
        starts = list(range(0, flat.size, index.shape[1]))
    else:
        starts = list(offsets[:-1] if last else offsets)
    ends = starts[1:] + [flat.size]

    def reference(w, *psw):
        rows = []
        for s, e in zip(starts, ends):
            keep = [i for i in range(s, e) if padding_idx is None or flat[i] != padding_idx % w.shape[0]]
            if not keep:
                rows.append(w[0] * 0)
                continue
            picked = w[torch.tensor(flat[keep])]
            if psw:
                picked = picked * psw[0].reshape(-1)[keep].unsqueeze(1)
            rows.append(picked.sum(0) if mode == "sum" else picked.mean(0) if mode == "mean" else picked.amax(0))
        return torch.stack(rows)

    return reference


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("padding_idx", [None, 2, -1])
@pytest.mark.parametrize("layout", list(LAYOUTS))
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode, layout, padding_idx, dtype):
    weight = randn(6, 3, seed=1)
    ours, theirs = _pair(layout, mode, padding_idx)
    check(ours, theirs, [weight], dtype, jvp=False, second=False)
    # forward mode and second order against the bag-by-bag reference (max: distinct values, no ties)
    check(ours, _reference(layout, mode, padding_idx), [weight], dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layout", ["2-d", "empty bags", "last offset"])
def test_embedding_bag_per_sample_weights(layout, dtype):
    """Each row scaled by its weight before the sum; both weight and per_sample_weights get
    gradients (padding entries count for nothing, not even for their weight)."""
    index, _, _ = _input(layout)
    psw = uniform(0.5, 2.0, *index.shape, seed=3)
    weight = randn(6, 3, seed=1)
    for padding_idx in (None, 4):
        ours, theirs = _pair(layout, "sum", padding_idx)
        check(ours, theirs, [weight, psw], dtype, jvp=False, second=False)
        check(ours, _reference(layout, "sum", padding_idx), [weight, psw], dtype)


def test_embedding_bag_max_takes_the_first_of_equal_entries():
    """Two table rows with equal values in one bag: the gradient goes to the entry that comes
    first in the bag, as torch's CPU kernel (a strict > while scanning)."""
    table = randn(5, 3, seed=2)
    table[3] = table[1]
    index, offsets = np.array([0, 3, 1, 3, 1, 4]), np.array([0, 3])
    w_f, w_t = fk.tensor(table, requires_grad=True), torch.tensor(table, requires_grad=True)
    out_f = F.embedding_bag(fk.tensor(index), w_f, fk.tensor(offsets), mode="max")
    out_t = TF.embedding_bag(torch.tensor(index), w_t, torch.tensor(offsets), mode="max")
    assert_close(out_f, out_t, np.float64, "max")
    up = randn(2, 3, seed=4)
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.tensor(up))
    assert_close(w_f.grad, w_t.grad, np.float64, "max gradient with ties")


def test_embedding_bag_max_norm_renormalises_the_rows_it_uses_in_place():
    table = randn(6, 4, seed=5) * 3
    index, offsets = np.array([1, 2, 2, 5]), np.array([0, 1])
    for norm_type in (2.0, 1.0):
        w_f, w_t = fk.tensor(table.copy()), torch.tensor(table.copy())
        out_f = F.embedding_bag(fk.tensor(index), w_f, fk.tensor(offsets), max_norm=1.5, norm_type=norm_type)
        out_t = TF.embedding_bag(torch.tensor(index), w_t, torch.tensor(offsets), max_norm=1.5, norm_type=norm_type)
        assert_close(out_f, out_t, np.float64, "output")
        assert_close(w_f, w_t, np.float64, "the table after renormalisation")
        untouched = [0, 3, 4]
        np.testing.assert_array_equal(w_f.numpy()[untouched], table[untouched])


def test_embedding_bag_empty_input_and_bags_of_nothing():
    w = fk.randn(4, 3, requires_grad=True)
    out = F.embedding_bag(fk.tensor(np.zeros(0, np.int64)), w, fk.tensor([0, 0]), mode="max")
    assert out.shape == (2, 3) and not out.detach().numpy().any()
    assert F.embedding_bag(fk.tensor(np.zeros((3, 0), np.int64)), w, mode="mean").shape == (3, 3)
    for offsets, last in (([], False), ([0], True)):  # no bags at all: (0, embedding_dim), as torch
        assert F.embedding_bag(fk.tensor([1, 2]), w, fk.tensor(np.array(offsets, np.int64)), mode="max",
                               include_last_offset=last).shape == (0, 3)
    out = F.embedding_bag(fk.tensor([1, 1]), w, fk.tensor([0]), mode="mean", padding_idx=1)
    assert out.tolist() == [[0.0, 0.0, 0.0]]  # every entry is padding: an empty bag
    out.sum().backward()
    assert not w.grad.numpy().any()


def test_embedding_bag_errors_name_the_problem():
    w = fk.randn(6, 3)
    idx = fk.tensor(INDEX)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(idx, w)
    with pytest.raises(ValueError, match="if input is 2D, then offsets has to be None"):
        F.embedding_bag(idx.reshape(2, 5), w, fk.tensor([0, 5]))
    with pytest.raises(fk.ShapeError, match="input has to be 1D or 2D"):
        F.embedding_bag(idx.reshape(1, 2, 5), w)
    with pytest.raises(ValueError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(idx, w, fk.tensor([1, 4]))
    with pytest.raises(ValueError, match=r"offsets\[-1\] can not be greater than input's length 10"):
        F.embedding_bag(idx, w, fk.tensor([0, 11]))
    with pytest.raises(ValueError, match="non-decreasing"):
        F.embedding_bag(idx, w, fk.tensor([0, 5, 4]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(idx, w, fk.tensor([0]), mode="min")
    with pytest.raises(NotImplementedError, match="per_sample_weights is only supported for mode='sum'"):
        F.embedding_bag(idx, w, fk.tensor([0]), per_sample_weights=fk.ones(10))
    with pytest.raises(fk.ShapeError, match=r"per_sample_weights of shape \(9,\) must have the input's shape \(10,\)"):
        F.embedding_bag(idx, w, fk.tensor([0]), mode="sum", per_sample_weights=fk.ones(9))
    with pytest.raises(TypeError, match="per_sample_weights has dtype"):
        F.embedding_bag(idx, w, fk.tensor([0]), mode="sum", per_sample_weights=fk.ones(10, dtype=fk.float64))
    with pytest.raises(IndexError, match=r"embedding_bag: index out of range.*\[0, 7\].*6 rows"):
        F.embedding_bag(fk.tensor([0, 7]), w, fk.tensor([0]))
    with pytest.raises(TypeError, match="integer"):
        F.embedding_bag(fk.tensor([0.0, 1.0]), w, fk.tensor([0]))
    with pytest.raises(ValueError, match=r"padding_idx must be within \[-6, 5\]"):
        F.embedding_bag(idx, w, fk.tensor([0]), padding_idx=6)
    with pytest.raises(ValueError, match="max mode does not support sparse"):
        F.embedding_bag(idx, w, fk.tensor([0]), mode="max", sparse=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding_bag(idx, w, fk.tensor([0]), sparse=True)
    with pytest.raises(NotImplementedError, match="scale_grad_by_freq"):
        F.embedding_bag(idx, w, fk.tensor([0]), scale_grad_by_freq=True)
    with pytest.raises(fk.ShapeError, match=r"weight must be 2-d"):
        F.embedding_bag(idx, fk.randn(6), fk.tensor([0]))


# ----------------------------------------------------------------------------- the layer
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_layer_matches_torch_both_ways(mode, dtype):
    theirs = torch.nn.EmbeddingBag(7, 4, mode=mode, padding_idx=0).to(TORCH_DTYPE[np.dtype(dtype)])
    ours = nn.EmbeddingBag(7, 4, mode=mode, padding_idx=0, dtype=dtype)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight"]
    ours.load_state_dict({k: v.detach().numpy().copy() for k, v in theirs.state_dict().items()})
    index, offsets = np.array([1, 0, 6, 6, 2, 0, 5]), np.array([0, 3, 3])
    out_f = ours(fk.tensor(index), fk.tensor(offsets))
    out_t = theirs(torch.tensor(index), torch.tensor(offsets))
    assert_close(out_f, out_t, dtype, "forward")
    up = randn(3, 4, dtype=dtype, seed=2)
    out_f.backward(fk.tensor(up))
    out_t.backward(torch.tensor(up))
    assert_close(ours.weight.grad, theirs.weight.grad, dtype, "weight gradient")
    assert not ours.weight.grad.numpy()[0].any()  # the padding row learns nothing
    fresh = torch.nn.EmbeddingBag(7, 4, mode=mode, padding_idx=0).to(TORCH_DTYPE[np.dtype(dtype)])
    fresh.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert_close(ours(fk.tensor(index.reshape(1, 7))), fresh(torch.tensor(index.reshape(1, 7))), dtype, "ours -> torch")


def test_embedding_bag_layer_init_repr_and_pretrained():
    fk.manual_seed(0)
    layer = nn.EmbeddingBag(2000, 50, padding_idx=-1)
    assert layer.padding_idx == 1999 and layer.mode == "mean"
    w = layer.weight.detach().numpy()
    np.testing.assert_array_equal(w[-1], 0)
    assert abs(w[:-1].mean()) < 0.01 and abs(w[:-1].std() - 1) < 0.01  # N(0, 1), as torch
    for build in (lambda m: m.EmbeddingBag(10, 3), lambda m: m.EmbeddingBag(10, 3, mode="max", padding_idx=2),
                  lambda m: m.EmbeddingBag(10, 3, max_norm=1.0, norm_type=1.0, mode="sum")):
        assert repr(build(nn)) == repr(build(torch.nn))
    table = fk.tensor([[1.0, 2.0], [3.0, 5.0]])
    frozen = nn.EmbeddingBag.from_pretrained(table, mode="sum")
    assert not frozen.weight.requires_grad
    assert frozen(fk.tensor([[0, 1]])).tolist() == [[4.0, 7.0]]
    with pytest.raises(ValueError, match="mode has to be one of"):
        nn.EmbeddingBag(3, 2, mode="median")
    with pytest.raises(ValueError, match="padding_idx"):
        nn.EmbeddingBag(3, 2, padding_idx=3)
    with pytest.raises(fk.ShapeError, match=r"_weight of shape \(2, 2\)"):
        nn.EmbeddingBag(3, 2, _weight=fk.zeros(2, 2))
