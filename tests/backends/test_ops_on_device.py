"""The ops on a device: forward and backward of a representative case of every op family give, on
``'cuda'``, what they give on the CPU (and every output and gradient stays on the device).

The cases reuse the conformance tables of tests/ops/test_elementwise.py (binary, unary, activations,
unary math), then add one or more cases per family: reductions, shapes, indexing, linear algebra,
convolution, pooling, normalization, losses, attention, recurrence, embedding, padding, resampling.
On the stand-in GPU this shows that each op computes through the backend seam and never leaves the
device; on a real GPU (tools/gpu_check.sh) it is the conformance suite run on CuPy.
"""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
import fukaku.nn.functional as F
from backends.devicecheck import assert_device_matches_cpu
from conformance import randn
from ops.test_conv import CONV_CASES
from ops.test_elementwise import ACTIVATIONS, BINARY, MATH_BINARY, MATH_UNARY, UNARY, _domain, _operands

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

F32 = np.float32


def _r(*shape, seed=0, dtype=F32):
    return randn(*shape, seed=seed, dtype=dtype)


def _labels(n, k, seed=0):
    return np.random.default_rng(seed).integers(0, k, n)


# name: (function of tensors, inputs)
CASES = {}
CASES.update({f"binary {name}": (fns[0], list(_operands((3, 1, 4), (2, 4)))) for name, fns in BINARY.items()})
CASES.update({f"unary {name}": (fns[0], [_domain(name.removeprefix("method_"), (3, 4))]) for name, fns in UNARY.items()})
CASES.update({f"activation {name}": (fns[0], [2.0 * _r(4, 5, seed=5, dtype=np.float64)])
              for name, fns in ACTIVATIONS.items()})
CASES.update({f"math {name}": (fns[0], [fns[2]((3, 4), 0)]) for name, fns in MATH_UNARY.items()})
CASES.update({f"math {name}": (fns[0], list(fns[2]((3, 1), (4,)))) for name, fns in MATH_BINARY.items()})
CASES.update({f"conv {name}": (lambda x, w, kw=kw: getattr(F, f"conv{x.ndim - 2}d")(x, w, **kw),
                               [_r(*x_shape), _r(*w_shape, seed=1)]) for name, x_shape, w_shape, kw in CONV_CASES})
CASES.update({
    # reductions
    "sum dim": (lambda x: x.sum(dim=1, keepdim=True), [_r(3, 4, 5)]),
    "mean": (lambda x: x.mean(), [_r(3, 4)]),
    "var": (lambda x: x.var(dim=0), [_r(5, 3)]),
    "std": (lambda x: x.std(dim=-1, unbiased=False), [_r(4, 6)]),
    "max dim": (lambda x: x.max(dim=1), [_r(3, 5)]),
    "amax": (lambda x: x.amax(dim=(0, 2)), [_r(2, 3, 4)]),
    "logsumexp": (lambda x: x.logsumexp(dim=1), [_r(3, 5)]),
    "prod": (lambda x: x.prod(dim=1), [_r(3, 4)]),
    "cumsum": (lambda x: x.cumsum(dim=1), [_r(3, 5)]),
    "norm": (lambda x: x.norm(dim=1), [_r(3, 5)]),
    "argmax": (lambda x: x.argmax(dim=1), [_r(3, 5)]),
    "softmax": (lambda x: F.softmax(x, dim=-1), [_r(3, 5)]),
    "log_softmax": (lambda x: F.log_softmax(x, dim=0), [_r(3, 5)]),
    # shapes
    "reshape transpose": (lambda x: x.reshape(4, 6).t().contiguous(), [_r(2, 3, 4)]),
    "permute": (lambda x: x.permute(2, 0, 1), [_r(2, 3, 4)]),
    "cat": (lambda a, b: fk.cat([a, b], dim=1), [_r(2, 3), _r(2, 4, seed=1)]),
    "stack": (lambda a, b: fk.stack([a, b], dim=0), [_r(2, 3), _r(2, 3, seed=1)]),
    "split": (lambda x: x.split([1, 3], dim=1), [_r(2, 4)]),
    "expand": (lambda x: x.expand(3, 2, 4) * 2, [_r(2, 1)]),
    "flip": (lambda x: x.flip(0), [_r(3, 2)]),
    "roll": (lambda x: x.roll(1, dims=1), [_r(3, 4)]),
    "tril": (lambda x: x.tril(), [_r(4, 4)]),
    # indexing
    "basic index": (lambda x: x[1:, ::2], [_r(3, 4)]),
    "advanced index": (lambda x, i: x[i], [_r(5, 3), np.array([4, 0, 0, 2])]),
    "boolean mask": (lambda x: x[x > 0], [_r(4, 3)]),
    "gather": (lambda x, i: x.gather(1, i), [_r(3, 4), np.array([[0, 3], [1, 1], [2, 0]])]),
    "scatter_add": (lambda x, i, s: x.scatter_add(1, i, s), [_r(3, 4), np.array([[0, 3], [1, 1], [2, 0]]),
                                                             _r(3, 2, seed=1)]),
    "index_select": (lambda x, i: x.index_select(0, i), [_r(4, 3), np.array([3, 1])]),
    "index_add": (lambda x, i, s: x.index_add(0, i, s), [_r(4, 3), np.array([3, 3]), _r(2, 3, seed=1)]),
    "where": (lambda c, a, b: fk.where(c, a, b), [np.array([[True, False], [False, True]]), _r(2, 2), _r(2, 2, seed=1)]),
    "masked_fill": (lambda x: x.masked_fill(x < 0, 0.5), [_r(3, 4)]),
    "sort": (lambda x: x.sort(dim=1), [_r(3, 5)]),
    "topk": (lambda x: x.topk(2, dim=1), [_r(3, 5)]),
    # linear algebra
    "matmul": (fk.matmul, [_r(2, 3, 4), _r(4, 5, seed=1)]),
    "bmm": (fk.bmm, [_r(2, 3, 4), _r(2, 4, 2, seed=1)]),
    "einsum": (lambda a, b: fk.einsum("bij,bjk->bik", a, b), [_r(2, 3, 4), _r(2, 4, 2, seed=1)]),
    "linear": (F.linear, [_r(5, 4), _r(3, 4, seed=1), _r(3, seed=2)]),
    "outer": (fk.outer, [_r(3), _r(4, seed=1)]),
    "inv": (fk.linalg.inv, [_r(3, 3, dtype=np.float64) + 3 * np.eye(3)]),
    "solve": (fk.linalg.solve, [_r(3, 3, dtype=np.float64) + 3 * np.eye(3), _r(3, 2, seed=1, dtype=np.float64)]),
    "det": (fk.linalg.det, [_r(3, 3, dtype=np.float64) + 3 * np.eye(3)]),
    "cholesky": (lambda a: fk.linalg.cholesky(a @ a.mT + fk.eye(3, dtype=fk.float64, device=a.device)),
                 [_r(3, 3, dtype=np.float64)]),
    "qr": (lambda a: fk.linalg.qr(a), [_r(4, 3, dtype=np.float64)]),
    "eigh": (lambda a: fk.linalg.eigh(a + a.mT)[0], [_r(3, 3, dtype=np.float64)]),
    "svdvals": (fk.linalg.svdvals, [_r(4, 3, dtype=np.float64)]),
    # convolution and pooling
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1), [_r(2, 3, 6, 6), _r(4, 3, 3, 3, seed=1),
                                                                          _r(4, seed=2)]),
    "conv2d strided dilated grouped": (lambda x, w: F.conv2d(x, w, stride=2, padding=2, dilation=2, groups=2),
                                       [_r(2, 4, 7, 7), _r(6, 2, 3, 3, seed=1)]),
    "conv1d": (lambda x, w: F.conv1d(x, w, padding=1), [_r(2, 3, 8), _r(4, 3, 3, seed=1)]),
    "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1), [_r(2, 3, 4, 4),
                                                                                         _r(3, 2, 3, 3, seed=1)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 2), [_r(2, 3, 6, 6)]),
    "max_pool2d overlapping": (lambda x: F.max_pool2d(x, 3, stride=2, padding=1), [_r(2, 3, 7, 7)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2), [_r(2, 3, 6, 6)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, 1), [_r(2, 3, 5, 5)]),
    "interpolate": (lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), [_r(1, 2, 3, 3)]),
    "pad reflect": (lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"), [_r(1, 2, 4, 4)]),
    "unfold": (lambda x: F.unfold(x, 2), [_r(1, 2, 4, 4)]),
    # normalization
    "batch_norm train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), [_r(4, 3, 2, 2), _r(3, seed=1),
                                                                                           _r(3, seed=2)]),
    "batch_norm eval": (lambda x, m, v: F.batch_norm(x, m, v, training=False), [_r(4, 3), _r(3, seed=1),
                                                                              np.abs(_r(3, seed=2)) + 0.5]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (4,), w, b), [_r(3, 4), _r(4, seed=1), _r(4, seed=2)]),
    "group_norm": (lambda x: F.group_norm(x, 2), [_r(2, 4, 3)]),
    # losses
    "cross_entropy": (F.cross_entropy, [_r(5, 4), _labels(5, 4)]),
    "cross_entropy smoothing": (lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1), [_r(5, 4), _labels(5, 4)]),
    "nll_loss": (lambda x, t: F.nll_loss(F.log_softmax(x, dim=1), t), [_r(5, 4), _labels(5, 4)]),
    "mse_loss": (F.mse_loss, [_r(3, 4), _r(3, 4, seed=1)]),
    "l1_loss": (F.l1_loss, [_r(3, 4), _r(3, 4, seed=1)]),
    "huber_loss": (F.huber_loss, [_r(3, 4), _r(3, 4, seed=1)]),
    "bce_with_logits": (F.binary_cross_entropy_with_logits, [_r(3, 4), (_r(3, 4, seed=1) > 0).astype(F32)]),
    "kl_div": (lambda a, b: F.kl_div(F.log_softmax(a, dim=1), F.softmax(b, dim=1), reduction="batchmean"),
               [_r(3, 4), _r(3, 4, seed=1)]),
    # attention, recurrence, embedding
    "sdpa causal": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                    [_r(2, 2, 5, 4), _r(2, 2, 5, 4, seed=1), _r(2, 2, 5, 4, seed=2)]),
    "sdpa mask": (lambda q, k, v, m: F.scaled_dot_product_attention(q, k, v, attn_mask=m),
                  [_r(2, 3, 4), _r(2, 5, 4, seed=1), _r(2, 5, 4, seed=2), _r(3, 5, seed=3) > 0]),
    "embedding": (F.embedding, [np.array([[1, 3], [0, 3]]), _r(4, 3)]),
    # the ops that lean on CuPy's less common functions (ufunc.at/reduceat/accumulate, unique, lexsort, partition)
    "embedding_bag max": (lambda i, w, o: F.embedding_bag(i, w, o, mode="max"), [np.array([1, 3, 0, 3, 2]), _r(4, 3),
                                                                                  np.array([0, 2])]),
    "embedding_bag sum": (lambda i, w, o: F.embedding_bag(i, w, o, mode="sum"), [np.array([1, 3, 0, 3, 2]), _r(4, 3),
                                                                                  np.array([0, 2])]),
    "scatter_reduce amax": (lambda x, i, s: x.scatter_reduce(1, i, s, "amax"), [_r(3, 4), np.array([[0, 0], [1, 3],
                                                                                                  [2, 2]]),
                                                                                _r(3, 2, seed=1)]),
    "index_put accumulate": (lambda x, v: x.index_put((fk.tensor([0, 2, 0], device=x.device),), v, accumulate=True),
                             [_r(3, 2), _r(3, 2, seed=1)]),
    "cummax": (lambda x: x.cummax(dim=1), [_r(3, 5)]),
    "cummin ties": (lambda x: x.cummin(dim=0), [np.array([[3.0, 1.0], [1.0, 1.0], [2.0, 0.0], [1.0, 5.0]])]),
    "logcumsumexp": (lambda x: x.logcumsumexp(dim=1), [_r(3, 7)]),
    "pinv hermitian": (lambda x: fk.linalg.pinv(x @ x.mT, hermitian=True), [_r(2, 3, 3)]),
    "cumprod": (lambda x: x.cumprod(dim=0), [_r(4, 3)]),
    "median": (lambda x: x.median(dim=1), [_r(3, 5)]),
    "quantile": (lambda x: fk.quantile(x, 0.3, dim=1), [_r(3, 5)]),
    "kthvalue": (lambda x: x.kthvalue(2, dim=1), [_r(3, 5)]),
    "mode": (lambda x: fk.mode(x, dim=1), [np.array([[1, 2, 2, 3], [4, 4, 1, 1]])]),
    "unique": (lambda x: fk.unique(x, return_inverse=True, return_counts=True), [np.array([3, 1, 3, 2, 1])]),
    "unique_consecutive": (lambda x: fk.unique_consecutive(x, return_counts=True), [np.array([1, 1, 2, 2, 1])]),
    "searchsorted": (lambda s, v: fk.searchsorted(s, v, right=True), [np.array([1.0, 2.0, 2.0, 5.0]),
                                                                      np.array([2.0, 0.0, 6.0])]),
    "searchsorted rows": (lambda s, v: fk.searchsorted(s, v), [np.array([[1.0, 2.0, 2.0, 5.0], [0.0, 0.5, 3.0, 4.0]]),
                                                               np.array([[2.0, 0.0, 6.0], [0.5, 4.0, -1.0]])]),
    "bincount": (lambda x: fk.bincount(x, minlength=6), [np.array([0, 3, 3, 1])]),
    "histc": (lambda x: fk.histc(x, bins=4, min=-2, max=2), [_r(20)]),
    "interpolate bilinear": (lambda x: F.interpolate(x, size=(5, 3), mode="bilinear", align_corners=False),
                             [_r(1, 2, 4, 4)]),
    "interpolate bilinear down": (lambda x: F.interpolate(x, size=(2, 3), mode="bilinear"), [_r(1, 2, 6, 7)]),
    "interpolate trilinear": (lambda x: F.interpolate(x, scale_factor=1.5, mode="trilinear", align_corners=True),
                              [_r(1, 1, 3, 4, 2)]),
    "interpolate nearest-exact": (lambda x: F.interpolate(x, size=(3, 5), mode="nearest-exact"), [_r(1, 2, 4, 4)]),
})


@pytest.mark.parametrize("name", list(CASES))
def test_op_on_device_equals_cpu(cuda, name):
    fn, inputs = CASES[name]
    assert_device_matches_cpu(fn, inputs, cuda, what=name)


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_on_device_equal_cpu(cuda, mode):
    fk.manual_seed(0)
    layer = getattr(fk.nn, mode)(3, 4, num_layers=2, batch_first=True, bidirectional=True)
    state = {k: v.clone() for k, v in layer.state_dict().items()}

    def forward(x):
        layer.load_state_dict(state)
        layer.to(x.device)
        out, _ = layer(x)
        return out

    assert_device_matches_cpu(forward, [_r(2, 5, 3)], cuda, what=mode)
