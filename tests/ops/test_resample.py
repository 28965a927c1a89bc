"""fukaku/ops/resample.py (and its checked entry point ``F.interpolate``) against PyTorch 2.13: every
mode through the conformance harness (forward, vjp, jvp, both second orders), the sample indices of
PyTorch's kernels over a grid of sizes and scale factors, float64 finite differences, the pixel and
channel shuffles, and the errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, check, randn, shape_error_raised
from fukaku.autograd import gradcheck, gradgradcheck

# mode, input shape, keyword arguments: upsampling and downsampling (inputs no output reads), non-integer and
# per-axis scale factors, sizes of 1, align_corners, recompute_scale_factor
CASES = {
    "nearest-1d-x2": ("nearest", (2, 3, 5), dict(scale_factor=2)),
    "nearest-1d-down": ("nearest", (2, 3, 7), dict(size=3)),
    "nearest-2d-mixed": ("nearest", (1, 2, 3, 4), dict(scale_factor=(1.5, 0.5))),
    "nearest-2d-size": ("nearest", (1, 2, 3, 4), dict(size=(7, 9))),
    "nearest-3d": ("nearest", (1, 2, 2, 2, 3), dict(scale_factor=2)),
    "nearest-exact-2d": ("nearest-exact", (1, 2, 5, 4), dict(size=(3, 7))),
    "linear-align": ("linear", (2, 3, 5), dict(size=9, align_corners=True)),
    "linear-down": ("linear", (2, 3, 6), dict(scale_factor=0.5)),
    "bilinear-x2": ("bilinear", (2, 2, 3, 4), dict(scale_factor=2)),
    "bilinear-align": ("bilinear", (2, 2, 3, 4), dict(size=(5, 2), align_corners=True)),
    "bilinear-mixed": ("bilinear", (1, 2, 5, 7), dict(scale_factor=(0.4, 1.5))),
    "bilinear-recompute": ("bilinear", (1, 2, 5, 7), dict(scale_factor=1.7, recompute_scale_factor=True)),
    "bilinear-size-1": ("bilinear", (1, 1, 1, 4), dict(size=(3, 1), align_corners=True)),
    "trilinear": ("trilinear", (1, 2, 2, 3, 2), dict(scale_factor=(2, 1.5, 1))),
}


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", list(CASES))
def test_interpolate_matches_torch(case, dtype):
    mode, shape, kwargs = CASES[case]
    check(lambda x: F.interpolate(x, mode=mode, **kwargs), lambda x: TF.interpolate(x, mode=mode, **kwargs),
          [randn(shape)], dtype, second=True)


def _sizes(n_in: int) -> list[dict]:
    return [dict(size=n) for n in range(1, 3 * n_in + 8)] + [
        dict(scale_factor=s) for s in (0.25, 1 / 3, 0.5, 0.7, 1.0, 1.09, 1.5, 2.0, 2.05, 2.5, 3.0, 7.1)
        if int(n_in * s) > 0]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode, align_corners, rank", [("nearest", None, 3), ("nearest", None, 4),
                                                       ("nearest", None, 5), ("nearest-exact", None, 4),
                                                       ("linear", False, 3), ("linear", True, 3)])
def test_the_samples_read_are_torchs_for_many_sizes(mode, align_corners, rank, dtype):
    """Along the last axis, for sizes 1…3n+7 and scale factors that round (2.05, 1.09: PyTorch's 2-d
    nearest kernel takes shortcuts there, its 1-d and 3-d kernels do not): nearest must read exactly
    the same samples, linear must blend them with the same weights (to within rounding)."""
    tol = 2e-6 if dtype == np.float32 else 1e-13
    for n_in in (1, 2, 3, 5, 7, 12):
        x = randn((1,) * (rank - 1) + (n_in,), dtype=dtype, seed=n_in)
        for kw in _sizes(n_in):
            if "scale_factor" in kw:
                kw = dict(scale_factor=(1.0,) * (rank - 3) + (kw["scale_factor"],))
            got = F.interpolate(fk.tensor(x), mode=mode, align_corners=align_corners, **kw).numpy()
            want = TF.interpolate(torch.from_numpy(x), mode=mode, align_corners=align_corners, **kw).numpy()
            assert got.shape == want.shape, (n_in, kw)
            np.testing.assert_allclose(got, want, rtol=0 if mode != "linear" else tol, atol=0 if mode != "linear"
                                       else tol, err_msg=f"{n_in} -> {kw}")


def test_interpolate_by_finite_differences():
    """The rules against float64 central differences (first and second order), independently of torch."""
    x = fk.tensor(randn((1, 2, 3, 4)), requires_grad=True)
    for kwargs in (dict(mode="bilinear", scale_factor=(1.7, 0.6)), dict(mode="nearest", size=(5, 2))):
        gradcheck(lambda x: F.interpolate(x, **kwargs), (x,))
        gradgradcheck(lambda x: F.interpolate(x, **kwargs) * x.sum(), (x,))


def test_interpolate_keeps_what_it_should():
    """Corners with align_corners=True; constants in every mode; a no-op size is the input itself;
    nearest on integer images, as PyTorch's."""
    x = fk.tensor(randn((2, 3, 4, 5)))
    y = F.interpolate(x, size=(7, 9), mode="bilinear", align_corners=True).numpy()
    np.testing.assert_allclose(y[..., [0, 0, -1, -1], [0, -1, 0, -1]], x.numpy()[..., [0, 0, -1, -1], [0, -1, 0, -1]],
                               rtol=1e-6)
    for mode in ("nearest", "nearest-exact", "bilinear"):
        np.testing.assert_allclose(F.interpolate(fk.full((1, 1, 3, 4), 2.5), scale_factor=1.7, mode=mode).numpy(), 2.5,
                                   rtol=1e-6)
    assert F.interpolate(x, size=(4, 5), mode="bilinear") is x
    image = np.arange(2 * 3 * 4 * 5, dtype=np.uint8).reshape(2, 3, 4, 5)
    got = F.interpolate(fk.tensor(image), scale_factor=(1.5, 0.7))
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got.numpy(), TF.interpolate(torch.from_numpy(image), scale_factor=(1.5, 0.7)).numpy())


def test_interpolate_errors_name_the_op_and_the_shapes():
    x = fk.randn(2, 3, 4)
    shape_error_raised(lambda: F.interpolate(x, scale_factor=2, mode="bilinear"), "interpolate", (2, 3, 4))
    shape_error_raised(lambda: F.interpolate(fk.randn(3, 4), size=5), "interpolate", (3, 4))
    shape_error_raised(lambda: F.interpolate(fk.randn(1, 2, 3, 4), size=(5, 6, 7)), "interpolate", (1, 2, 3, 4))
    shape_error_raised(lambda: F.interpolate(x, scale_factor=0.2), "interpolate", (2, 3, 4))
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="exactly one of size and scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match="positive"):
        F.interpolate(x, scale_factor=-1.0)
    with pytest.raises(TypeError, match="size must be an int"):
        F.interpolate(x, size=2.5)
    with pytest.raises(NotImplementedError, match="'bicubic' is not available"):
        F.interpolate(fk.randn(1, 1, 2, 2), scale_factor=2, mode="bicubic")
    with pytest.raises(NotImplementedError, match="adaptive average pooling"):
        F.interpolate(fk.randn(1, 1, 2, 2), size=1, mode="area")
    with pytest.raises(NotImplementedError, match="antialias"):
        F.interpolate(fk.randn(1, 1, 2, 2), size=1, mode="bilinear", antialias=True)
    with pytest.raises(TypeError, match="floating-point"):
        F.interpolate(fk.ones(1, 1, 2, dtype=fk.int64), size=3, mode="linear")


# ----------------------------------------------------------------------------- pixel and channel shuffles
@pytest.mark.parametrize("dtype", FLOATS)
def test_shuffles_match_torch(dtype):
    check(lambda x: F.pixel_shuffle(x, 2), lambda x: TF.pixel_shuffle(x, 2), [randn(2, 8, 3, 2)], dtype, second=True)
    check(lambda x: F.pixel_shuffle(x, 3), lambda x: TF.pixel_shuffle(x, 3), [randn(2, 3, 9, 1, 2)], dtype)
    check(lambda x: F.pixel_unshuffle(x, 2), lambda x: TF.pixel_unshuffle(x, 2), [randn(2, 3, 4, 6)], dtype,
          second=True)
    check(lambda x: F.pixel_unshuffle(x, 1), lambda x: TF.pixel_unshuffle(x, 1), [randn(3, 2, 2)], dtype)
    check(lambda x: F.channel_shuffle(x, 3), lambda x: TF.channel_shuffle(x, 3), [randn(2, 6, 2, 2)], dtype,
          second=True)
    check(lambda x: fk.channel_shuffle(x, 2), lambda x: torch.channel_shuffle(x, 2), [randn(2, 4, 3)], dtype)


def test_pixel_shuffle_places_channels_in_blocks_and_unshuffle_inverts_it():
    x = fk.arange(2 * 12 * 2 * 3.0).reshape(2, 12, 2, 3)
    y = F.pixel_shuffle(x, 2)
    assert y.shape == (2, 3, 4, 6)
    # out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]
    assert y[1, 2, 3, 4].item() == x[1, 2 * 4 + 1 * 2 + 0, 1, 2].item()
    np.testing.assert_array_equal(F.pixel_unshuffle(y, 2).numpy(), x.numpy())
    assert fk.pixel_shuffle is F.pixel_shuffle and fk.pixel_unshuffle is F.pixel_unshuffle


def test_shuffle_errors_name_the_op_and_the_shapes():
    shape_error_raised(lambda: F.pixel_shuffle(fk.randn(2, 5, 3, 3), 2), "pixel_shuffle", (2, 5, 3, 3))
    shape_error_raised(lambda: F.pixel_shuffle(fk.randn(4, 3), 2), "pixel_shuffle", (4, 3))
    shape_error_raised(lambda: F.pixel_unshuffle(fk.randn(2, 5, 3, 4), 2), "pixel_unshuffle", (2, 5, 3, 4))
    shape_error_raised(lambda: F.channel_shuffle(fk.randn(2, 5, 3), 2), "channel_shuffle", (2, 5, 3))
    shape_error_raised(lambda: F.channel_shuffle(fk.randn(2, 4), 2), "channel_shuffle", (2, 4))
    with pytest.raises(ValueError, match="upscale_factor must be a positive integer"):
        F.pixel_shuffle(fk.randn(1, 4, 2, 2), 0)
