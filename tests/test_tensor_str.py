"""Printing looks like PyTorch's: ``repr``/``str`` of tensors against torch's own output (``torch.`` read as
``fukaku.``), print options, ``f"{loss:.2f}"``, and ``fukaku.Size``."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk

_CASES = {
    "fractions": [1.5, -2.25, 0.125],
    "whole floats": [[1.0, 2.0], [3.0, -4.0]],
    "scalar": 3.14159,
    "small and large": [1e-5, 1.0, 123.0],
    "huge": [1e9, 2.0],
    "ints": [[1, -20, 300], [4, 5, 6]],
    "bools": [True, False, True],
    "inf and nan": [float("inf"), float("nan"), 1.5, -float("inf")],
    "zeros": [0.0, 0.0],
    "negative zero and ints": [-0.0, 2.0, -3.0],
    "wide": np.linspace(-3, 3, 40).tolist(),
    "summarised vector": np.arange(2000, dtype=np.float64).tolist(),
    "summarised matrix": np.arange(3000.0).reshape(60, 50).tolist(),
    "3-d": np.arange(24.0).reshape(2, 3, 4).tolist(),
}


def _torch_repr(t: torch.Tensor) -> str:
    return repr(t).replace("torch.", "fukaku.")


@pytest.mark.parametrize("dtype", [None, np.float64, np.float16, np.int32])
@pytest.mark.parametrize("name", list(_CASES))
def test_repr_matches_torch(name, dtype):
    data = np.asarray(_CASES[name])
    if dtype is not None and data.dtype.kind == "f":
        if np.dtype(dtype).kind != "f" and not np.isfinite(data).all():
            pytest.skip("inf and nan have no integer value")
        data = data.astype(dtype)
    elif dtype is not None:
        return
    assert repr(fk.tensor(data)) == _torch_repr(torch.tensor(data))
    assert str(fk.tensor(data)) == _torch_repr(torch.tensor(data))


def test_grad_suffixes_and_empty_tensors_match_torch():
    for lib in (fk, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        shown = [repr(x), repr(x * 2), repr(x + 1), repr(lib.zeros(0, 3)), repr(lib.zeros(0)),
                 repr(lib.zeros(0, dtype=lib.int64)), repr(lib.tensor([1.0], dtype=lib.float64) * 2)]
        if lib is fk:
            got = shown
        else:
            want = [s.replace("torch.", "fukaku.") for s in shown]
    assert got == want


@pytest.mark.parametrize("shape", [(2, 7), (3, 8)])
def test_a_long_suffix_wraps_onto_its_own_line_as_in_torch(shape):
    # ("fukaku." is a letter longer than "torch.": shapes whose last line is near 80 characters may wrap apart)
    data = np.linspace(0, 1, shape[0] * shape[1]).reshape(shape)
    got = repr(fk.tensor(data, dtype=fk.float64, requires_grad=True))
    assert got == _torch_repr(torch.tensor(data, dtype=torch.float64, requires_grad=True))
    assert got.endswith("]],\n       dtype=fukaku.float64, requires_grad=True)")


@pytest.fixture
def restore_printoptions():
    yield
    fk.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


@pytest.mark.parametrize("options", [dict(precision=2), dict(threshold=5, edgeitems=1), dict(linewidth=30),
                                     dict(sci_mode=True), dict(sci_mode=False, precision=6), dict(profile="short"),
                                     dict(profile="full")])
def test_set_printoptions_as_torch(options, restore_printoptions):
    fk.set_printoptions(**options)
    torch.set_printoptions(**options)
    for data in ([1.23456789, -0.5, 1e-3], np.arange(20.0).reshape(4, 5), np.arange(1500.0)):
        assert repr(fk.tensor(np.asarray(data))) == _torch_repr(torch.tensor(np.asarray(data)))
    assert fk.get_printoptions()["precision"] == torch._tensor_str.PRINT_OPTS.precision


def test_unknown_profile_is_refused():
    with pytest.raises(ValueError, match="profile"):
        fk.set_printoptions(profile="tiny")


def test_format_spec_on_a_scalar_tensor():
    loss = fk.tensor(0.123456)
    assert f"{loss:.2f}" == f"{torch.tensor(0.123456):.2f}" == "0.12"
    assert f"{fk.tensor(7):>4d}" == "   7"
    assert f"{fk.tensor([1.0, 2.0])}" == "tensor([1., 2.])"
    with pytest.raises(TypeError):
        f"{fk.tensor([1.0, 2.0]):.2f}"


def test_size_is_a_tuple_that_prints_like_torch():
    x = fk.zeros(2, 3, 4)
    assert isinstance(x.shape, tuple) and x.shape == (2, 3, 4) and x.size() == x.shape
    assert repr(x.shape) == repr(torch.zeros(2, 3, 4).shape).replace("torch.", "fukaku.")
    assert x.shape.numel() == 24 == torch.Size([2, 3, 4]).numel() and fk.Size([]).numel() == 1
    assert isinstance(x.shape[1:], fk.Size) and x.shape[1:] == (3, 4) and x.shape[-1] == 4
    assert isinstance(x.shape + (5,), fk.Size) and x.size(1) == 3
    assert fk.zeros(x.shape[1:]).shape == (3, 4)


def test_bfloat16_prints_through_float32_as_in_torch():
    pytest.importorskip("ml_dtypes")
    data = [1.5, -2.25, 3.0]
    assert repr(fk.tensor(data, dtype=fk.bfloat16)) == _torch_repr(torch.tensor(data, dtype=torch.bfloat16))
