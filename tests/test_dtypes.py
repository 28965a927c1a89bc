"""dtypes (fukaku/dtypes.py): PyTorch's dtype objects that NumPy also accepts, finfo/iinfo, and
PyTorch's promotion and casting rules — each compared with torch 2.13 on the same names."""
from __future__ import annotations

import copy
import itertools
import pickle

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import dtypes

# (fukaku name, torch name) of every dtype the two share; bfloat16 is checked apart where NumPy is involved
NAMES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
         "complex64", "complex128"]
NUMPY_NAMES = [n for n in NAMES if n != "bfloat16"]
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int32",
           "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}


def theirs(d) -> torch.dtype:
    return getattr(torch, repr(d).removeprefix("fukaku."))


# ----------------------------------------------------------------------------- the objects
@pytest.mark.parametrize("name", NAMES)
def test_dtype_objects_look_like_torchs(name):
    ours, ref = getattr(fk, name), getattr(torch, name)
    assert repr(ours) == repr(ref).replace("torch.", "fukaku.") == str(ours)
    assert ours.is_floating_point == ref.is_floating_point
    assert ours.is_complex == ref.is_complex
    assert ours.is_signed == ref.is_signed
    assert ours.itemsize == ref.itemsize
    assert theirs(ours.to_real()) == ref.to_real()
    assert isinstance(ours, fk.dtype)


@pytest.mark.parametrize("alias, name", ALIASES.items())
def test_aliases_are_the_same_objects_as_in_torch(alias, name):
    assert getattr(fk, alias) is getattr(fk, name)
    assert getattr(torch, alias) is getattr(torch, name)


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_dtypes_work_wherever_numpy_takes_a_dtype(name):
    d, nd = getattr(fk, name), np.dtype(name if name != "bool" else np.bool_)
    assert np.dtype(d) == nd and d.dtype == nd
    assert np.zeros(3, d).dtype == nd and np.ones(2).astype(d).dtype == nd
    assert np.asarray([1], dtype=d).dtype == nd and np.full(2, 1, d).dtype == nd
    assert np.result_type(d, nd) == nd
    assert (d.kind, d.name, d.char, d.str, d.type) == (nd.kind, nd.name, nd.char, nd.str, nd.type)
    # equality and hashing as the NumPy dtype: in both directions, with scalar types and names
    assert d == nd and nd == d and d == nd.type and nd.type == d and d == nd.name and nd.name == d
    assert hash(d) == hash(nd) and {nd: "found"}[d] == "found" and d in (nd,)
    assert d != None and d != 3  # noqa: E711  (None is not float64, though np.dtype(None) is)


def test_equality_holds_only_within_one_dtype():
    assert fk.float32 != fk.float64 and fk.float32 != np.float64 and fk.int64 != "int32"
    assert len({fk.float32, fk.float, fk.float64, np.dtype("float32")}) == 2


def test_one_object_per_dtype_survives_copies_and_pickles():
    for d in (fk.float32, fk.bfloat16, fk.complex128):
        assert copy.copy(d) is d and copy.deepcopy(d) is d and pickle.loads(pickle.dumps(d)) is d


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_tensor_dtype_is_the_dtype_object(name):
    d = getattr(fk, name)
    t = fk.zeros(2, dtype=d)
    assert t.dtype is d and fk.from_numpy(np.zeros(2, d.dtype)).dtype is d
    assert fk.from_numpy(np.zeros(2, np.dtype(d.dtype).newbyteorder())).dtype is d  # byte order does not matter


def test_an_array_of_a_dtype_fukaku_lacks_is_refused_by_name():
    with pytest.raises(TypeError, match="no dtype for NumPy's <U1"):
        fk.from_numpy(np.array(["a"])).dtype


def test_as_dtype_takes_what_numpy_and_torch_users_write():
    assert dtypes.as_dtype(np.float32) is fk.float32 and dtypes.as_dtype("float64") is fk.float64
    assert dtypes.as_dtype("fukaku.int8") is fk.int8 and dtypes.as_dtype(np.dtype("uint8")) is fk.uint8
    assert dtypes.as_dtype(float) is fk.float64 and dtypes.as_dtype(int) is fk.int64  # as numpy and torch
    assert fk.zeros(1, dtype=float).dtype is fk.float64 and torch.zeros(1, dtype=float).dtype == torch.float64
    with pytest.raises(TypeError, match="zeros: 'floaty' is not a dtype"):
        fk.zeros(1, dtype="floaty")


def test_default_dtype_is_the_object_and_can_be_set():
    assert fk.get_default_dtype() is fk.float32
    fk.set_default_dtype(fk.float64)
    try:
        assert fk.get_default_dtype() is fk.float64
        assert fk.tensor(1.5).dtype is fk.float64 and fk.tensor(1j).dtype is fk.complex128
    finally:
        fk.set_default_dtype(fk.float32)
    with pytest.raises(TypeError, match="floating-point"):
        fk.set_default_dtype(fk.int64)


# ----------------------------------------------------------------------------- finfo / iinfo
@pytest.mark.parametrize("name", ["float32", "float64", "float16", "bfloat16", "complex64", "complex128"])
def test_finfo_matches_torch(name):
    ours, ref = fk.finfo(getattr(fk, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(ref, field), field
    assert repr(ours) == repr(ref)


@pytest.mark.parametrize("name", ["int64", "int32", "int16", "int8", "uint8"])
def test_iinfo_matches_torch(name):
    ours, ref = fk.iinfo(getattr(fk, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (ref.bits, ref.max, ref.min, ref.dtype)
    assert repr(ours) == repr(ref)


def test_finfo_defaults_and_refusals_as_torch():
    assert fk.finfo().dtype == torch.finfo().dtype == "float32"
    for ours, ref in [(lambda: fk.finfo(fk.int32), lambda: torch.finfo(torch.int32)),
                      (lambda: fk.iinfo(fk.float32), lambda: torch.iinfo(torch.float32)),
                      (lambda: fk.iinfo(fk.bool), lambda: torch.iinfo(torch.bool))]:
        with pytest.raises(TypeError) as want:
            ref()
        with pytest.raises(want.type):
            ours()


# ----------------------------------------------------------------------------- promotion and casting
@pytest.mark.parametrize("a, b", list(itertools.combinations_with_replacement(NAMES, 2)))
def test_promote_types_and_can_cast_match_torch(a, b):
    ours = fk.promote_types(getattr(fk, a), getattr(fk, b))
    assert theirs(ours) == torch.promote_types(getattr(torch, a), getattr(torch, b))
    assert fk.promote_types(getattr(fk, b), getattr(fk, a)) is ours
    for x, y in ((a, b), (b, a)):
        assert fk.can_cast(getattr(fk, x), getattr(fk, y)) == torch.can_cast(getattr(torch, x), getattr(torch, y))


OPERANDS = {  # name -> (how to build it in either library)
    "float32[2]": lambda L: L.ones(2), "float64[2]": lambda L: L.ones(2, dtype=L.float64),
    "int64[2]": lambda L: L.ones(2, dtype=L.int64), "int8[2]": lambda L: L.ones(2, dtype=L.int8),
    "bool[2]": lambda L: L.ones(2, dtype=L.bool), "complex128[2]": lambda L: L.ones(2, dtype=L.complex128),
    "float64[]": lambda L: L.tensor(1.0, dtype=L.float64), "complex64[]": lambda L: L.tensor(1.0, dtype=L.complex64),
    "int32[]": lambda L: L.tensor(1, dtype=L.int32), "uint8[]": lambda L: L.tensor(1, dtype=L.uint8),
    "int": lambda L: 3, "float": lambda L: 2.5, "bool": lambda L: True, "complex": lambda L: 1j,
}
PAIRS = [(a, b) for a, b in itertools.product(OPERANDS, OPERANDS) if "[" in a + b]


@pytest.mark.parametrize("a, b", PAIRS)
def test_result_type_matches_torch(a, b):
    ours = fk.result_type(OPERANDS[a](fk), OPERANDS[b](fk))
    assert theirs(ours) == torch.result_type(OPERANDS[a](torch), OPERANDS[b](torch))


@pytest.mark.parametrize("a, b", [(a, b) for a, b in PAIRS if "[" in a and "[" in b])
def test_arithmetic_promotes_as_torch(a, b):
    """The ops' own promotion (ops/_util.operands over dtypes.promote) agrees with result_type."""
    ours, ref = OPERANDS[a](fk) + OPERANDS[b](fk), OPERANDS[a](torch) + OPERANDS[b](torch)
    assert theirs(ours.dtype) == ref.dtype


def test_complex_zero_dim_keeps_a_float64_tensors_precision():
    assert (fk.ones(3, dtype=fk.float64) * 1j).dtype is fk.complex128
    assert (fk.ones(3) * 1j).dtype is fk.complex64 and (fk.arange(3) * 1j).dtype is fk.complex64


# ----------------------------------------------------------------------------- complex: creation and elementwise
def test_complex_creation_matches_torch():
    for data in (1j, [1 + 2j, 3], [[1j], [2.0]]):
        ours, ref = fk.tensor(data), torch.tensor(data)
        assert theirs(ours.dtype) == ref.dtype
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    for make in (lambda L: L.zeros(2, dtype=L.cfloat), lambda L: L.ones(2, 2, dtype=L.complex128),
                 lambda L: L.full((2,), 1 + 1j), lambda L: L.eye(2, dtype=L.complex64)):
        ours, ref = make(fk), make(torch)
        assert theirs(ours.dtype) == ref.dtype
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())


def test_complex_samples_split_their_variance_as_torch():
    """randn of a complex dtype: real and imaginary parts independent, each of variance 1/2 (E|z|² = 1)."""
    z = fk.randn(200_000, dtype=fk.complex64, generator=fk.Generator().manual_seed(0)).numpy()
    assert z.dtype == np.complex64
    assert abs(z.real.var() - 0.5) < 0.01 and abs(z.imag.var() - 0.5) < 0.01
    assert abs(np.corrcoef(z.real, z.imag)[0, 1]) < 0.01
    u = fk.rand(100_000, dtype=fk.complex128, generator=fk.Generator().manual_seed(1)).numpy()
    assert 0 <= u.real.min() and u.real.max() < 1 and 0 <= u.imag.min() and u.imag.max() < 1


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b, lambda a, b: -a,
                                lambda a, b: a ** 2, lambda a, b: a @ b, lambda a, b: a.sum(), lambda a, b: a == b,
                                lambda a, b: (a * 2.5), lambda a, b: a.to(fk.complex128 if isinstance(a, fk.Tensor)
                                                                       else torch.complex128)],
                         ids=["add", "sub", "mul", "neg", "pow", "matmul", "sum", "eq", "scalar", "to"])
def test_complex_arithmetic_matches_torch(op):
    a, b = np.array([1 + 2j, -3j, 0.5]), np.array([2 - 1j, 1j, -1.0])
    ours = op(fk.tensor(a, dtype=fk.complex64), fk.tensor(b, dtype=fk.complex64))
    ref = op(torch.tensor(a, dtype=torch.complex64), torch.tensor(b, dtype=torch.complex64))
    assert theirs(ours.dtype) == ref.dtype
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


# ----------------------------------------------------------------------------- bfloat16 (optional extra)
def test_bfloat16_without_ml_dtypes_says_which_extra_to_install(monkeypatch):
    """Simulate a machine without ml_dtypes: a fresh bfloat16 whose loader cannot import it."""
    monkeypatch.setitem(__import__("sys").modules, "ml_dtypes", None)  # `import ml_dtypes` now fails
    lonely = dtypes._OptionalDtype("bfloat16", 2, 2, "BFloat16Tensor", loader=dtypes._load_bfloat16)
    assert repr(lonely) == "fukaku.bfloat16" and lonely.itemsize == 2 and lonely.is_floating_point
    assert hash(lonely) == hash("bfloat16") and lonely != np.float32
    for use in (lambda: np.dtype(lonely), lambda: np.zeros(2, lonely), lambda: lonely.kind):
        with pytest.raises(fk.DTypeUnavailableError, match=r"pip install 'fukaku\[bfloat16\]'"):
            use()
    assert issubclass(fk.DTypeUnavailableError, ImportError)


def test_bfloat16_tensors_with_ml_dtypes():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = fk.tensor([1.5, -2.25, 3.0], dtype=fk.bfloat16)
    ref = torch.tensor([1.5, -2.25, 3.0], dtype=torch.bfloat16)
    assert x.dtype is fk.bfloat16 and x.numpy().dtype == np.dtype(ml_dtypes.bfloat16)
    assert fk.bfloat16 == np.dtype(ml_dtypes.bfloat16) and hash(fk.bfloat16) == hash(np.dtype(ml_dtypes.bfloat16))
    np.testing.assert_array_equal(x.float().numpy(), ref.float().numpy())
    assert x.type() == "fukaku.BFloat16Tensor" and ref.type() == "torch.BFloat16Tensor"
    for other in ("float16", "float32", "float64", "int64", "bool"):
        ours = (x + fk.ones(3, dtype=getattr(fk, other))).dtype
        assert theirs(ours) == (ref + torch.ones(3, dtype=getattr(torch, other))).dtype
    assert (x * 2).dtype is fk.bfloat16 and fk.zeros(2, dtype=fk.bfloat16).dtype is fk.bfloat16


# ----------------------------------------------------------------------------- conversions and x.type()
@pytest.mark.parametrize("method", ["half", "float", "double", "cfloat", "cdouble", "char", "byte", "short", "int",
                                    "long", "bool"])
def test_conversion_methods_match_torch(method):
    data = np.array([0.0, 1.5, -2.0, 3.0])
    ours, ref = getattr(fk.tensor(data), method)(), getattr(torch.tensor(data), method)()
    assert theirs(ours.dtype) == ref.dtype
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("name", NUMPY_NAMES)
def test_type_names_the_tensor_type_as_torch(name):
    ours, ref = fk.zeros(2, dtype=getattr(fk, name)), torch.zeros(2, dtype=getattr(torch, name))
    assert ours.type() == ref.type().replace("torch.", "fukaku.")


def test_type_converts_like_to():
    x, ref = fk.tensor([1.7, -2.2]), torch.tensor([1.7, -2.2])
    assert x.type(fk.float32) is x and ref.type(torch.float32) is ref
    for ours, theirs_ in [(x.type(fk.float64), ref.type(torch.float64)),
                          (x.type("torch.IntTensor"), ref.type("torch.IntTensor")),
                          (x.type("fukaku.LongTensor"), ref.type("torch.LongTensor")),
                          (x.type(fk.ByteTensor), ref.type(torch.ByteTensor))]:
        assert ours.type().replace("fukaku.", "") == theirs_.type().replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs_.numpy())
    with pytest.raises(ValueError, match="invalid type: 'foo'"):
        x.type("foo")
    with pytest.raises(ValueError):
        ref.type("foo")
