"""Conformance of the sorting, selecting and counting ops (fukaku/ops/sort.py) with PyTorch: values,
int64 indices (exactly), reverse mode, forward mode and second order, float32 and float64; ties,
NaNs, negative dims, empty and 0-d inputs; the counting ops (unique, searchsorted, bincount, histc,
histogram) forward only, as PyTorch differentiates none of them."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku
from conformance import FLOATS, check, check_random, randn

dtypes = pytest.mark.parametrize("dtype", FLOATS)
NAN, INF = float("nan"), float("inf")


def ties(*shape, seed: int = 0, levels: int = 3) -> np.ndarray:
    """Small integers as floats: many equal values in every row."""
    return np.random.default_rng(seed).integers(0, levels, shape).astype(np.float64)


def forward_only(fk_fn, th_fn, inputs, dtype=None):
    check(fk_fn, th_fn, inputs, dtype, backward=False, jvp=False)


# ----------------------------------------------------------------------------- sort, argsort, msort
@dtypes
@pytest.mark.parametrize("shape,dim", [((5,), -1), ((3, 4), 0), ((3, 4), -1), ((2, 3, 4), 1), ((2, 3, 4), -3),
                                       ((0, 3), 0), ((3, 0), 1), ((), 0), ((), -1)])
@pytest.mark.parametrize("descending", [False, True])
def test_sort(shape, dim, descending, dtype):
    check_random(lambda x: fukaku.sort(x, dim, descending), lambda x: torch.sort(x, dim, descending), [shape], dtype,
                 second=True)
    check_random(lambda x: x.sort(dim=dim, descending=descending, stable=True),
                 lambda x: x.sort(dim=dim, descending=descending, stable=True), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("descending", [False, True])
def test_sort_ties_are_stable(descending, dtype):
    """Equal values keep their order in both directions (PyTorch's CPU sort is stable): indices match exactly,
    and so does the gradient, which goes to the element each value came from."""
    for shape, dim in [((4, 9), -1), ((9, 4), 0)]:
        x = ties(*shape)
        check(lambda x: fukaku.sort(x, dim, descending), lambda x: torch.sort(x, dim, descending), [x], dtype)
        check(lambda x: fukaku.argsort(x, dim, descending), lambda x: torch.argsort(x, dim, descending), [x], dtype)


@dtypes
def test_sort_nan_and_inf(dtype):
    """NaN sorts above +inf: last ascending, first descending."""
    x = np.array([[1.0, NAN, -INF, 0.5, INF, NAN, -2.0], [NAN, 3.0, 3.0, -INF, 0.0, 1.0, NAN]])
    for descending in (False, True):
        check(lambda x: fukaku.sort(x, descending=descending), lambda x: torch.sort(x, descending=descending), [x],
              dtype)


def test_sort_integer_and_bool():
    for a in [np.array([[3, -1, 2, 3, 0], [5, 5, 1, -7, 5]]), np.array([True, False, True, False])]:
        forward_only(lambda x: fukaku.sort(x, -1, True), lambda x: torch.sort(x, -1, True), [a])
        forward_only(lambda x: x.argsort(), lambda x: x.argsort(), [a])


@dtypes
@pytest.mark.parametrize("shape,dim", [((4, 3), -1), ((4, 3), 1), ((2, 3, 4), 0), ((5,), 0)])
def test_argsort(shape, dim, dtype):
    check_random(lambda x: fukaku.argsort(x, dim), lambda x: torch.argsort(x, dim), [shape], dtype)
    check_random(lambda x: x.argsort(dim, True), lambda x: x.argsort(dim, True), [shape], dtype)


@dtypes
@pytest.mark.parametrize("shape", [(4, 3), (5,), (2, 3, 4)])
def test_msort(shape, dtype):
    check_random(fukaku.msort, torch.msort, [shape], dtype, second=True)
    check_random(lambda x: x.msort(), lambda x: x.msort(), [shape], dtype, jvp=False)


# ----------------------------------------------------------------------------- topk
@dtypes
@pytest.mark.parametrize("shape,k,dim,largest", [((6,), 3, -1, True), ((6,), 3, 0, False), ((4, 5), 2, 0, True),
                                                 ((4, 5), 5, 1, False), ((2, 3, 4), 1, -2, True), ((4, 5), 0, 1, True),
                                                 ((0, 5), 2, 1, True), ((), 1, 0, True)])
def test_topk(shape, k, dim, largest, dtype):
    check_random(lambda x: fukaku.topk(x, k, dim, largest), lambda x: torch.topk(x, k, dim, largest), [shape], dtype,
                 second=True)
    check_random(lambda x: x.topk(k, dim=dim, largest=largest), lambda x: x.topk(k, dim=dim, largest=largest),
                 [shape], dtype, jvp=False)


@dtypes
def test_topk_unsorted(dtype):
    """sorted=False leaves the order to the implementation: compare the values (and their gradients) once sorted."""
    check_random(lambda x: fukaku.sort(fukaku.topk(x, 3, sorted=False).values).values,
                 lambda x: torch.sort(torch.topk(x, 3, sorted=False).values).values, [(4, 7)], dtype, second=True)


@dtypes
def test_topk_nan_counts_as_largest(dtype):
    x = np.array([[1.0, NAN, 3.0, 2.0], [4.0, 2.0, 1.0, 3.0]])
    check(lambda x: fukaku.topk(x, 2, largest=True), lambda x: torch.topk(x, 2, largest=True), [x], dtype)
    check(lambda x: fukaku.topk(x, 2, largest=False), lambda x: torch.topk(x, 2, largest=False), [x], dtype)


def _assert_picks(values, indices, x, dim):
    """``indices`` point at elements of ``x`` equal to ``values``, each element at most once per slice."""
    v, i = values.detach().numpy(), indices.numpy()
    np.testing.assert_array_equal(np.take_along_axis(x, i, dim), v)
    moved = np.moveaxis(i, dim, -1).reshape(-1, i.shape[dim])
    assert all(len(set(row)) == len(row) for row in moved.tolist())


@pytest.mark.parametrize("largest", [True, False])
def test_topk_ties(largest):
    """PyTorch does not say which of tied elements topk returns: the values must match it, and the indices
    must point at distinct elements with those values; fukaku takes the earliest, and the gradient goes there."""
    x = ties(5, 8, seed=3)
    got, want = fukaku.topk(fukaku.tensor(x), 4, largest=largest), torch.topk(torch.tensor(x), 4, largest=largest)
    np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
    _assert_picks(got.values, got.indices, x, -1)
    np.testing.assert_array_equal(got.indices.numpy(), np.argsort(-x if largest else x, -1, kind="stable")[:, :4])
    leaf = fukaku.tensor(x, requires_grad=True)
    fukaku.topk(leaf, 4, largest=largest).values.sum().backward()
    expected = np.zeros_like(x)
    np.put_along_axis(expected, got.indices.numpy(), 1.0, -1)
    np.testing.assert_array_equal(leaf.grad.numpy(), expected)


# ----------------------------------------------------------------------------- kthvalue
@dtypes
@pytest.mark.parametrize("shape,k,dim,keepdim", [((7,), 1, -1, False), ((7,), 4, 0, True), ((4, 5), 5, 1, False),
                                                 ((4, 5), 2, 0, True), ((2, 3, 4), 3, -1, False), ((0, 4), 2, 1, False),
                                                 ((), 1, 0, False)])
def test_kthvalue(shape, k, dim, keepdim, dtype):
    check_random(lambda x: fukaku.kthvalue(x, k, dim, keepdim), lambda x: torch.kthvalue(x, k, dim, keepdim), [shape],
                 dtype, second=True)
    check_random(lambda x: x.kthvalue(k, dim), lambda x: x.kthvalue(k, dim), [shape], dtype, jvp=False)


def test_kthvalue_ties_and_nan():
    """With ties PyTorch leaves the index unspecified: the values match it, the index points at an element with
    that value, and fukaku's is the k-th of the stable order; NaN counts as the largest value."""
    x = ties(6, 7, seed=5)
    x[1, 3] = NAN
    for k in (1, 4, 7):
        got, want = fukaku.kthvalue(fukaku.tensor(x), k, keepdim=True), torch.kthvalue(torch.tensor(x), k, keepdim=True)
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())
        np.testing.assert_array_equal(np.take_along_axis(x, got.indices.numpy(), -1), got.values.numpy())
        np.testing.assert_array_equal(got.indices.numpy(), np.argsort(x, -1, kind="stable")[:, k - 1:k])


# ----------------------------------------------------------------------------- median, nanmedian
@dtypes
@pytest.mark.parametrize("shape", [(7,), (4, 6), (2, 3, 4), (1,), ()])
def test_median_all(shape, dtype):
    check_random(fukaku.median, torch.median, [shape], dtype, second=True)
    check_random(lambda x: x.nanmedian(), lambda x: x.nanmedian(), [shape], dtype, second=True)


@dtypes
def test_median_all_ties_share_the_gradient(dtype):
    """Without a dim the gradient is shared evenly between the elements equal to the median, as in torch."""
    check(fukaku.median, torch.median, [ties(3, 5, seed=1)], dtype, second=True)
    check(fukaku.nanmedian, torch.nanmedian, [ties(4, 4, seed=2)], dtype, second=True)


@dtypes
def test_median_all_nan(dtype):
    """median is NaN when a NaN is present (its gradient goes to the NaNs, its tangent is NaN); nanmedian skips them."""
    x = np.array([[3.0, NAN, 1.0], [2.0, NAN, 5.0]])
    check(fukaku.median, torch.median, [x], dtype)
    check(fukaku.nanmedian, torch.nanmedian, [x], dtype, second=True)
    check(fukaku.nanmedian, torch.nanmedian, [np.full((2, 2), NAN)], dtype)


@dtypes
@pytest.mark.parametrize("shape,dim,keepdim", [((7,), 0, False), ((4, 6), 1, True), ((4, 6), 0, False),
                                               ((2, 3, 4), -1, False), ((2, 3, 4), -2, True), ((0, 3), 1, False),
                                               ((), 0, False), ((), -1, True)])
def test_median_dim(shape, dim, keepdim, dtype):
    check_random(lambda x: fukaku.median(x, dim, keepdim), lambda x: torch.median(x, dim, keepdim), [shape], dtype,
                 second=True)
    check_random(lambda x: x.nanmedian(dim, keepdim=keepdim), lambda x: x.nanmedian(dim, keepdim=keepdim), [shape],
                 dtype, jvp=False)


@dtypes
def test_median_dim_nan(dtype):
    """Along a dim, median is NaN at the first NaN of the slice; nanmedian is the lower median of the rest."""
    x = np.array([[NAN, 1.0, NAN, 2.0, 0.5], [3.0, NAN, 1.0, 2.0, 4.0], [1.0, 2.0, 3.0, 4.0, 0.0]])
    check(lambda x: fukaku.median(x, 1), lambda x: torch.median(x, 1), [x], dtype)
    check(lambda x: fukaku.nanmedian(x, 1), lambda x: torch.nanmedian(x, 1), [x], dtype)
    all_nan = fukaku.nanmedian(fukaku.tensor([[NAN, NAN], [1.0, 2.0]]), 1)
    assert np.isnan(all_nan.values.numpy()[0]) and all_nan.values.numpy()[1] == 1.0


def test_median_even_count_is_the_lower_middle():
    assert fukaku.median(fukaku.tensor([4.0, 1.0, 3.0, 2.0])).item() == 2.0
    assert fukaku.median(fukaku.tensor([4, 1, 3, 2])).item() == 2
    assert np.isnan(fukaku.median(fukaku.zeros(0)).item()) and np.isnan(fukaku.nanmedian(fukaku.zeros(0)).item())


# ----------------------------------------------------------------------------- mode
@dtypes
@pytest.mark.parametrize("shape,dim,keepdim", [((9,), -1, False), ((4, 7), 1, False), ((7, 4), 0, True),
                                               ((2, 5, 3), 1, False), ((3, 0), 0, False), ((), 0, False)])
def test_mode(shape, dim, keepdim, dtype):
    """Ties of counts go to the smallest value, and its index is its last occurrence (PyTorch's CPU kernel)."""
    x = ties(*shape, seed=4)
    check(lambda x: fukaku.mode(x, dim, keepdim), lambda x: torch.mode(x, dim, keepdim), [x], dtype, second=True)
    check(lambda x: x.mode(dim), lambda x: x.mode(dim), [x], dtype, jvp=False)


def test_mode_integers():
    a = np.array([[1, 1, 2, 2, 3], [3, 2, 1, 2, 3], [5, 4, 4, 5, 5]])
    for dim in (0, 1):
        forward_only(lambda x: fukaku.mode(x, dim), lambda x: torch.mode(x, dim), [a])


# ----------------------------------------------------------------------------- quantile, nanquantile
INTERPOLATIONS = ["linear", "lower", "higher", "midpoint", "nearest"]


@dtypes
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
@pytest.mark.parametrize("shape,q,dim,keepdim", [((7,), 0.3, None, False), ((4, 6), 0.5, 1, False),
                                                 ((4, 6), [0.0, 0.25, 1.0], 0, True), ((2, 3, 5), 0.9, -1, True),
                                                 ((2, 3, 5), [0.1, 0.75], None, False), ((2, 3, 5), [0.6], None, True),
                                                 ((), 0.5, None, False), ((), [0.2, 0.5], 0, True), ((1,), 0.4, 0, False)])
def test_quantile(shape, q, dim, keepdim, interpolation, dtype):
    def qs(lib, x):
        return lib.tensor(q, dtype=x.dtype) if isinstance(q, list) else q

    kw = dict(interpolation=interpolation)
    check_random(lambda x: fukaku.quantile(x, qs(fukaku, x), dim, keepdim, **kw),
                 lambda x: torch.quantile(x, qs(torch, x), dim, keepdim, **kw), [shape], dtype, second=True)
    check_random(lambda x: x.nanquantile(qs(fukaku, x), dim=dim, keepdim=keepdim, **kw),
                 lambda x: x.nanquantile(qs(torch, x), dim=dim, keepdim=keepdim, **kw), [shape], dtype, jvp=False)


@dtypes
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quantile_nan(interpolation, dtype):
    """A slice with a NaN has NaN quantiles; nanquantile ranks the other values (NaN where all are NaN)."""
    x = np.array([[3.0, 1.0, NAN, 2.0, 1.5], [0.5, 4.0, 2.5, -1.0, 2.0], [NAN, NAN, NAN, NAN, NAN]])
    for q in (0.4, [0.25, 0.5, 1.0]):
        def f(lib, name):
            return lambda x: getattr(lib, name)(x, lib.tensor(q, dtype=x.dtype) if isinstance(q, list) else q, dim=1,
                                                interpolation=interpolation)
        check(f(fukaku, "quantile"), f(torch, "quantile"), [x], dtype)
        check(f(fukaku, "nanquantile"), f(torch, "nanquantile"), [x], dtype)


@dtypes
def test_quantile_ties(dtype):
    check(lambda x: fukaku.quantile(x, 0.3), lambda x: torch.quantile(x, 0.3), [ties(3, 5, seed=7)], dtype)
    check(lambda x: fukaku.quantile(x, 0.5, dim=0), lambda x: torch.quantile(x, 0.5, dim=0), [ties(6, 3, seed=8)],
          dtype)


# ----------------------------------------------------------------------------- unique, unique_consecutive
UNIQUE_INPUTS = [
    np.array([3.0, 1.0, 2.0, 1.0, 3.0, 1.0]),
    np.array([[2, 0, 2], [1, 1, 0]]),
    np.array([1.0, NAN, 2.0, NAN, 1.0]),  # every NaN is distinct
    np.array([True, False, True]),
    np.zeros((0, 3)),
    np.array(5.0),
]


@pytest.mark.parametrize("x", UNIQUE_INPUTS, ids=[f"u{i}" for i in range(len(UNIQUE_INPUTS))])
@pytest.mark.parametrize("inverse,counts", [(False, False), (True, False), (False, True), (True, True)])
def test_unique(x, inverse, counts):
    forward_only(lambda x: fukaku.unique(x, return_inverse=inverse, return_counts=counts),
                 lambda x: torch.unique(x, return_inverse=inverse, return_counts=counts), [x])
    forward_only(lambda x: x.unique(sorted=False, return_inverse=inverse, return_counts=counts),
                 lambda x: x.unique(sorted=False, return_inverse=inverse, return_counts=counts), [x])
    forward_only(lambda x: fukaku.unique_consecutive(x, return_inverse=inverse, return_counts=counts),
                 lambda x: torch.unique_consecutive(x, return_inverse=inverse, return_counts=counts), [x])


@pytest.mark.parametrize("x,dim", [(np.array([[1, 2], [1, 2], [0, 5], [1, 2]]), 0), (np.array([[1, 2], [1, 2], [0, 5]]), 1),
                                   (np.array([[[1.0, 2.0]], [[1.0, 2.0]], [[0.0, -1.0]]]), -3),
                                   (np.array([[1, 1], [1, 1], [2, 3], [1, 1]]), 0), (np.zeros((0, 3)), 0)])
def test_unique_dim(x, dim):
    for inverse, counts in [(False, False), (True, True)]:
        forward_only(lambda x: fukaku.unique(x, return_inverse=inverse, return_counts=counts, dim=dim),
                     lambda x: torch.unique(x, return_inverse=inverse, return_counts=counts, dim=dim), [x])
        forward_only(lambda x: fukaku.unique_consecutive(x, inverse, counts, dim),
                     lambda x: torch.unique_consecutive(x, inverse, counts, dim), [x])


# ----------------------------------------------------------------------------- searchsorted, bucketize
SEQ = np.array([1.0, 2.0, 2.0, 3.0, 5.0])


@pytest.mark.parametrize("values", [np.array([2.0, 0.0, 5.0, 2.5, 6.0, 1.0]), np.array([[2.0, 3.0], [NAN, -1.0]]),
                                    np.array(2.0), np.array([], dtype=np.float64)])
@pytest.mark.parametrize("kw", [{}, {"right": True}, {"side": "right"}, {"side": "left"}, {"out_int32": True}])
def test_searchsorted(values, kw):
    forward_only(lambda s, v: fukaku.searchsorted(s, v, **kw), lambda s, v: torch.searchsorted(s, v, **kw),
                 [SEQ, values])
    right = kw.get("right", False)
    forward_only(lambda v, s: fukaku.bucketize(v, s, right=right), lambda v, s: torch.bucketize(v, s, right=right),
                 [values, SEQ])


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_batched(right):
    """An N-d sorted sequence: each row is searched by the matching row of the values."""
    seq = np.sort(ties(2, 3, 6, seed=9, levels=5), -1)
    values = ties(2, 3, 4, seed=10, levels=6) - 0.5 * (np.arange(4) % 2)
    forward_only(lambda s, v: fukaku.searchsorted(s, v, right=right), lambda s, v: torch.searchsorted(s, v, right=right),
                 [seq, values])
    forward_only(lambda s, v: fukaku.searchsorted(s, v), lambda s, v: torch.searchsorted(s, v), [seq[0, :1], values[0, :1]])


def test_searchsorted_sorter_scalar_and_dtypes():
    unsorted = np.array([[3.0, 1.0, 2.0, 2.0], [0.0, -1.0, 4.0, 1.0]])
    sorter = np.argsort(unsorted, -1, kind="stable")
    forward_only(lambda s, v: fukaku.searchsorted(s, v, sorter=fukaku.tensor(sorter)),
                 lambda s, v: torch.searchsorted(s, v, sorter=torch.tensor(sorter)),
                 [unsorted, np.array([[2.0, 0.5], [1.0, 5.0]])])
    forward_only(lambda s: fukaku.searchsorted(s, 2.5), lambda s: torch.searchsorted(s, 2.5), [SEQ])
    forward_only(lambda s: fukaku.bucketize(3.0, s, right=True), lambda s: torch.bucketize(3.0, s, right=True), [SEQ])
    forward_only(lambda s, v: fukaku.searchsorted(s, v), lambda s, v: torch.searchsorted(s, v),
                 [np.array([1, 3, 5]), np.array([2.0, 4.0, 5.0])])


# ----------------------------------------------------------------------------- bincount, histc, histogram
@pytest.mark.parametrize("weights", [None, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("minlength", [0, 9])
def test_bincount(weights, minlength):
    a = np.array([1, 3, 1, 0, 7, 3, 3])
    if weights is None:
        forward_only(lambda a: fukaku.bincount(a, minlength=minlength), lambda a: torch.bincount(a, minlength=minlength), [a])
        forward_only(lambda a: a.bincount(), lambda a: a.bincount(), [np.zeros(0, np.int64)])
        return
    w = (randn(7) * 3).astype(weights)
    forward_only(lambda a, w: fukaku.bincount(a, w, minlength), lambda a, w: torch.bincount(a, w, minlength), [a, w])


@pytest.mark.parametrize("x", [randn(50, seed=1), randn(4, 6, seed=2) * 3, np.array([1.0, 2, 1, 2.5, 4, 0]),
                               np.ones(3), np.zeros(0), np.array([1.0, NAN, 0.5, 3.0])])
@pytest.mark.parametrize("bins,lo,hi", [(10, 0, 0), (4, -1.0, 1.5), (7, 2.0, 2.0), (1, 0, 0)])
def test_histc(x, bins, lo, hi, dtype=np.float32):
    if np.isnan(x).any() and lo == hi:
        with pytest.raises(RuntimeError, match="not finite"):
            fukaku.histc(fukaku.tensor(x), bins, lo, hi)
        return
    for dt in FLOATS:
        forward_only(lambda x: fukaku.histc(x, bins, lo, hi), lambda x: torch.histc(x, bins, lo, hi), [x], dt)
    forward_only(lambda x: x.histc(bins=bins, min=lo, max=hi), lambda x: x.histc(bins=bins, min=lo, max=hi), [x])


@dtypes
@pytest.mark.parametrize("kw", [dict(bins=5), dict(bins=4, range=(-1.0, 2.0)), dict(bins=3, density=True),
                                dict(bins=6, range=(0.5, 0.5)), dict(bins=4, weight=True), dict(bins=4, weight=True,
                                                                                               density=True),
                                dict(edges=[-2.0, -0.5, 0.0, 1.0, 3.0]), dict(edges=[-1.0, 0.0, 2.5], density=True),
                                dict(edges=[1.0, 0.0])])
def test_histogram(kw, dtype):
    x = randn(5, 8, seed=12) * 1.5

    def call(lib):
        def f(x):
            args = dict(kw)
            if "edges" in args:
                args["bins"] = lib.tensor(args.pop("edges"), dtype=x.dtype)
            if args.pop("weight", False):
                args["weight"] = lib.tensor(np.abs(randn(5, 8, seed=13)), dtype=x.dtype).reshape(x.shape)
            return lib.histogram(x, **args)
        return f

    forward_only(call(fukaku), call(torch), [x], dtype)
    forward_only(lambda x: call(fukaku)(x.reshape(-1)), lambda x: call(torch)(x.reshape(-1)), [x], dtype)
    forward_only(lambda x: fukaku.histogram(x, 3), lambda x: torch.histogram(x, 3), [np.zeros(0)], dtype)


def test_histogram_result_fields():
    hist, edges = fukaku.histogram(fukaku.tensor([1.0, 2.0, 1.0]), bins=2)
    assert fukaku.histogram(fukaku.tensor([1.0]), 1).hist.tolist() == [1.0]
    assert hist.tolist() == [2.0, 1.0] and edges.tolist() == [1.0, 1.5, 2.0]


# ----------------------------------------------------------------------------- results, dtypes, no gradient
def test_named_results():
    x = fukaku.tensor([[3.0, 1.0, 2.0]])
    for result in [fukaku.sort(x), fukaku.topk(x, 2), fukaku.kthvalue(x, 1), fukaku.median(x, 1), fukaku.nanmedian(x, 1),
                   fukaku.mode(x, 1)]:
        values, indices = result
        assert result.values is values and result.indices is indices and indices.dtype == fukaku.int64
    assert type(fukaku.sort(x)).__name__ == "sort" and type(fukaku.mode(x)).__name__ == "mode"


def test_counting_ops_are_not_differentiable():
    x = fukaku.tensor([1.0, 2.0, 2.0], requires_grad=True)
    for out in [fukaku.unique(x), fukaku.unique_consecutive(x), fukaku.histc(x, 3), fukaku.histogram(x, 3).hist,
                fukaku.bincount(fukaku.tensor([0, 1, 1]), x), fukaku.searchsorted(x, x)]:
        assert not out.requires_grad


# ----------------------------------------------------------------------------- errors
def test_errors():
    x = fukaku.zeros(2, 3)
    for call, kind, words in [
        (lambda: fukaku.topk(x, 4), RuntimeError, "topk"),
        (lambda: fukaku.topk(x, -1), RuntimeError, "topk"),
        (lambda: fukaku.kthvalue(x, 0), RuntimeError, "kthvalue"),
        (lambda: fukaku.kthvalue(x, 4), RuntimeError, "kthvalue"),
        (lambda: fukaku.sort(x, 2), IndexError, "sort"),
        (lambda: fukaku.median(fukaku.zeros(0, 3), 0), IndexError, "median"),
        (lambda: fukaku.mode(fukaku.zeros(2, 0), 1), IndexError, "mode"),
        (lambda: fukaku.quantile(x, 1.5), RuntimeError, "range"),
        (lambda: fukaku.quantile(x, fukaku.tensor([0.5, 1.5])), RuntimeError, "range"),
        (lambda: fukaku.quantile(x, fukaku.tensor([[0.5]])), RuntimeError, "1D"),
        (lambda: fukaku.quantile(x, fukaku.tensor([0.5], dtype=fukaku.float64)), RuntimeError, "dtype"),
        (lambda: fukaku.quantile(fukaku.tensor([1, 2]), 0.5), RuntimeError, "float"),
        (lambda: fukaku.quantile(fukaku.zeros(0), 0.5), RuntimeError, "non-empty"),
        (lambda: fukaku.quantile(x, 0.5, interpolation="cubic"), RuntimeError, "interpolation"),
        (lambda: fukaku.unique(fukaku.zeros(2, 0), dim=0), RuntimeError, "0 sized"),
        (lambda: fukaku.searchsorted(fukaku.tensor(1.0), x), RuntimeError, "positive dimension"),
        (lambda: fukaku.searchsorted(fukaku.zeros(3), x, side="left", right=True), RuntimeError, "opposites"),
        (lambda: fukaku.searchsorted(fukaku.zeros(3), x, side="middle"), RuntimeError, "side"),
        (lambda: fukaku.searchsorted(fukaku.zeros(3, 2), x), RuntimeError, "first N-1 dimensions"),
        (lambda: fukaku.searchsorted(fukaku.zeros(3), x, sorter=fukaku.tensor([0, 1])), RuntimeError, "sorter"),
        (lambda: fukaku.bucketize(x, fukaku.zeros(2, 2)), RuntimeError, "1 dimension"),
        (lambda: fukaku.bincount(fukaku.tensor([-1, 2])), RuntimeError, "non-negative"),
        (lambda: fukaku.bincount(fukaku.tensor([[1, 2]])), RuntimeError, "1-d"),
        (lambda: fukaku.bincount(fukaku.tensor([1.0])), NotImplementedError, "integer"),
        (lambda: fukaku.bincount(fukaku.tensor([1, 2]), fukaku.tensor([1.0])), RuntimeError, "weights"),
        (lambda: fukaku.bincount(fukaku.tensor([1]), minlength=-1), RuntimeError, "minlength"),
        (lambda: fukaku.histc(fukaku.tensor([1, 2]), 3), NotImplementedError, "floating"),
        (lambda: fukaku.histc(x, 3, 2.0, 1.0), RuntimeError, "larger than min"),
        (lambda: fukaku.histc(fukaku.tensor([1.0, INF]), 3), RuntimeError, "not finite"),
        (lambda: fukaku.histc(x, 0), RuntimeError, "bins"),
        (lambda: fukaku.histogram(x, 3, range=(2.0, 1.0)), RuntimeError, "exceed"),
        (lambda: fukaku.histogram(x, fukaku.tensor([0.0, 1.0], dtype=fukaku.float64)), RuntimeError, "dtype"),
    ]:
        with pytest.raises(kind, match=words):
            call()
    with pytest.raises(fukaku.ShapeError):
        fukaku.histogram(x, 3, weight=fukaku.ones(3))
