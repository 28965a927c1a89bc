"""Tests for fukaku.ops._special: erf/erfc against the stdlib oracle.

``math.erf`` / ``math.erfc`` (the platform libm, accurate to about an ulp)
serve as the reference.  SciPy is deliberately not used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from fukaku.ops import _special
from fukaku.ops._special import erf, erfc

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
