"""fukaku.nn.utils.rnn against torch.nn.utils.rnn: padding, packing, their inverses and their gradients.

Every function runs on the same inputs in both libraries; :func:`check` compares the outputs, the
gradients (reverse and forward mode, second order) and the integer metadata (batch_sizes, the
permutations, the lengths) exactly.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as T

import fukaku as fk
import fukaku.nn.utils.rnn as R
from fukaku.nn.utils import PackedSequence, pack_padded_sequence, pad_sequence
from tests.conformance import FLOATS, assert_close, check, randn


def _fk_int(a) -> fk.Tensor:
    return fk.tensor(np.asarray(a, dtype=np.int64))


def _same_packed(got: R.PackedSequence, want: T.PackedSequence, dtype=None) -> None:
    assert isinstance(got, R.PackedSequence)
    assert_close(got.data, want.data, dtype)
    assert got.batch_sizes.tolist() == want.batch_sizes.tolist()
    assert got.batch_sizes.dtype == fk.int64
    for name in ("sorted_indices", "unsorted_indices"):
        g, w = getattr(got, name), getattr(want, name)
        assert (g is None) == (w is None), name
        if g is not None:
            assert g.tolist() == w.tolist(), name
            assert g.dtype == fk.int64


# lengths: sorted, unsorted with ties, all equal, one sequence
LENGTHS = [[5, 3, 3, 1], [2, 5, 2, 4], [4, 4, 4], [3]]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
def test_pack_padded_sequence_matches_torch(lengths, batch_first, dtype):
    steps, batch = 5, len(lengths)
    x = randn((batch, steps, 3) if batch_first else (steps, batch, 3), seed=1)
    is_sorted = lengths == sorted(lengths, reverse=True)
    got = pack_padded_sequence(fk.tensor(x.astype(dtype)), lengths, batch_first, enforce_sorted=is_sorted)
    want = T.pack_padded_sequence(torch.tensor(x.astype(dtype)), lengths, batch_first, enforce_sorted=is_sorted)
    _same_packed(got, want, dtype)
    check(lambda x: R.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False).data,
          lambda x: T.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False).data, [x], dtype,
          jvp=False)  # torch has no forward mode for packing: see test_forward_mode_of_linear_maps


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths", LENGTHS, ids=str)
def test_pad_packed_sequence_inverts_packing_with_gradients(lengths, batch_first):
    """pack → pad in both libraries, with padding_value and total_length: values, lengths and gradients."""
    x = randn((len(lengths), 5, 2) if batch_first else (5, len(lengths), 2), seed=2)

    def roundtrip(lib):
        def f(x):
            packed = lib.pack_padded_sequence(x, lengths, batch_first, enforce_sorted=False)
            return lib.pad_packed_sequence(packed, batch_first, padding_value=-2.5, total_length=7)
        return f

    check(roundtrip(R), roundtrip(T), [x], np.float64, jvp=False)


def test_pad_packed_sequence_of_sorted_input_and_default_length():
    lengths = torch.tensor([4, 2, 1])
    x = randn(4, 3, seed=3)
    got = R.pad_packed_sequence(R.pack_padded_sequence(fk.tensor(x), _fk_int(lengths)))
    want = T.pad_packed_sequence(T.pack_padded_sequence(torch.tensor(x), lengths))
    assert_close(got[0], want[0])
    assert got[1].tolist() == want[1].tolist() and got[1].dtype == fk.int64


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    seqs = [randn(3, 2, seed=4), randn(1, 2, seed=5), randn(4, 2, seed=6)]
    check(lambda *s: R.pad_sequence(s, batch_first, 0.5, padding_side),
          lambda *s: T.pad_sequence(s, batch_first, 0.5, padding_side), seqs, np.float32)


def test_pad_sequence_forms():
    # 1-d sequences, integer data, a tensor as the sequence of its rows, the first sequence's dtype
    ints = [np.array([1, 2, 3]), np.array([4])]
    assert R.pad_sequence([fk.tensor(a) for a in ints], padding_value=7).tolist() == \
        T.pad_sequence([torch.tensor(a) for a in ints], padding_value=7).tolist()
    x = randn(2, 3, seed=7)
    assert_close(R.pad_sequence(fk.tensor(x)), T.pad_sequence(torch.tensor(x)))
    mixed = R.pad_sequence([fk.ones(2), fk.ones(3, dtype=fk.float64)])
    assert mixed.dtype == fk.float32 and mixed.shape == (3, 2)


def test_pack_sequence_and_unpack_sequence_match_torch():
    seqs = [randn(2, 3, seed=8), randn(4, 3, seed=9), randn(1, 3, seed=10)]
    got = R.pack_sequence([fk.tensor(s) for s in seqs], enforce_sorted=False)
    want = T.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    _same_packed(got, want)
    back = R.unpack_sequence(got)
    assert [tuple(b.shape) for b in back] == [s.shape for s in seqs]
    for b, s in zip(back, seqs):
        assert_close(b, s)
    check(lambda *s: R.pack_sequence(s, enforce_sorted=False).data,
          lambda *s: T.pack_sequence(s, enforce_sorted=False).data, seqs, np.float64, jvp=False)
    check(lambda *s: tuple(R.unpack_sequence(R.pack_sequence(s, enforce_sorted=False))),
          lambda *s: tuple(T.unpack_sequence(T.pack_sequence(s, enforce_sorted=False))), seqs, np.float64,
          jvp=False)


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_matches_torch(batch_first):
    lengths = [3, 1, 4]
    x = randn((3, 4, 2) if batch_first else (4, 3, 2), seed=11)
    # torch's unpad_sequence transposes its input in place when batch_first=False: give it a clone
    check(lambda x: tuple(R.unpad_sequence(x, _fk_int(lengths), batch_first)),
          lambda x: tuple(T.unpad_sequence(x.clone(), torch.tensor(lengths), batch_first)), [x], np.float64)


@pytest.mark.parametrize("fn", [
    lambda x: R.pack_padded_sequence(x, [2, 4, 1], enforce_sorted=False).data,
    lambda x: R.pad_packed_sequence(R.pack_padded_sequence(x, [4, 3, 1]), True, total_length=5)[0],
    lambda x: R.pad_sequence([x[:2, 0], x[:, 1], x[:1, 2]], padding_side="left"),
], ids=["pack", "pack-pad", "pad_sequence"])
def test_forward_mode_of_linear_maps(fn):
    """Packing and padding are linear: the tangent of f(x) along v is f(v) (torch lacks forward mode here)."""
    x, v = fk.tensor(randn(4, 3, 2, seed=12)), fk.tensor(randn(4, 3, 2, seed=13))
    primal, tangent = fk.autograd.functional.jvp(fn, (x,), (v,))
    assert_close(primal, fn(x).numpy())
    assert_close(tangent, fn(v).numpy())


def test_gradient_reaches_only_the_real_steps():
    x = fk.randn(4, 3, 2, requires_grad=True)
    packed = pack_padded_sequence(x, fk.tensor([4, 2, 1]))
    packed.data.sum().backward()
    mask = (np.arange(4)[:, None] < np.array([4, 2, 1])[None, :]).astype(np.float32)
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(mask[..., None], (4, 3, 2)))


def test_packed_sequence_namedtuple_and_conversions():
    p = R.pack_sequence([fk.tensor([1, 2, 3]), fk.tensor([4, 5])])
    data, batch_sizes, sorted_indices, unsorted_indices = p
    assert data is p.data and sorted_indices is None and unsorted_indices is None
    assert repr(p).startswith("PackedSequence(data=tensor([1, 4, 2, 5, 3]), batch_sizes=tensor([2, 2, 1])")
    assert p.long() is p  # nothing to change
    d = p.double()
    assert d.data.dtype == fk.float64 and d.batch_sizes is p.batch_sizes
    assert p.float().data.dtype == fk.float32 and p.half().data.dtype == fk.float16
    assert p.int().data.dtype == fk.int32 and p.byte().data.dtype == fk.uint8
    assert p.to(fk.float64).data.dtype == fk.float64 and p.cpu() is p
    assert p.is_cuda is False and p.is_pinned() is False
    with pytest.raises(fk.DeviceError):
        p.cuda()
    u = R.pack_sequence([fk.tensor([1]), fk.tensor([4, 5])], enforce_sorted=False).double()
    assert u.sorted_indices.tolist() == [1, 0] and u.unsorted_indices.tolist() == [1, 0]
    # PyTorch's legacy form (data, batch_sizes) and the inverse computed from sorted_indices
    q = PackedSequence((p.data, p.batch_sizes), sorted_indices=fk.tensor([2, 0, 1]))
    assert q.batch_sizes is p.batch_sizes and q.unsorted_indices.tolist() == [1, 2, 0]
    assert R.invert_permutation(None) is None


def test_fukaku_run_path():
    import fukaku.nn.utils as U
    assert U.rnn is R and U.pad_sequence is R.pad_sequence


# ------------------------------------------------------------------------ errors that name the fix
def test_unsorted_lengths_with_enforce_sorted_names_the_fix():
    with pytest.raises(RuntimeError, match=r"enforce_sorted=False.*") as e:
        pack_padded_sequence(fk.zeros(4, 3), [2, 4, 1])
    assert "[2, 4, 1]" in str(e.value) and "decreasing" in str(e.value)
    with pytest.raises(RuntimeError, match="enforce_sorted=False"):
        R.pack_sequence([fk.zeros(1), fk.zeros(2)])


@pytest.mark.parametrize("lengths, match", [
    ([3, 2], r"len\(lengths\).*batch_size=3.*\(4, 3\)"),
    ([3, 2, 0], "greater than 0"),
    ([5, 2, 1], r"length 5 does not fit.*4 steps"),
    ([[3, 2, 1]], "1-d"),
])
def test_bad_lengths(lengths, match):
    with pytest.raises((ValueError, RuntimeError), match=match):
        pack_padded_sequence(fk.zeros(4, 3), fk.tensor(lengths) if isinstance(lengths[0], list) else lengths)


def test_bad_inputs():
    with pytest.raises(ValueError, match=r"at least 2 dimensions.*\(3,\)"):
        pack_padded_sequence(fk.zeros(3), [3])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        R.pad_packed_sequence(R.pack_sequence([fk.zeros(3)]), total_length=2)
    with pytest.raises(ValueError, match=r"trailing shape.*\(3,\).*\(2, 4\)"):
        pad_sequence([fk.zeros(2, 3), fk.zeros(2, 4)])
    with pytest.raises(RuntimeError, match="left or right, but got middle"):
        pad_sequence([fk.zeros(2)], padding_side="middle")
    with pytest.raises(RuntimeError, match="empty list"):
        pad_sequence([])
