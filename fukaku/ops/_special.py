"""Vectorised error function ``erf`` (and ``erfc``, ``erfinv``) in pure NumPy.

Why this module exists: NumPy ships no ``erf`` ufunc, and SciPy (which has
``scipy.special.erf``) is deliberately not a core dependency of fukaku.  The
exact GELU, ``0.5 * x * (1 + erf(x / sqrt(2)))``, and its derivative need an
``erf`` that is accurate to a few ulp over the whole real line, so we evaluate
a published rational approximation here, element-wise over whole arrays with
no Python loop over elements.

Method (Cephes Math Library, S. L. Moshier, ``ndtr.c``: functions ``erf`` and
``erfc``; see also Moshier, *Methods and Programs for Mathematical Functions*,
1989).  With ``a = |x|``:

* ``a < 1``:       ``erf(x)  = x * T(x**2) / U(x**2)``
  (``T`` degree 4, ``U`` monic degree 5; Cephes reports a peak relative error
  of 3.7e-16 on [0, 1]);
* ``1 <= a < 8``:  ``erfc(a) = exp(-a**2) * P(a) / Q(a)``
  (``P`` degree 8, ``Q`` monic degree 8);
* ``a >= 8``:      ``erfc(a) = exp(-a**2) * R(a) / S(a)``
  (``R`` degree 5, ``S`` monic degree 6);

and ``erf(x) = sign(x) * (1 - erfc(a))`` for ``a >= 1``.  In double precision
``erfc(a) < 2**-54`` once ``a >= 6``, so ``erf`` is exactly ``+-1`` there.

For ``erfc`` itself the factor ``exp(-a**2)`` is evaluated as
``exp(-h**2) * exp(-(a - h) * (a + h))`` with ``h = a`` rounded to a multiple
of 1/128, so that ``h**2`` is exact and the rounding error of ``a**2`` is not
amplified by ``exp`` for large ``a`` (the same idea as Cephes ``expx2``).

Every element is evaluated by exactly one branch: each branch's elements are
gathered into a compacted sub-array, evaluated there, and scattered back.
Gather/scatter goes through integer index arrays (``flatnonzero`` of the
branch mask) rather than boolean-mask indexing, which NumPy runs several times
slower on the irregular masks typical of activations.

The inverse ``erfinv`` starts from Wichura's rational approximations of the
normal quantile (algorithm AS241, *Applied Statistics* 37(3), 1988, ``PPND16``:
about 1e-16 relative error), since ``erfinv(x) = ppnd16((1 + x) / 2) / sqrt(2)``,
and takes one Newton step on ``erf(y) = |x|``.  The step is only as good as its
residual ``erf(y) - |x|``, a difference of nearly equal numbers: below erf(1) it
is formed in double-double arithmetic (Dekker's exact products and sums), above
it as ``(1 - |x|) - erfc(y)`` (the first term exact), so the tail keeps its
relative accuracy up to ``|x| = 1 - 2**-53``.  See :func:`erfinv` for the
accuracy reached.

Arrays are processed in blocks of ``_BLOCK`` elements (a loop over blocks,
never over elements) to keep the temporaries cache-sized.  Float32 (and
float16) input is computed in float64 and cast back to the input dtype; any
other real input (ints, bools) returns float64.

Every array function is taken from the input's array module
(``fukaku.backends.array_module``), so the same code runs on any array library
with NumPy's API.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .. import dtypes
from ..backends import array_module

__all__ = ["erf", "erfc", "erfinv"]

# --- Cephes ndtr.c coefficients (highest power first, as in polevl). -------

# erf(x) = x * T(x^2) / U(x^2), |x| < 1.
_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_U = (  # monic: leading 1.0 implied
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)

# erfc(a) = exp(-a^2) * P(a) / Q(a), 1 <= a < 8.
_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_Q = (  # monic
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)

# erfc(a) = exp(-a^2) * R(a) / S(a), a >= 8.
_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_S = (  # monic
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)

# Wichura's AS241 (PPND16) for the normal quantile, lowest power first: with
# q = p - 1/2, |q| <= 0.425: ppnd16 = q * A(r) / B(r), r = 0.180625 - q**2; else
# with r = sqrt(-log(min(p, 1 - p))): C(r - 1.6) / D(r - 1.6) for r <= 5, and
# E(r - 5) / F(r - 5) beyond (sign of q).
_AS241_A = (
    3.3871328727963666080e0, 1.3314166789178437745e2, 1.9715909503065514427e3, 1.3731693765509461125e4,
    4.5921953931549871457e4, 6.7265770927008700853e4, 3.3430575583588128105e4, 2.5090809287301226727e3,
)
_AS241_B = (
    1.0, 4.2313330701600911252e1, 6.8718700749205790830e2, 5.3941960214247511077e3,
    2.1213794301586595867e4, 3.9307895800092710610e4, 2.8729085735721942674e4, 5.2264952788528545610e3,
)
_AS241_C = (
    1.42343711074968357734e0, 4.63033784615654529590e0, 5.76949722146069140550e0, 3.64784832476320460504e0,
    1.27045825245236838258e0, 2.41780725177450611770e-1, 2.27238449892691845833e-2, 7.74545014278341407640e-4,
)
_AS241_D = (
    1.0, 2.05319162663775882187e0, 1.67638483018380384940e0, 6.89767334985100004550e-1,
    1.48103976427480074590e-1, 1.51986665636164571966e-2, 5.47593808499534494600e-4, 1.05075007164441684324e-9,
)
_AS241_E = (
    6.65790464350110377720e0, 5.46378491116411436990e0, 1.78482653991729133580e0, 2.96560571828504891230e-1,
    2.65321895265761230930e-2, 1.24266094738807843860e-3, 2.71155556874348757815e-5, 2.01033439929228813265e-7,
)
_AS241_F = (
    1.0, 5.99832206555887937690e-1, 1.36929880922735805310e-1, 1.48753612908506148525e-2,
    7.86869131145613259100e-4, 1.84631831751005468180e-5, 1.42151175831644588870e-7, 2.04426310338993978564e-15,
)
_ERFINV_CENTRAL = 0.85  # |x| <= 0.85 is AS241's central range |q| <= 0.425
_ERF_OF_ONE = 0.8427007929497149  # erf(1): below it erf(y) is the |y| < 1 branch
_TWO_OVER_SQRT_PI = 1.1283791670955126
_TWO_SQRT_TWO = 2.8284271247461903  # ppnd16(p) / sqrt(2) = erfinv(2q) and q = x / 2

# Beyond these |x| the results are exact constants in float64.
_ERF_SATURATE = 6.0  # erfc(6) ~ 2.2e-17 < 2**-54, so erf(x) == sign(x)
_ERFC_UNDERFLOW = 27.5  # erfc(27.5) ~ 1e-330 < smallest subnormal

# Elements per block.  Large arrays are processed block by block so that the
# ~5 temporaries per branch stay cache-resident and are recycled by the
# allocator instead of page-faulting fresh memory on every ufunc call; this is
# a loop over blocks, never over elements (measured ~2.5x faster than one
# whole-array pass at 1e6 elements).
_BLOCK = 1 << 16


def _block_length(xp, size: int) -> int:
    """Elements per block: :data:`_BLOCK` for NumPy, whose temporaries then stay in cache; the whole array for a
    GPU library (CuPy), where each block costs its own kernel launches and no cache is there to fit (blocks of
    64 Ki elements made GPT-mini's GELU 60 launches of each kernel per call on an H200)."""
    return _BLOCK if xp is np else max(size, 1)


def _polevl(
    x: np.ndarray, coef: tuple[float, ...], out: np.ndarray | None = None
) -> np.ndarray:
    """Horner evaluation of ``coef[0]*x**n + ... + coef[n]`` (into ``out``)."""
    y = array_module(x).full_like(x, coef[0]) if out is None else out
    if out is not None:
        y.fill(coef[0])
    for c in coef[1:]:
        y *= x
        y += c
    return y


def _p1evl(x: np.ndarray, coef: tuple[float, ...]) -> np.ndarray:
    """Horner evaluation of the monic ``x**n + coef[0]*x**(n-1) + ... + coef[-1]``."""
    y = x + coef[0]
    for c in coef[1:]:
        y *= x
        y += c
    return y


def _ratio_in(r: np.ndarray, num: tuple[float, ...], den: tuple[float, ...]) -> np.ndarray:
    """``num(r) / den(r)`` for coefficient tuples given lowest power first (as AS241 prints them)."""
    out = _polevl(r, num[::-1])
    out /= _polevl(r, den[::-1])
    return out


def _erf_small(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """erf for float64 ``|x| < 1`` (Cephes T/U), written into ``out`` if given.

    ``x`` multiplies the ratio last, so the result is a single correctly
    rounded product of ``x`` and ``T/U ~ 2/sqrt(pi)``: this keeps full
    relative accuracy (and the sign of -0.0) down to subnormal ``x``.
    """
    z = x * x
    u = _p1evl(z, _U)
    r = _polevl(z, _T, out=out)
    r /= u
    r *= x
    return r


def _erfc_ratio(a: np.ndarray) -> np.ndarray:
    """``erfc(a) * exp(a**2)`` for float64 ``1 <= a < 27.5`` (Cephes P/Q, R/S)."""
    if a.max() < 8.0:  # the usual case: one branch, no gather/scatter
        r = _polevl(a, _P)
        r /= _p1evl(a, _Q)
        return r
    xp = array_module(a)
    r = xp.empty_like(a)
    for idx, num, den in (
        (xp.flatnonzero(a < 8.0), _P, _Q),
        (xp.flatnonzero(a >= 8.0), _R, _S),
    ):
        ai = a[idx]
        ri = _polevl(ai, num)
        ri /= _p1evl(ai, den)
        r[idx] = ri
    return r


def _erfc_pos(a: np.ndarray, *, split_exp: bool) -> np.ndarray:
    """erfc for a non-empty float64 array with ``1 <= a < 27.5``.

    With ``split_exp`` the factor ``exp(-a**2)`` is computed without the
    error amplification of a rounded ``a**2`` (needed for the relative
    accuracy of erfc itself at large ``a``; erf = 1 - erfc does not need it).
    """
    xp = array_module(a)
    ratio = _erfc_ratio(a)
    with np.errstate(under="ignore"):
        if split_exp:
            h = a * 128.0
            xp.round(h, out=h)
            h /= 128.0  # <= 12 significant bits, so h * h is exact
            d = a - h  # exact (Sterbenz)
            d *= a + h  # = a*a - h*h up to rounding; |d| < 0.22, so harmless
            xp.negative(d, out=d)
            xp.exp(d, out=d)
            h *= h
            xp.negative(h, out=h)
            e = xp.exp(h, out=h)
            e *= d  # exp(-h*h) * exp(-(a*a - h*h)) = exp(-a*a)
        else:
            e = a * a
            xp.negative(e, out=e)
            xp.exp(e, out=e)
        e *= ratio
    return e


def float64_flat(x: npt.ArrayLike, op: str) -> tuple[np.ndarray, tuple[int, ...], np.dtype]:
    """``x`` as a flat float64 array, its shape and the result dtype (its float dtype, or float64 for integers
    and bools); a TypeError naming ``op`` for anything else."""
    arr = array_module(x).asarray(x)
    if dtypes.is_floating_point(arr.dtype):
        out_dtype = arr.dtype
    elif arr.dtype.kind in "iub":
        out_dtype = np.dtype(np.float64)
    else:
        raise TypeError(f"{op}: unsupported dtype {arr.dtype} (real input only)")
    return arr.astype(np.float64, copy=False).reshape(-1), arr.shape, out_dtype


def _erf_block(x: np.ndarray, out: np.ndarray) -> None:
    """erf of a non-empty float64 1-D block ``x``, written into ``out``."""
    if x.min() > -1.0 and x.max() < 1.0:  # one branch (typical GELU input)
        _erf_small(x, out=out)
        return
    xp = array_module(x)
    a = xp.abs(x)
    out[...] = x  # NaNs fall through every branch below and stay NaN
    small = xp.flatnonzero(a < 1.0)
    if small.size:
        out[small] = _erf_small(x[small])
    mid = xp.flatnonzero((a >= 1.0) & (a < _ERF_SATURATE))
    if mid.size:
        e = _erfc_pos(a[mid], split_exp=False)
        xp.subtract(1.0, e, out=e)
        xp.copysign(e, x[mid], out=e)
        out[mid] = e
    big = xp.flatnonzero(a >= _ERF_SATURATE)  # includes +-inf
    if big.size:
        out[big] = xp.copysign(1.0, x[big])


def _erfc_block(x: np.ndarray, out: np.ndarray) -> None:
    """erfc of a non-empty float64 1-D block ``x``, written into ``out``."""
    xp = array_module(x)
    if x.min() > -1.0 and x.max() < 1.0:
        _erf_small(x, out=out)
        xp.subtract(1.0, out, out=out)
        return
    a = xp.abs(x)
    out[...] = x  # NaNs stay NaN
    small = xp.flatnonzero(a < 1.0)
    if small.size:
        out[small] = 1.0 - _erf_small(x[small])
    tail = xp.flatnonzero((a >= 1.0) & (a < _ERFC_UNDERFLOW))
    if tail.size:
        c = _erfc_pos(a[tail], split_exp=True)
        neg = xp.flatnonzero(x[tail] < 0.0)
        c[neg] = 2.0 - c[neg]  # erfc(-a) = 2 - erfc(a)
        out[tail] = c
    big = xp.flatnonzero(a >= _ERFC_UNDERFLOW)  # includes +-inf
    if big.size:
        out[big] = xp.where(x[big] < 0.0, 2.0, 0.0)


# Exact products and sums of doubles (Dekker 1971, Knuth): a value and its rounding error, so that a
# residual can be formed in about twice the working precision ("double-double"), elementwise.
_DEKKER_SPLITTER = 134217729.0  # 2**27 + 1


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``a = hi + lo`` with ``hi`` holding the upper 26 bits: products of halves are exact."""
    t = _DEKKER_SPLITTER * a
    hi = t - (t - a)
    return hi, a - hi


def _two_prod(a: np.ndarray, b: np.ndarray, b_split: tuple[np.ndarray, np.ndarray] | None = None):
    """``(p, e)`` with ``p = fl(a·b)`` and ``p + e = a·b`` exactly."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b) if b_split is None else b_split
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a: np.ndarray, b) -> tuple[np.ndarray, np.ndarray]:
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_two_sum` for ``|a| >= |b|``."""
    s = a + b
    return s, b - (s - a)


def _polevl_dd(zh: np.ndarray, zl: np.ndarray, coef: tuple[float, ...], monic: bool = False):
    """Horner's rule in double-double at ``z = zh + zl`` (``coef`` highest power first; with ``monic``
    a leading 1 is implied, as in :func:`_p1evl`)."""
    xp = array_module(zh)
    z_split = _split(zh)
    ph, pl = xp.full_like(zh, 1.0 if monic else coef[0]), xp.zeros_like(zh)
    for c in coef if monic else coef[1:]:
        h, l = _two_prod(ph, zh, z_split)
        h, l = _fast_two_sum(h, l + (ph * zl + pl * zh))
        s, e = _two_sum(h, c)
        ph, pl = _fast_two_sum(s, e + l)
    return ph, pl


def _erf_small_residual(y: np.ndarray, a: np.ndarray) -> np.ndarray:
    """``erf(y) − a`` for ``|y| < 1`` and ``a ≈ erf(y)``, with no cancellation error: the Cephes
    ratio ``y·T(y²)/U(y²)`` of :func:`_erf_small` as ``(y·T − a·U)/U``, its numerator in
    double-double. (Only the ratio's own error, under 7e-17 relative, remains.)"""
    zh, zl = _two_prod(y, y)
    th, tl = _polevl_dd(zh, zl, _T)
    uh, ul = _polevl_dd(zh, zl, _U, monic=True)
    h1, l1 = _two_prod(y, th)
    h2, l2 = _two_prod(a, uh)
    s, e = _two_sum(h1, -h2)
    return (s + (e + ((l1 + y * tl) - (l2 + a * ul)))) / uh


def _erfinv_block(x: np.ndarray, out: np.ndarray) -> None:
    """erfinv of a non-empty float64 1-D block ``x``, written into ``out``."""
    xp = array_module(x)
    a = xp.abs(x)
    out[...] = xp.where(a == 1.0, xp.copysign(np.inf, x), np.nan)  # +-1 -> +-inf; |x| > 1, NaN -> NaN
    inside = xp.flatnonzero(a < 1.0)
    if not inside.size:
        return
    xi, ai = x[inside], a[inside]
    y = xp.empty_like(ai)  # |erfinv(x)|, first from AS241
    central = xp.flatnonzero(ai <= _ERFINV_CENTRAL)
    if central.size:
        ac = ai[central]
        r = 0.180625 - 0.25 * ac * ac
        y[central] = ac * _ratio_in(r, _AS241_A, _AS241_B) / _TWO_SQRT_TWO  # |x| * ..., not |x|/2: subnormals
    tail = xp.flatnonzero(ai > _ERFINV_CENTRAL)
    if tail.size:
        r = xp.sqrt(-xp.log(0.5 * (1.0 - ai[tail])))  # 1 - |x| is exact here
        z = xp.where(r <= 5.0, _ratio_in(r - 1.6, _AS241_C, _AS241_D), _ratio_in(r - 5.0, _AS241_E, _AS241_F))
        y[tail] = z / math.sqrt(2.0)
    # one Newton step on erf(y) - |x|, the residual formed without cancellation: in double-double
    # below erf(1), and above it as (1 - |x|) - erfc(y), where both terms are exact or accurate
    residual = xp.empty_like(y)
    low = xp.flatnonzero(ai < _ERF_OF_ONE)
    if low.size:
        residual[low] = _erf_small_residual(y[low], ai[low])
    high = xp.flatnonzero(ai >= _ERF_OF_ONE)
    if high.size:
        residual[high] = (1.0 - ai[high]) - _erfc_pos(y[high], split_exp=True)
    y -= residual / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
    out[inside] = xp.copysign(y, xi)


def _apply(block_fn: Callable[[np.ndarray, np.ndarray], None], x: npt.ArrayLike) -> np.ndarray:
    """Run ``block_fn`` over ``x`` in float64 blocks; restore shape and dtype."""
    xf, shape, out_dtype = float64_flat(x, "erf/erfc/erfinv")
    xp = array_module(xf)
    out = xp.empty(xf.shape, dtype=np.float64)
    step = _block_length(xp, xf.size)
    for start in range(0, xf.size, step):  # loop over blocks, not elements
        block_fn(xf[start : start + step], out[start : start + step])
    return out.reshape(shape).astype(out_dtype, copy=False)


# erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2), z ≥ 0 (Press et al., *Numerical Recipes*, 2nd ed., §6.2, ``erfcc``, a
# Chebyshev fit): fractional error below 1.2e-7 for every z ≥ 0, tail included — float32's accuracy from one
# branch-free formula. Coefficients of P, highest power first.
_ERFCC = (0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
          1.00002368, -1.26551223)


def normal_cdf_float32(x: np.ndarray) -> np.ndarray:
    """Φ(x) = ½ erfc(−x/√2), the standard normal CDF, of a float32 array, computed in float32 (the exact GELU's
    factor; :func:`erf` computes in float64 and costs about 8× more). Φ keeps a relative error of a few float32 ulp on the whole line, the lower tail
    included: Φ(x) = ½ erfc(|x|/√2) for x < 0 and 1 − ½ erfc(x/√2) otherwise, with :data:`_ERFCC`'s erfc.
    Works block by block (cache-resident temporaries). NaN and ±∞ give NaN, as in PyTorch's GELU."""
    xp = array_module(x)
    flat = x.reshape(-1)
    cdf = xp.empty(flat.shape, np.float32)
    step = _block_length(xp, flat.size)
    for start in range(0, flat.size, step):  # loop over blocks, not elements
        v = flat[start:start + step]
        u = xp.abs(v)
        t = u * np.float32(0.5 / math.sqrt(2.0))  # t = 1/(1 + z/2), z = |x|/√2
        t += np.float32(1)
        xp.reciprocal(t, out=t)
        p = _polevl(t, _ERFCC)
        xp.exp(p, out=p)
        p *= t
        # exp(−z²) = exp(−x²/2) as exp(−h²/2)·exp(−(|x| − h)(|x| + h)/2), h = |x| to 1/64 so that h²/2 is exact:
        # a rounded x²/2 of 50 would carry its 1e-6 relative error into the tail (the idea of :func:`_erfc_pos`)
        h = u * np.float32(64)
        xp.rint(h, out=h)
        h *= np.float32(1 / 64)
        with np.errstate(invalid="ignore"):  # ±∞ − ±∞: NaN, as PyTorch's GELU gives there
            u -= h
        u *= u + h + h  # (|x| − h)(|x| + h), u being |x| − h now
        u *= np.float32(-0.5)
        xp.exp(u, out=u)
        h *= h
        h *= np.float32(-0.5)
        xp.exp(h, out=h)
        h *= u  # exp(−x²/2)
        p *= h
        p *= np.float32(0.5)  # ½ erfc(|x|/√2) = Φ(−|x|)
        xp.copyto(p, np.float32(1) - p, where=v >= 0)  # Φ(x) = 1 − Φ(−x); CuPy's ufuncs take no where=
        cdf[start:start + step] = p
    return cdf.reshape(x.shape)


def erf(x: npt.ArrayLike) -> np.ndarray:
    """Error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t**2) dt``.

    Element-wise over an array of any shape (0-d and empty included).  The
    result has the input's floating dtype (float32 stays float32; the work is
    done in float64), or float64 for integer/bool input.  ``erf(+-inf) = +-1``,
    ``erf(nan) = nan``, ``erf(-0.0) = -0.0``.  Relative error in float64 is a
    few ulp (<= 1e-14) over the whole real line (outside the subnormal range,
    where only absolute accuracy to the subnormal spacing is meaningful).
    """
    return _apply(_erf_block, x)


def erfinv(x: npt.ArrayLike) -> np.ndarray:
    """Inverse error function: ``erfinv(erf(y)) = y``, defined on [-1, 1].

    Same dtype and shape rules as :func:`erf`.  ``erfinv(+-1) = +-inf``, NaN
    for ``|x| > 1`` and for NaN, ``erfinv(-0.0) = -0.0``.  In float64 the
    result is within 2 ulp of the exact value over the whole domain (measured
    against 40-digit arithmetic; most results are correctly rounded), and
    ``erf(erfinv(x))`` returns ``x`` to a few ulp.  Float32 results are
    computed in float64 and rounded once.
    """
    return _apply(_erfinv_block, x)


def erfc(x: npt.ArrayLike) -> np.ndarray:
    """Complementary error function ``erfc(x) = 1 - erf(x)``.

    Computed directly (not as ``1 - erf``) for ``|x| >= 1`` so the small tail
    keeps its relative accuracy until it underflows (erfc(x) is subnormal
    for x > ~26.55 and 0 for x > ~27.3).  Same dtype and shape rules as
    :func:`erf`; ``erfc(-inf) = 2``, ``erfc(inf) = 0``, ``erfc(nan) = nan``.
    """
    return _apply(_erfc_block, x)
