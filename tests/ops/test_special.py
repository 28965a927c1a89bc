"""Tests for fukaku.ops._special: erf/erfc against the stdlib oracle, erfinv against mpmath and torch.

``math.erf`` / ``math.erfc`` (the platform libm, accurate to about an ulp)
serve as the reference; for ``erfinv`` it is mpmath at 40 digits (installed
with PyTorch), and ``torch.special.erfinv``.  SciPy is deliberately not used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fukaku.ops import _special
from fukaku.ops._special import erf, erfc, erfinv

RTOL = 1e-14
SUBNORMAL_SPACING = 2.0**-1074  # 5e-324
EDGES = np.array([0.0, -0.0, 1e-300, -1e-300, np.inf, -np.inf, np.nan])


def _oracle(fn, x: np.ndarray) -> np.ndarray:
    return np.array([fn(float(v)) for v in x.ravel()], dtype=np.float64).reshape(x.shape)


def _max_rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    """Max relative error; absolute where the reference is 0; NaN must match NaN."""
    got = np.asarray(got, dtype=np.float64)
    nan = np.isnan(ref)
    assert np.array_equal(np.isnan(got), nan), "NaN pattern differs"
    got, ref = got[~nan], ref[~nan]
    inf = np.isinf(ref)
    assert np.array_equal(got[inf], ref[inf]), "infinite values differ"
    got, ref = got[~inf], ref[~inf]
    err = np.abs(got - ref)
    nz = ref != 0
    err[nz] /= np.abs(ref[nz])
    return float(err.max()) if err.size else 0.0


def _grid() -> np.ndarray:
    """~20,000 points over [-10, 10], dense where erf bends and near branch edges."""
    rng = np.random.default_rng(20240607)
    tiny = np.logspace(-307, -1, 600)  # normal-range tiny |x|
    branch_edges = np.array([1.0, 6.0, 8.0, 0.5, 2.0, 4.0, 5.9, 5.93])
    edges_nb = np.concatenate(
        [branch_edges, np.nextafter(branch_edges, 0.0), np.nextafter(branch_edges, 20.0)]
    )
    pos = np.concatenate(
        [
            np.linspace(0.0, 10.0, 6001),
            rng.uniform(0.5, 6.0, 2000),  # the 1 - erfc region and its edges
            rng.uniform(0.0, 10.0, 1000),
            tiny,
            edges_nb,
        ]
    )
    return np.concatenate([pos, -pos, EDGES])


def test_erf_float64_matches_math_erf() -> None:
    x = _grid()
    assert x.size >= 19_000
    got = erf(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    err = _max_rel_err(got, _oracle(math.erf, x))
    assert err <= RTOL, f"max relative error {err:.3e}"


def test_erf_edge_values() -> None:
    got = erf(EDGES)
    np.testing.assert_array_equal(got[[4, 5]], [1.0, -1.0])
    assert np.isnan(got[6])
    assert got[0] == 0.0 and not np.signbit(got[0])
    assert got[1] == 0.0 and np.signbit(got[1])  # erf(-0.0) == -0.0
    two_over_sqrt_pi = 2.0 / math.sqrt(math.pi)
    np.testing.assert_allclose(
        got[[2, 3]], [two_over_sqrt_pi * 1e-300, -two_over_sqrt_pi * 1e-300], rtol=RTOL
    )
    # Saturation: large |x| is exactly +-1, like math.erf.
    big = np.array([6.0, 7.5, 10.0, 27.0, 1e10, 1e308, np.finfo(np.float64).max])
    np.testing.assert_array_equal(erf(big), 1.0)
    np.testing.assert_array_equal(erf(-big), -1.0)


def test_erf_subnormal_inputs_within_one_spacing() -> None:
    # In the subnormal range only absolute accuracy is meaningful; the result
    # must be within one subnormal spacing of the oracle (and keep its sign).
    x = np.concatenate([[SUBNORMAL_SPACING, 1e-320, 3e-315, 2e-310], np.logspace(-323, -308, 200)])
    x = np.concatenate([x, -x])
    got = erf(x)
    ref = _oracle(math.erf, x)
    assert np.max(np.abs(got - ref)) <= SUBNORMAL_SPACING
    np.testing.assert_array_equal(np.sign(got), np.sign(x))


def test_erf_odd_and_bounded() -> None:
    x = np.linspace(0.0, 12.0, 5001)
    np.testing.assert_array_equal(erf(-x), -erf(x))
    y = erf(np.linspace(-12.0, 12.0, 5001))
    assert np.all(np.abs(y) <= 1.0)
    assert np.all(np.diff(y) >= 0.0)  # monotone non-decreasing


def test_erfc_float64_matches_math_erfc() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate(
        [
            np.linspace(-10.0, 26.5, 12001),  # erfc is normal-range up to ~26.55
            rng.uniform(1.0, 26.5, 4000),
            np.nextafter([1.0, 8.0], 0.0),
            np.nextafter([1.0, 8.0], 30.0),
            [-1.0, 1.0, 8.0],
            EDGES,
        ]
    )
    got = erfc(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    err = _max_rel_err(got, _oracle(math.erfc, x))
    assert err <= RTOL, f"max relative error {err:.3e}"
    assert erfc(np.array(np.inf)) == 0.0 and erfc(np.array(-np.inf)) == 2.0
    # Underflow: 0 beyond ~27.3, 2 on the far negative side.
    np.testing.assert_array_equal(erfc(np.array([27.3, 28.0, 1e300])), 0.0)
    np.testing.assert_array_equal(erfc(np.array([-27.3, -1e300])), 2.0)
    # Subnormal tail (26.6 .. 27.2): within one subnormal spacing of the oracle.
    xs = np.linspace(26.6, 27.2, 101)
    assert np.max(np.abs(erfc(xs) - _oracle(math.erfc, xs))) <= SUBNORMAL_SPACING


def test_erf_plus_erfc_is_one() -> None:
    x = np.linspace(-6.0, 6.0, 2001)
    np.testing.assert_allclose(erf(x) + erfc(x), 1.0, rtol=0, atol=4e-16)


@pytest.mark.parametrize("fn", [erf, erfc])
def test_float32_dtype_preserved(fn) -> None:
    x32 = np.linspace(-8.0, 8.0, 4001, dtype=np.float32)
    got = fn(x32)
    assert got.dtype == np.float32 and got.shape == x32.shape
    # Computed in float64 internally, then rounded once to float32.
    np.testing.assert_array_equal(got, fn(x32.astype(np.float64)).astype(np.float32))
    oracle = math.erf if fn is erf else math.erfc
    ref = _oracle(oracle, x32.astype(np.float64))
    nz = ref != 0
    rel = np.abs(got.astype(np.float64)[nz] - ref[nz]) / np.abs(ref[nz])
    assert rel.max() <= 2.0**-24 * 1.01  # correctly rounded to float32 (<= half ulp)
    assert fn(np.float32(0.5)).dtype == np.float32


@pytest.mark.parametrize("fn", [erf, erfc])
@pytest.mark.parametrize(
    "shape", [(), (0,), (3, 0), (1,), (7,), (4, 5), (2, 3, 4)], ids=str
)
def test_shape_preserved(fn, shape) -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-4.0, 4.0, size=shape)
    got = fn(x)
    assert isinstance(got, np.ndarray)
    assert got.shape == x.shape and got.dtype == np.float64
    oracle = math.erf if fn is erf else math.erfc
    assert _max_rel_err(got, _oracle(oracle, np.asarray(x))) <= RTOL


def test_input_kinds() -> None:
    # Python scalars/lists and integer arrays give float64; input is not mutated.
    assert erf(0.5).shape == () and erf(0.5) == pytest.approx(math.erf(0.5), rel=RTOL)
    np.testing.assert_allclose(
        erf([-2.0, 0.0, 2.0]), [math.erf(-2.0), 0.0, math.erf(2.0)], rtol=RTOL
    )
    xi = np.array([-3, -1, 0, 1, 3])
    got = erf(xi)
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, _oracle(math.erf, xi.astype(np.float64)), rtol=RTOL)
    x = np.linspace(-9.0, 9.0, 101)
    x_before = x.copy()
    erf(x)
    erfc(x)
    np.testing.assert_array_equal(x, x_before)
    # Non-contiguous views work and match the contiguous result.
    x2 = np.linspace(-5.0, 5.0, 400).reshape(20, 20)
    np.testing.assert_array_equal(erf(x2.T), erf(np.ascontiguousarray(x2.T)))
    with pytest.raises(TypeError):
        erf(np.array([1.0 + 1.0j]))


@pytest.mark.parametrize("fn", [erf, erfc])
def test_multi_block_arrays(fn) -> None:
    # Arrays longer than one processing block (with NaN/inf/branch mixes in
    # every block, and a ragged last block) match the small-array result.
    base = np.concatenate([np.linspace(-10.0, 10.0, 997), EDGES])
    reps = 2 * _special._BLOCK // base.size + 3
    big = np.tile(base, reps).reshape(-1, 4)[:, ::-1].copy()  # 2-D, ragged tail
    got = fn(big)
    ref = np.tile(fn(base), reps).reshape(-1, 4)[:, ::-1]
    assert got.shape == big.shape
    np.testing.assert_array_equal(got, ref)


# ----------------------------------------------------------------------------- erfinv
ERFINV_ULP = 2  # measured bound in float64 (most results are correctly rounded)


def _ulp_error(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def _erfinv_grid() -> np.ndarray:
    """~2,000 points of (-1, 1): uniform, the tail up to 1 - 2**-53, tiny values, branch edges."""
    rng = np.random.default_rng(11)
    edges = np.array([0.5, 0.85, 0.8427007929497149, 0.999, 1.0 - 2.0**-53])
    pos = np.concatenate([
        rng.uniform(0.0, 1.0, 1200),
        1.0 - np.logspace(-16, -1, 300),
        np.logspace(-300, -1, 100),
        edges, np.nextafter(edges, 0.0), np.nextafter(edges[:-1], 1.0),
    ])
    return np.concatenate([pos, -pos[::3]])


def test_erfinv_float64_within_two_ulp() -> None:
    """Against 40-digit arithmetic (mpmath, which PyTorch's sympy brings along)."""
    mpmath = pytest.importorskip("mpmath")
    x = _erfinv_grid()
    with mpmath.workdps(40):
        ref = np.array([float(mpmath.erfinv(mpmath.mpf(float(v)))) for v in x])
    got = erfinv(x)
    assert got.dtype == np.float64 and got.shape == x.shape
    err = _ulp_error(got, ref)
    assert err.max() <= ERFINV_ULP, f"{err.max()} ulp at x = {x[np.argmax(err)]!r}"
    assert err.mean() < 0.5


def test_erfinv_matches_torch() -> None:
    """torch.special.erfinv is within an ulp of the truth in float64: both agree to a few ulp."""
    torch = pytest.importorskip("torch")
    x = _erfinv_grid()
    want = torch.special.erfinv(torch.tensor(x)).numpy()
    assert _ulp_error(erfinv(x), want).max() <= ERFINV_ULP + 1


def test_erfinv_inverts_erf() -> None:
    x = np.concatenate([np.linspace(-0.999, 0.999, 4001), 1.0 - np.logspace(-15, -3, 200)])
    np.testing.assert_array_less(_ulp_error(erf(erfinv(x)), x), 4.0)
    # erfc(erfinv(x)) = 1 - x keeps its relative accuracy in the tail
    tail = 1.0 - np.logspace(-16, -1, 300)
    np.testing.assert_allclose(erfc(erfinv(tail)), 1.0 - tail, rtol=1e-14)
    y = np.linspace(-2.0, 2.0, 801)
    np.testing.assert_allclose(erfinv(erf(y)), y, rtol=1e-14, atol=1e-300)


def test_erfinv_edge_values() -> None:
    got = erfinv(np.array([1.0, -1.0, 1.5, -2.0, np.inf, -np.inf, np.nan, 0.0, -0.0]))
    np.testing.assert_array_equal(got[:2], [np.inf, -np.inf])
    assert np.isnan(got[2:7]).all()
    assert got[7] == 0.0 and not np.signbit(got[7])
    assert got[8] == 0.0 and np.signbit(got[8])
    # tiny and subnormal x: erfinv(x) = (sqrt(pi)/2) x to within one subnormal spacing
    tiny = np.array([1e-300, 3e-310, SUBNORMAL_SPACING, -1e-320])
    np.testing.assert_allclose(erfinv(tiny), math.sqrt(math.pi) / 2 * tiny, rtol=1e-15, atol=SUBNORMAL_SPACING)
    assert erfinv(np.nextafter(1.0, 0.0)) == pytest.approx(5.863584748755168, rel=1e-15)


def test_erfinv_odd_and_monotone() -> None:
    x = np.linspace(0.0, 1.0, 5001)[:-1]
    np.testing.assert_array_equal(erfinv(-x), -erfinv(x))
    assert np.all(np.diff(erfinv(x)) > 0.0)


def test_erfinv_dtypes_and_shapes() -> None:
    x32 = np.linspace(-0.999, 0.999, 2001, dtype=np.float32)
    got = erfinv(x32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, erfinv(x32.astype(np.float64)).astype(np.float32))
    assert erfinv(np.array([0, 1, -1])).dtype == np.float64
    for shape in [(), (0,), (3, 0), (2, 3, 4)]:
        x = np.random.default_rng(0).uniform(-1.0, 1.0, size=shape)
        assert erfinv(x).shape == shape
        np.testing.assert_array_equal(erfinv(x).ravel(), erfinv(x.ravel()))


def test_erfinv_multi_block_arrays() -> None:
    base = np.concatenate([np.linspace(-1.0, 1.0, 997), [np.nan, 2.0, -0.0]])
    reps = 2 * _special._BLOCK // base.size + 3
    big = np.tile(base, reps).reshape(-1, 4)[:, ::-1].copy()
    np.testing.assert_array_equal(erfinv(big), np.tile(erfinv(base), reps).reshape(-1, 4)[:, ::-1])


def test_normal_cdf_float32_is_float32_accurate_on_the_whole_line_tail_included() -> None:
    # Φ(x) = ½ erfc(−x/√2) against math.erfc in float64, over several blocks, down to the lower tail
    # (Φ(−13) ≈ 6e-39, the last normal float32s) where a rounded x²/2 would cost 1e-5 relative
    x = np.concatenate([np.linspace(-13.0, 9.0, 150_001), [0.0, -0.0, 1e-30, -1e-30]]).astype(np.float32)
    cdf = _special.normal_cdf_float32(x)
    assert cdf.dtype == np.float32 and cdf.shape == x.shape
    xd = x.astype(np.float64)
    assert _max_rel_err(cdf, _oracle(lambda v: 0.5 * math.erfc(-v / math.sqrt(2.0)), xd)) < 1e-6  # ≈ 8 ulp
    assert np.array_equal(_special.normal_cdf_float32(x.reshape(5, -1)).reshape(-1), cdf)


def test_normal_cdf_float32_nan_and_infinities_give_nan_like_torch_gelu() -> None:
    assert np.isnan(_special.normal_cdf_float32(np.array([np.nan, np.inf, -np.inf], np.float32))).all()
