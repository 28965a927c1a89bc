"""Tensor basics: creation, dtypes and promotion, conversion, operators, errors."""
import numpy as np
import pytest
import torch

import fukaku as fk


def test_softmax_demo_of_seed_003_prints_the_textbook_numbers():
    out = fk.softmax(fk.tensor([-5.0, -3.0, 0.0, 1.0, 10.0], dtype=fk.float64), dim=0).numpy()
    expected = [3.05849905e-07, 2.25994211e-06, 4.53921506e-05, 1.23388658e-04, 9.99828653e-01]
    assert np.array2string(out, precision=8, separator=" ") == np.array2string(np.array(expected), precision=8, separator=" ")
    assert out.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("data, dtype", [
    (1.5, fk.float32), (3, fk.int64), (True, fk.bool), ([1.0, 2.0], fk.float32), ([[1, 2]], fk.int64),
    (np.zeros(2), fk.float64), (np.zeros(2, np.float32), fk.float32),
])
def test_tensor_dtype_inference_matches_torch(data, dtype):
    assert fk.tensor(data).dtype == dtype
    assert str(torch.tensor(data).dtype).replace("torch.", "") == np.dtype(dtype).name


def test_creation_functions():
    assert fk.zeros(2, 3).shape == (2, 3) and fk.zeros(2, 3).dtype == fk.float32
    assert fk.ones((4,)).numpy().sum() == 4
    assert fk.full((2, 2), 7).dtype == fk.int64 and fk.full((2, 2), 7.0).dtype == fk.float32
    assert fk.arange(5).tolist() == [0, 1, 2, 3, 4] and fk.arange(5).dtype == fk.int64
    assert fk.arange(0, 1, 0.25).dtype == fk.float32
    np.testing.assert_allclose(fk.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_array_equal(fk.eye(3).numpy(), np.eye(3))
    assert fk.empty(2, 0).shape == (2, 0)
    assert fk.zeros_like(fk.ones(2, dtype=fk.float64)).dtype == fk.float64
    assert fk.ones_like(fk.arange(3)).tolist() == [1, 1, 1]
    r = fk.randint(0, 10, (100,))
    assert r.dtype == fk.int64 and 0 <= r.min().item() and r.max().item() < 10


def test_manual_seed_makes_random_draws_repeatable():
    fk.manual_seed(42)
    a = (fk.rand(3), fk.randn(2, 2), fk.randint(0, 5, (4,)))
    fk.manual_seed(42)
    b = (fk.rand(3), fk.randn(2, 2), fk.randint(0, 5, (4,)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.numpy(), y.numpy())
    assert 0 <= a[0].min().item() and a[0].max().item() < 1


def test_scalars_and_arrays_mix_like_torch():
    t = fk.tensor([1.0, 2.0, 3.0])
    tt = torch.tensor([1.0, 2.0, 3.0])
    for ours, theirs in [(2 * t, 2 * tt), (t + np.ones(3), tt + torch.from_numpy(np.ones(3))),
                         (1 - t, 1 - tt), (t / 2, tt / 2), (2 ** t, 2 ** tt), (t ** 2, tt ** 2)]:
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert (fk.arange(3) + 0.5).dtype == fk.float32
    assert (fk.arange(3) * 2).dtype == fk.int64
    assert (fk.arange(3) / 2).dtype == fk.float32
    assert (fk.ones(3) + fk.tensor(1.0, dtype=fk.float64)).dtype == fk.float32  # 0-d ranks lower


def test_conversion_methods():
    t = fk.tensor([[1.5, 2.5]])
    assert t.item if t.numel() > 1 else True
    assert fk.tensor([3.5]).item() == 3.5
    assert t.tolist() == [[1.5, 2.5]]
    assert t.size() == (1, 2) and t.size(-1) == 2 and t.ndim == 2 and t.dim() == 2
    assert t.T.shape == (2, 1)
    assert t.double().dtype == fk.float64 and t.long().tolist() == [[1, 2]]
    assert t.detach().numpy() is not None
    with pytest.raises(RuntimeError, match="detach"):
        fk.ones(2, requires_grad=True).numpy()
    with pytest.raises(ValueError, match="one-element"):
        t.item()


def test_comparisons_give_bool_tensors():
    t = fk.tensor([1.0, 2.0, 3.0])
    assert (t > 1.5).tolist() == [False, True, True]
    assert (t == 2).dtype == fk.bool
    assert (t <= fk.tensor([1.0, 1.0, 1.0])).tolist() == [True, False, False]


def test_in_place_ops_on_plain_tensors():
    t = fk.zeros(3)
    t += 1
    t.mul_(3)
    t[1] = 0
    t.add_(fk.ones(3), alpha=2)
    assert t.tolist() == [5.0, 2.0, 5.0]
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(fk.ShapeError, match="add_"):
        t.add_(fk.ones(4))


def test_shape_errors_name_op_and_shapes():
    a, b = fk.ones(2, 3), fk.ones(4, 5)
    with pytest.raises(fk.ShapeError, match=r"add.*\(2, 3\).*\(4, 5\)"):
        a + b
    with pytest.raises(fk.ShapeError, match=r"matmul.*\(2, 3\).*\(4, 5\).*inner dimensions"):
        a @ b
    with pytest.raises(fk.ShapeError, match=r"cat.*\(2, 3\).*\(4, 5\)"):
        fk.cat([a, b], dim=0)
    with pytest.raises(fk.ShapeError, match=r"reshape.*\(2, 3\).*\(4,\)"):
        a.reshape(4)
    with pytest.raises(fk.ShapeError, match=r"view"):
        a.view(5, -1)
    assert issubclass(fk.ShapeError, ValueError)


def test_repr_shows_values_and_grad_fn():
    x = fk.tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert "grad_fn=<MulBackward0>" in repr(x * 2)
    assert "float64" in repr(fk.zeros(1, dtype=fk.float64))


@pytest.mark.parametrize("data", [0.1, [0.1, 1e-30], [[0.1], [2.7]], True, 7])
def test_an_explicit_dtype_applies_to_python_values_exactly(data) -> None:
    """tensor(0.1, dtype=float64) is 0.1, not 0.1 rounded to float32 first (as torch)."""
    ours = fk.tensor(data, dtype=fk.float64)
    theirs = torch.tensor(data, dtype=torch.float64)
    assert ours.dtype == fk.float64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ----------------------------------------------------------------------------- data that is refused (as torch)
@pytest.mark.parametrize("data", ["a", ["a", "b"], [1, "a"], [[1, 2], [3, "x"]], b"ab", None, {1: 2}, {1, 2},
                                  object(), [1, None], (x for x in range(2))],
                         ids=["str", "strs", "number-then-str", "nested-str", "bytes", "None", "dict", "set",
                              "object", "None-inside", "generator"])
def test_non_numeric_data_is_refused_with_torchs_error(data):
    if isinstance(data, type(x for x in ())):
        want_type = RuntimeError  # torch: "Could not infer dtype of generator"; a generator cannot be replayed
    else:
        with pytest.raises(Exception) as want:
            torch.tensor(data)
        want_type = want.type
    with pytest.raises(want_type) as got:
        fk.tensor(data)
    if isinstance(data, str):
        assert str(got.value) == "new(): invalid data type 'str'"


@pytest.mark.parametrize("data, dim", [([[1, 2], [3]], 1), ([[1], [2, 3]], 1), ([[[1, 2], [3, 4]], [[1, 2], [3]]], 2),
                                       ([[1, 2], 3], 1), ([1, [2]], 1),
                                       ([fk.ones(2), fk.ones(3)], 1)])
def test_a_ragged_nesting_names_its_dimension(data, dim):
    theirs_data = [torch.from_numpy(d.numpy()) if isinstance(d, fk.Tensor) else d for d in data]
    with pytest.raises(Exception) as want:
        torch.tensor(theirs_data)
    with pytest.raises(want.type, match=f"at dim {dim}") as got:
        fk.tensor(data)
    if want.type is ValueError and "expected sequence of length" in str(want.value):
        assert str(got.value).startswith(str(want.value))  # torch's words, then where and why


def test_numeric_nestings_of_lists_arrays_and_tensors_still_work():
    data = [[1, 2.5], np.array([3.0, 4.0]), fk.tensor([5, 6])]
    ours = fk.tensor(data)
    ref = torch.tensor([[1, 2.5], [3.0, 4.0], [5, 6]])
    assert ours.dtype is fk.float32 and ref.dtype == torch.float32
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert fk.tensor(range(3)).tolist() == torch.tensor(range(3)).tolist() == [0, 1, 2]


# ----------------------------------------------------------------------------- legacy constructors
LEGACY = ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor", "CharTensor",
          "ByteTensor", "BoolTensor"]


@pytest.mark.parametrize("name", LEGACY)
def test_legacy_constructors_match_torch(name):
    ours_t, ref_t = getattr(fk, name), getattr(torch, name)
    for args in [([1, 0, 3],), ((2, 3),), ([[1, 2], [3, 4]],), (np.array([1.0, 2.0]),)]:
        ours, ref = ours_t(*args), ref_t(*args)
        assert ours.type() == ref.type().replace("torch.", "fukaku.")
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    for args in [(2, 3), (), (0,), (fk.Size([4, 1]),)]:  # sizes: uninitialised values, as torch
        ref_args = tuple(torch.Size(a) if isinstance(a, fk.Size) else a for a in args)
        assert tuple(ours_t(*args).shape) == tuple(ref_t(*ref_args).shape)
    assert isinstance(ours_t([1]), ours_t) and isinstance(ref_t([1]), ref_t)
    other = "LongTensor" if name != "LongTensor" else "FloatTensor"
    assert not isinstance(ours_t([1]), getattr(fk, other)) and not isinstance(ref_t([1]), getattr(torch, other))


def test_legacy_constructors_refuse_what_torch_refuses():
    with pytest.raises(TypeError):
        torch.LongTensor(torch.tensor([1.0]))
    with pytest.raises(TypeError, match="expected a fukaku.int64 tensor"):
        fk.LongTensor(fk.tensor([1.0]))
    x = fk.tensor([1, 2])
    assert fk.LongTensor(x) is x
    for bad in (1.5, "ab"):
        with pytest.raises(TypeError):
            torch.FloatTensor(bad)
        with pytest.raises(TypeError):
            fk.FloatTensor(bad)
