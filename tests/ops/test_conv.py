"""fukaku/ops/conv.py through nn.functional: conv1d/2d/3d, conv_transpose1d/2d/3d, unfold and fold
against PyTorch (forward, backward, jvp, both second orders) across stride, padding (ints, pairs,
'same', 'valid'), dilation, groups, depthwise, odd and non-square sizes, batch size 1, unbatched
input, float32 and float64; the wide-row and exact layouts of the engine; finite differences; the
errors (ShapeError naming the op, the shapes and the output-size formula)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, check, randn
from fukaku.ops.conv import ConvGeometry

# (name, input shape, weight shape, keyword arguments): every case runs with a bias and, in float64,
# the full check (forward, backward, jvp, reverse-over-reverse, forward-over-reverse)
CONV_CASES = [
    ("2d_pad1_wide", (2, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ("2d_stride2_nonsquare", (2, 3, 7, 8), (4, 3, 3, 2), dict(stride=2, padding=(1, 2))),
    ("2d_stride_rows_only", (1, 2, 7, 6), (3, 2, 3, 3), dict(stride=(2, 1), padding=1)),
    ("2d_dilation_same", (2, 2, 7, 7), (3, 2, 3, 3), dict(padding="same", dilation=2)),
    ("2d_even_kernel_same", (1, 3, 6, 5), (2, 3, 2, 4), dict(padding="same")),
    ("2d_valid", (2, 3, 6, 5), (2, 3, 3, 2), dict(padding="valid")),
    ("2d_groups", (2, 4, 6, 5), (6, 2, 3, 3), dict(groups=2, stride=(1, 2), padding=1)),
    ("2d_depthwise_batch1", (1, 3, 5, 5), (6, 1, 3, 3), dict(groups=3, padding="same")),
    ("2d_1x1", (2, 4, 3, 5), (3, 4, 1, 1), dict()),
    ("2d_kernel_covers_input", (2, 2, 4, 3), (3, 2, 4, 3), dict()),
    ("2d_stride_larger_than_kernel", (1, 2, 9, 8), (2, 2, 2, 2), dict(stride=3, padding=1, dilation=2)),
    ("1d", (2, 3, 9), (4, 3, 3), dict(stride=2, padding=2, dilation=2)),
    ("1d_groups_same", (2, 4, 8), (4, 2, 4), dict(padding="same", groups=2)),
    ("3d_wide", (1, 2, 4, 4, 5), (2, 2, 3, 3, 3), dict(padding=1)),
    ("3d_strided", (2, 2, 5, 4, 4), (3, 2, 2, 3, 2), dict(stride=(2, 1, 2), padding=(0, 1, 1))),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, x_shape, w_shape, kw", CONV_CASES, ids=[c[0] for c in CONV_CASES])
def test_conv_matches_torch(name, x_shape, w_shape, kw, dtype):
    nd = len(x_shape) - 2
    fk_conv, th_conv = getattr(F, f"conv{nd}d"), getattr(TF, f"conv{nd}d")
    arrays = [randn(x_shape, seed=1), randn(w_shape, seed=2), randn(w_shape[0], seed=3)]
    check(lambda x, w, b: fk_conv(x, w, b, **kw), lambda x, w, b: th_conv(x, w, b, **kw), arrays, dtype,
          second=dtype == np.float64)


@pytest.mark.parametrize("wrt", ["w", "x", "wb", "b"])
def test_conv_with_some_inputs_constant(wrt):
    """The first layer of a network (x constant), a frozen weight (w constant), the bias alone: each
    gradient goes to its own input and the jvp takes the tangents that are there."""
    x0, w0, b0 = randn(2, 3, 6, 5, seed=4), randn(4, 3, 3, 3, seed=5), randn(4, seed=6)

    def conv(lib, functional):
        def f(*args):
            given = dict(zip(wrt, args, strict=True))
            x, w, b = (given.get(k, lib.tensor(v)) for k, v in zip("xwb", (x0, w0, b0), strict=True))
            return functional.conv2d(x, w, b, padding=1, stride=(1, 2))
        return f

    check(conv(fk, F), conv(torch, TF), [{"x": x0, "w": w0, "b": b0}[k] for k in wrt], np.float64)


def test_conv_without_bias_and_unbatched():
    check(lambda x, w: F.conv2d(x, w, padding=1), lambda x, w: TF.conv2d(x, w, padding=1),
          [randn(3, 5, 4, seed=7), randn(2, 3, 3, 3, seed=8)], np.float64)
    check(lambda x, w: F.conv1d(x, w, groups=3), lambda x, w: TF.conv1d(x, w, groups=3),
          [randn(3, 7, seed=9), randn(3, 1, 2, seed=10)], np.float32)


TRANSPOSE_CASES = [
    ("2d_stride2_output_padding", (2, 4, 3, 4), (4, 3, 3, 3), dict(stride=2, padding=1, output_padding=1)),
    ("2d_groups_dilation", (1, 4, 4, 3), (4, 2, 2, 3), dict(groups=2, dilation=2, stride=(2, 1))),
    ("2d_output_padding_below_dilation", (2, 2, 3, 3), (2, 3, 2, 2), dict(dilation=2, output_padding=1)),
    ("2d_wide_stride1", (2, 3, 5, 6), (3, 2, 3, 3), dict(padding=1)),
    ("1d", (2, 3, 5), (3, 2, 4), dict(stride=3, padding=2)),
    ("3d", (1, 2, 3, 3, 2), (2, 3, 2, 2, 2), dict(stride=2, padding=(1, 0, 0))),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name, x_shape, w_shape, kw", TRANSPOSE_CASES, ids=[c[0] for c in TRANSPOSE_CASES])
def test_conv_transpose_matches_torch(name, x_shape, w_shape, kw, dtype):
    nd = len(x_shape) - 2
    fk_fn, th_fn = getattr(F, f"conv_transpose{nd}d"), getattr(TF, f"conv_transpose{nd}d")
    groups = kw.get("groups", 1)
    arrays = [randn(x_shape, seed=11), randn(w_shape, seed=12), randn(w_shape[1] * groups, seed=13)]
    check(lambda x, w, b: fk_fn(x, w, b, **kw), lambda x, w, b: th_fn(x, w, b, **kw), arrays, dtype,
          second=dtype == np.float64)


def test_conv_transpose_unbatched_without_bias():
    check(lambda x, w: F.conv_transpose2d(x, w, stride=2), lambda x, w: TF.conv_transpose2d(x, w, stride=2),
          [randn(3, 2, 3, seed=14), randn(3, 2, 2, 2, seed=15)], np.float64)


def test_conv_transpose_is_the_input_gradient_of_conv():
    """⟨conv(x, w), g⟩ = ⟨x, conv_transpose(g, w)⟩ for a strided, padded, dilated, grouped convolution."""
    x, w, g = (fk.tensor(randn(s, seed=i)) for i, s in enumerate([(2, 4, 9, 8), (6, 2, 3, 2), (2, 6, 5, 3)]))
    kw = dict(stride=2, padding=(1, 0), dilation=(1, 2), groups=2)
    lhs = (F.conv2d(x, w, **kw) * g).sum().item()
    rhs = (x * F.conv_transpose2d(g, w, output_padding=(0, 1), **kw)).sum().item()
    assert abs(lhs - rhs) < 1e-9 * max(1.0, abs(lhs))


@pytest.mark.parametrize("dtype", FLOATS)
def test_unfold_and_fold_match_torch(dtype):
    kw = dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1))
    check(lambda x: F.unfold(x, **kw), lambda x: TF.unfold(x, **kw), [randn(2, 3, 6, 7, seed=16)], dtype,
          second=dtype == np.float64)
    blocks = TF.unfold(torch.zeros(1, 1, 6, 7), **kw).shape[-1]
    check(lambda c: F.fold(c, (6, 7), **kw), lambda c: TF.fold(c, (6, 7), **kw), [randn(2, 18, blocks, seed=17)],
          dtype, second=dtype == np.float64)


def test_unfold_and_fold_unbatched_and_overlapping():
    check(lambda x: F.unfold(x, 3), lambda x: TF.unfold(x, 3), [randn(2, 5, 4, seed=18)], np.float64)
    check(lambda c: F.fold(c, 5, 2), lambda c: TF.fold(c, 5, 2), [randn(8, 16, seed=19)], np.float64)


def test_conv_is_unfold_then_matmul():
    """seed 000 §6.2: a convolution is the weight matrix times the column matrix of the input."""
    x, w = fk.tensor(randn(2, 3, 6, 5, seed=20)), fk.tensor(randn(4, 3, 2, 3, seed=21))
    cols = F.unfold(x, (2, 3), padding=1)  # (2, 18, L)
    y = (w.reshape(4, -1) @ cols).reshape(2, 4, 7, 5)
    np.testing.assert_allclose(y.numpy(), F.conv2d(x, w, padding=1).numpy(), rtol=1e-12, atol=1e-12)


def test_gradcheck_against_finite_differences():
    x = fk.tensor(randn(1, 2, 5, 4, seed=22), requires_grad=True)
    w = fk.tensor(randn(2, 2, 3, 2, seed=23), requires_grad=True)
    b = fk.tensor(randn(2, seed=24), requires_grad=True)
    assert fk.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, stride=(2, 1), padding=1), (x, w, b))
    wt = fk.tensor(randn(2, 3, 2, 2, seed=25), requires_grad=True)
    assert fk.autograd.gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2), (x, wt))


def test_triple_backward():
    """A third derivative (each rule is again a convolution node): d³/dw³ of Σ conv(x, w)³ against torch."""
    x0, w0 = randn(1, 2, 5, 5, seed=26), randn(2, 2, 3, 3, seed=27)

    def third(lib, functional):
        x, w = lib.tensor(x0), lib.tensor(w0, requires_grad=True)
        (g,) = lib.autograd.grad((functional.conv2d(x, w, padding=1) ** 3).sum(), w, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), w, create_graph=True)
        (t,) = lib.autograd.grad(h.sum(), w)
        return t.numpy()

    np.testing.assert_allclose(third(fk, F), third(torch, TF), rtol=1e-9, atol=1e-9)


# ----------------------------------------------------------------------------- the engine's layouts
@pytest.mark.parametrize("shape, kernel, stride, padding, wide", [
    ((28, 28), (3, 3), (1, 1), 1, True),     # the layer of the speed target: wide rows
    ((14, 14), (3, 3), (1, 1), 1, True),
    ((4, 4), (3, 3), (1, 1), 1, True),       # rows of 4 + 1 shared padding column
    ((4, 4), (5, 5), (1, 1), 2, False),      # too much to discard: exact
    ((14, 14), (3, 3), (2, 2), 1, False),    # strided: exact
    ((9,), (3,), (1,), 1, False),            # 1-d rows are contiguous already
])
def test_wide_rows_only_where_they_pay(shape, kernel, stride, padding, wide):
    out = tuple((n + 2 * padding - k) // s + 1 for n, k, s in zip(shape, kernel, stride))
    g = ConvGeometry(shape, out, kernel, stride, ((padding, padding),) * len(shape), (1,) * len(shape))
    assert g.wide is wide


def test_outputs_are_contiguous_and_do_not_alias_the_inputs():
    x, w = fk.randn(2, 3, 8, 8), fk.randn(4, 3, 1, 1)
    for y in (F.conv2d(x, w), F.conv2d(x, w.expand(4, 3, 3, 3), padding=1)):  # a 1×1 conv reads x in place
        assert y.is_contiguous() and not np.shares_memory(y._data, x._data)


@pytest.mark.parametrize("in_size, kernel, padding, dilation", [
    ((5, 6), (3, 3), ((1, 1), (1, 1)), (1, 1)),     # the common case: rows of 6 + 1 shared zero
    ((5, 7), (2, 4), ((0, 1), (1, 2)), (1, 1)),     # 'same' with an even kernel: lo ≠ hi
    ((6, 9), (3, 3), ((2, 2), (2, 2)), (2, 2)),     # dilated 'same'
    ((4, 8), (3, 3), ((0, 0), (2, 0)), (1, 1)),     # padding on the left only
    ((4, 8), (3, 2), ((1, 1), (0, 1)), (1, 1)),     # on the right only
    ((5, 6), (3, 3), ((3, 3), (3, 3)), (1, 1)),     # output rows longer than S + max(lo, hi): the full pitch
    ((3, 4, 9), (2, 3, 3), ((1, 0), (0, 1), (1, 1)), (1, 1, 1)),
])
def test_wide_rows_agree_with_exact_windows(in_size, kernel, padding, dilation):
    """The three passes of the engine (im2col + GEMM, col2im, the weight gradient) on wide rows with shared
    padding, against the same passes on exact windows."""
    from fukaku.ops.conv import _convolve, _transpose, _weight_grad
    out = tuple(n + lo + hi - d * (k - 1) for n, (lo, hi), d, k in zip(in_size, padding, dilation, kernel))
    ones = (1,) * len(kernel)
    wide, exact = (ConvGeometry(in_size, out, kernel, ones, padding, dilation, 2, wide=w) for w in (True, False))
    x, w, y = randn((3, 4) + in_size, seed=32), randn((6, 2) + kernel, seed=33), randn((3, 6) + out, seed=34)
    for fn, args in ((_convolve, (x, w)), (_weight_grad, (x, y))):
        np.testing.assert_allclose(fn(*args, wide), fn(*args, exact), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(_transpose(y, w, wide, flip=False), _transpose(y, w, exact, flip=False), rtol=1e-12,
                               atol=1e-12)
    assert wide.wide or padding[-1] == (3, 3)


@pytest.mark.parametrize("in_size, kernel, padding, dilation, groups, c_in, c_out", [
    ((6, 7), (3, 3), ((1, 1), (1, 1)), (1, 1), 1, 3, 4),   # wide rows in col2im
    ((5, 6), (2, 3), ((1, 0), (0, 2)), (2, 1), 2, 4, 6),   # asymmetric padding, dilation, groups
    ((7,), (4,), ((2, 1),), (1,), 1, 2, 3),
    ((3, 4, 3), (2, 2, 2), ((0, 1), (1, 1), (0, 0)), (1, 1, 1), 1, 2, 2),
])
def test_both_transposed_convolution_algorithms_agree(in_size, kernel, padding, dilation, groups, c_in, c_out):
    """The flipped-kernel convolution and col2im compute the same adjoint (the forward pass picks one)."""
    from fukaku.ops.conv import _transpose
    out = tuple(n + lo + hi - d * (k - 1) for n, (lo, hi), d, k in zip(in_size, padding, dilation, kernel))
    g = ConvGeometry(in_size, out, kernel, (1,) * len(kernel), padding, dilation, groups)
    assert g.flipped() is not None
    y, w = randn((2, c_out) + out, seed=30), randn((c_out, c_in // groups) + kernel, seed=31)
    np.testing.assert_allclose(_transpose(y, w, g, flip=True), _transpose(y, w, g, flip=False), rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("name, x_shape, w_shape, kw", [c for c in CONV_CASES if "groups" not in c[3]],
                         ids=[c[0] for c in CONV_CASES if "groups" not in c[3]])
def test_rows_and_columns_engines_agree(monkeypatch, name, x_shape, w_shape, kw):
    """The position-major and channel-major engines compute the same three passes."""
    from fukaku.ops.conv import _convolve, _transpose, _weight_grad
    x, w = randn(x_shape, seed=35), randn(w_shape, seed=36)
    g = getattr(F, f"conv{len(x_shape) - 2}d")(fk.tensor(x, requires_grad=True), fk.tensor(w), **kw).grad_fn.geometry
    y = randn(x_shape[:1] + w_shape[:1] + g.out_size, seed=37)
    passes = {}
    for rows in (True, False):
        force_engine(monkeypatch, rows)
        passes[rows] = [_convolve(x, w, g), _weight_grad(x, y, g), _transpose(y, w, g)]
    for got, want in zip(passes[True], passes[False]):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_the_graph_keeps_no_column_matrices():
    """The weight gradient builds the columns again, block by block: a node holds only x and w."""
    x, w = fk.randn(2, 3, 6, 6, requires_grad=True), fk.randn(4, 3, 3, 3, requires_grad=True)
    node = F.conv2d(x, w, padding=1).grad_fn
    assert not [k for k, v in vars(node).items() if isinstance(v, np.ndarray)]
    assert [t.shape for t in node.saved] == [x.shape, w.shape]


# a batch of 5 in blocks of 2, 2 and 1: the block loop, its reused buffers and the smaller last block, for every
# layout of the engine
BLOCKED_CASES = [
    ("conv_wide", "conv2d", (5, 3, 7, 6), (4, 3, 3, 3), dict(padding=1)),
    ("conv_strided_groups", "conv2d", (5, 4, 7, 8), (6, 2, 3, 2), dict(stride=2, padding=(1, 0), groups=2)),
    ("conv_1x1_direct", "conv2d", (5, 4, 3, 5), (3, 4, 1, 1), dict()),
    ("conv_1x1_strided", "conv2d", (5, 4, 6, 6), (6, 4, 1, 1), dict(stride=2)),
    ("conv_first_layer", "conv2d", (5, 1, 6, 7), (10, 1, 3, 3), dict(padding=1)),  # per-sample columns
    ("conv_first_layer_groups", "conv2d", (5, 2, 6, 5), (20, 1, 3, 3), dict(padding=(1, 0), groups=2)),
    ("conv3d_wide", "conv3d", (5, 2, 3, 4, 5), (2, 2, 3, 3, 3), dict(padding=1)),
    ("transpose_col2im", "conv_transpose2d", (5, 4, 3, 4), (4, 3, 3, 3), dict(stride=2, padding=1,
                                                                             output_padding=1)),
    ("transpose_flipped", "conv_transpose1d", (5, 3, 6), (3, 2, 3), dict(padding=1)),
]


def force_engine(monkeypatch, rows: bool) -> None:
    """Every ungrouped pass on position-major rows, or none (the engine otherwise picks by channel counts)."""
    from fukaku.ops import conv
    monkeypatch.setattr(conv, "_by_rows", lambda g, c_in, c_out, weight_grad=False: (
        rows and g.groups == 1 and not conv._per_sample(g, c_in, c_out)))


@pytest.mark.parametrize("rows", [True, False], ids=["rows", "columns"])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("name, fn, x_shape, w_shape, kw", BLOCKED_CASES, ids=[c[0] for c in BLOCKED_CASES])
def test_blocks_of_the_batch_match_torch(monkeypatch, name, fn, x_shape, w_shape, kw, threads, rows):
    """In the caller's thread, and shared among two threads (blocks 0 and 2 in one, block 1 in the other), on
    either engine."""
    import threading

    from fukaku.ops import _parallel, conv
    force_engine(monkeypatch, rows)
    _parallel.Threads.count()
    if threads > 1 and not _parallel.Threads.blas:
        pytest.skip("threadpoolctl cannot set the BLAS library's threads here")
    sizes, pooled = [], set()
    columns, rows, unfold = conv._Blocks.columns, conv._Rows.columns, conv._unfold

    def recorded(self, block):
        pooled.add(threading.current_thread().name.startswith("fukaku-worker"))
        return columns(self, block)

    def recorded_rows(self, block):
        pooled.add(threading.current_thread().name.startswith("fukaku-worker"))
        return rows(self, block)

    def recorded_unfold(a, g):
        pooled.add(threading.current_thread().name.startswith("fukaku-worker"))
        return unfold(a, g)

    def blocks_of_two(n, per_sample, workers=1):
        sizes.append(n)
        return [(i, min(n, i + 2)) for i in range(0, n, 2)], min(n, 2)

    monkeypatch.setattr(conv._Blocks, "columns", recorded)
    monkeypatch.setattr(conv._Rows, "columns", recorded_rows)
    monkeypatch.setattr(conv, "_unfold", recorded_unfold)
    monkeypatch.setattr(conv, "_batch_blocks", blocks_of_two)
    monkeypatch.setattr(_parallel.Threads, "count", classmethod(lambda cls: threads))
    c_out = w_shape[1] * kw.get("groups", 1) if fn.startswith("conv_transpose") else w_shape[0]
    arrays = [randn(x_shape, seed=40), randn(w_shape, seed=41), randn(c_out, seed=42)]
    check(lambda x, w, b: getattr(F, fn)(x, w, b, **kw), lambda x, w, b: getattr(TF, fn)(x, w, b, **kw), arrays,
          np.float64)
    check(lambda x, w, b: getattr(F, fn)(x, w, b, **kw), lambda x, w, b: getattr(TF, fn)(x, w, b, **kw), arrays,
          np.float32)
    assert 5 in sizes  # the engine ran on the whole batch in blocks
    assert pooled == ({False, True} if threads > 1 else {False})


def test_batch_blocks_cover_the_batch_in_a_few_cache_sized_blocks():
    from fukaku.ops.conv import BLOCK_BYTES, PARALLEL_BYTES, _batch_blocks
    ranges, size = _batch_blocks(64, 16 * 9 * 32 * 34 * 4)  # the first stage of a CIFAR ResNet
    assert size * 16 * 9 * 32 * 34 * 4 <= BLOCK_BYTES and len(ranges) == -(-64 // size)
    assert {b - a for a, b in ranges} <= {size - 1, size}
    assert ranges[0][0] == 0 and ranges[-1][1] == 64 and all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
    assert _batch_blocks(3, 10 * BLOCK_BYTES) == ([(0, 1), (1, 2), (2, 3)], 1)  # huge samples: one per block
    assert _batch_blocks(7, 1) == ([(0, 7)], 7)
    assert _batch_blocks(10, BLOCK_BYTES // 3) == ([(0, 2), (2, 5), (5, 7), (7, 10)], 3)  # 3, 3, 3, 1 evened out
    assert _batch_blocks(10, BLOCK_BYTES // 4, workers=2) == ([(0, 2), (2, 5), (5, 7), (7, 10)], 3)  # 3 → 4 blocks
    assert _batch_blocks(64, BLOCK_BYTES // 20, workers=2) == ([(0, 16), (16, 32), (32, 48), (48, 64)], 16)
    assert _batch_blocks(8, PARALLEL_BYTES // 8, workers=2) == ([(0, 4), (4, 8)], 4)  # one block, shared by two
    assert _batch_blocks(8, PARALLEL_BYTES // 16, workers=2) == ([(0, 8)], 8)  # too little to share


def test_the_worked_example_of_the_output_size_formula():
    """seed 000 §6.2: N = 5, F = 3, Q = 1, s = 2 gives O = (5 − 3 + 2)/2 + 1 = 3."""
    assert F.conv2d(fk.randn(1, 1, 5, 5), fk.randn(1, 1, 3, 3), stride=2, padding=1).shape == (1, 1, 3, 3)


# ----------------------------------------------------------------------------- errors
def _shape_error(fn, *parts):
    with pytest.raises(fk.ShapeError) as info:
        fn()
    for p in parts:
        assert p in str(info.value), f"{p!r} not in {str(info.value)!r}"


def test_errors_name_op_shapes_and_fix():
    x = fk.randn(8, 3, 28, 28)
    _shape_error(lambda: F.conv2d(x, fk.randn(16, 1, 3, 3)), "conv2d", "(8, 3, 28, 28)", "(16, 1, 3, 3)",
                 "in_channels = 1")
    _shape_error(lambda: F.conv2d(fk.randn(1, 1, 2, 2), fk.randn(4, 1, 3, 3)), "conv2d", "(1, 1, 2, 2)",
                 "(4, 1, 3, 3)", "O = ⌊(N + 2P − D(K−1) − 1)/S⌋ + 1", "larger than the padded input")
    _shape_error(lambda: F.conv2d(fk.randn(1, 4, 5, 5), fk.randn(3, 2, 3, 3), groups=2), "groups=2",
                 "(3, 2, 3, 3)", "divide out_channels")
    _shape_error(lambda: F.conv2d(x, fk.randn(16, 3, 3)), "conv2d", "4-d weight", "(16, 3, 3)")
    _shape_error(lambda: F.conv1d(x, fk.randn(16, 3, 3)), "conv1d", "(8, 3, 28, 28)")
    _shape_error(lambda: F.conv2d(x, fk.randn(4, 3, 3, 3), fk.randn(3)), "bias", "(3,)", "(4,)")
    _shape_error(lambda: F.conv_transpose2d(fk.randn(1, 2, 3, 3), fk.randn(3, 2, 3, 3)), "conv_transpose2d",
                 "(1, 2, 3, 3)", "in_channels = 3")
    _shape_error(lambda: F.conv_transpose2d(fk.randn(1, 2, 1, 1), fk.randn(2, 2, 1, 1), padding=1),
                 "O = (N − 1)·S − 2P + D(K−1) + output_padding + 1")
    _shape_error(lambda: F.unfold(fk.randn(1, 1, 2, 2), 3), "unfold", "(2, 2)",
                 "O = ⌊(N + 2P − D(K−1) − 1)/S⌋ + 1")
    _shape_error(lambda: F.fold(fk.randn(1, 4, 10), (4, 5), 2), "fold", "(1, 4, 10)", "12")
    _shape_error(lambda: F.fold(fk.randn(1, 5, 12), (4, 5), 2), "fold", "divisible")


def test_argument_errors_as_torch():
    x, w = fk.randn(1, 3, 5, 5), fk.randn(4, 3, 3, 3)
    with pytest.raises(ValueError, match="not supported for strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="invalid padding string"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match="stride must be positive"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match="output padding must be smaller than either stride or dilation"):
        F.conv_transpose2d(fk.randn(1, 3, 5, 5), fk.randn(3, 3, 3, 3), output_padding=1)
    with pytest.raises(TypeError, match="dtype"):
        F.conv2d(x.double(), w)
    with pytest.raises(TypeError, match="stride must be an int or a tuple of 2 ints"):
        F.conv2d(x, w, stride=(1, 2, 3))
