"""fukaku/nn/modules/upsampling.py and pixelshuffle.py: the layers' attributes, the deprecated
functional aliases, a decoder step of the kind U-Net builds (upsample, concatenate the skip
connection), and the errors. The layers are compared with torch's (outputs, gradients, state dicts,
reprs) in tests/nn/test_layers.py, the ops in tests/ops/test_resample.py."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn as nn
import fukaku.nn.functional as F
from conformance import assert_close, randn


def test_upsample_attributes_are_torchs():
    for kwargs in (dict(scale_factor=2), dict(scale_factor=(2, 3)), dict(size=4), dict(size=(2, 3), mode="bilinear")):
        ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
        for name in ("size", "scale_factor", "mode", "align_corners", "recompute_scale_factor"):
            assert getattr(ours, name) == getattr(theirs, name), (kwargs, name)
    assert nn.UpsamplingBilinear2d(size=3).align_corners is True
    assert isinstance(nn.UpsamplingNearest2d(scale_factor=2), nn.Upsample)


def test_deprecated_functional_aliases_warn_and_match_torch():
    x = randn(1, 2, 3, 3)
    for name, kwargs in (("upsample", dict(scale_factor=2, mode="bilinear")), ("upsample_nearest", dict(size=5)),
                         ("upsample_bilinear", dict(scale_factor=2))):
        with pytest.warns(UserWarning, match="deprecated"):
            got = getattr(F, name)(fk.tensor(x), **kwargs)
        with pytest.warns(UserWarning):
            want = getattr(TF, name)(torch.from_numpy(x), **kwargs)
        assert_close(got, want, np.float64, name)


def test_a_unet_decoder_step_trains():
    """Upsample ×2, concatenate the skip connection, and every gradient reaches its source (PixelShuffle
    as the learned alternative to fixed upsampling)."""
    low = fk.randn(2, 8, 3, 3, requires_grad=True)
    skip = fk.randn(2, 4, 6, 6, requires_grad=True)
    merged = fk.cat([nn.Upsample(scale_factor=2, mode="bilinear")(low), skip], dim=1)
    shuffled = nn.PixelShuffle(2)(low)
    assert merged.shape == (2, 12, 6, 6) and shuffled.shape == (2, 2, 6, 6)
    (merged.square().mean() + shuffled.mean()).backward()
    assert low.grad.shape == low.shape and skip.grad.abs().sum().item() > 0
    # bilinear ×2 without align_corners spreads each input's gradient with weights summing to 4
    up = nn.Upsample(scale_factor=2, mode="bilinear")
    x = fk.randn(1, 1, 4, 4, requires_grad=True)
    up(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy().sum(), 4 * 16, rtol=1e-6)


def test_upsample_errors_name_the_op_and_the_shapes():
    with pytest.raises(fk.ShapeError, match=r"interpolate: mode 'bilinear' needs a 4-d .* got shape \(2, 3, 4\)"):
        nn.Upsample(scale_factor=2, mode="bilinear")(fk.randn(2, 3, 4))
    with pytest.raises(fk.ShapeError, match=r"size=\(2, 3, 4\).*\(1, 1, 2, 2\)"):
        nn.Upsample(size=(2, 3, 4))(fk.randn(1, 1, 2, 2))
