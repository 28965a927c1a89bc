"""fukaku/ops/padding.py through F.pad: the modes reflect, replicate and circular against PyTorch
(forward, backward, jvp, second order) on 1, 2 and 3 padded dims, batched and unbatched, asymmetric,
wide (up to the size), negative (cropping) and zero widths; the index each mode copies; errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch.nn.functional as TF

import fukaku as fk
import fukaku.nn.functional as F
from conformance import FLOATS, check, randn
from fukaku.ops.padding import source_index

MODES = ["reflect", "replicate", "circular"]
CASES = [
    ("1d_unbatched", (3, 5), (1, 2)),
    ("1d_batched_wide", (2, 3, 5), (4, 3)),
    ("2d", (2, 3, 4, 5), (1, 2, 3, 0)),
    ("2d_unbatched", (3, 4, 5), (2, 2, 1, 1)),
    ("3d", (1, 2, 3, 4, 3), (1, 1, 2, 0, 1, 2)),
    ("negative_crops", (2, 3, 6), (-1, 2)),
    ("only_one_side_cropped", (2, 4, 5), (0, 1, -2, 1)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name, shape, pad", CASES, ids=[c[0] for c in CASES])
def test_pad_modes_match_torch(name, shape, pad, mode, dtype):
    check(lambda x: F.pad(x, pad, mode=mode), lambda x: TF.pad(x, pad, mode=mode), [randn(shape, seed=1)], dtype,
          second=dtype == np.float64)


@pytest.mark.parametrize("mode", MODES)
def test_widths_up_to_the_limit(mode):
    """reflect: up to size − 1; replicate: any; circular: up to the size (wrapping once)."""
    n = 4
    width = {"reflect": n - 1, "replicate": 7, "circular": n}[mode]
    check(lambda x: F.pad(x, (width, width), mode=mode), lambda x: TF.pad(x, (width, width), mode=mode),
          [randn(2, n, seed=2)], np.float64)


@pytest.mark.parametrize("mode, want", [("reflect", [2, 1, 0, 1, 2, 3, 2, 1]), ("replicate", [0, 0, 0, 1, 2, 3, 3, 3]),
                                        ("circular", [2, 3, 0, 1, 2, 3, 0, 1])])
def test_source_index(mode, want):
    assert source_index(4, 2, 2, mode).tolist() == want


def test_zero_widths_return_the_input_and_constant_mode_is_unchanged():
    x = fk.randn(2, 3, 4)
    assert F.pad(x, (0, 0), mode="reflect") is x
    check(lambda x: F.pad(x, (1, 2, 0, 1), value=2.5), lambda x: TF.pad(x, (1, 2, 0, 1), value=2.5),
          [randn(2, 3, 4, seed=3)], np.float64)


def test_a_border_cell_copied_many_times_gets_every_gradient():
    """replicate: the edge cell feeds every border cell, so its gradient is 1 + the widths."""
    x = fk.zeros(1, 1, 3, requires_grad=True)
    F.pad(x, (3, 2), mode="replicate").sum().backward()
    assert x.grad.tolist() == [[[4.0, 1.0, 3.0]]]


def test_errors_as_torch():
    x = fk.randn(2, 3, 4, 5)
    with pytest.raises(NotImplementedError, match="not supported"):
        F.pad(x, (1, 1), mode="reflect")  # a 4-d input takes 4 or 6 values
    with pytest.raises(fk.ShapeError, match=r"smaller than the dimension's size 5"):
        F.pad(x, (5, 0, 1, 1), mode="reflect")
    with pytest.raises(fk.ShapeError, match=r"at most the dimension's size 5"):
        F.pad(x, (6, 0, 1, 1), mode="circular")
    with pytest.raises(NotImplementedError, match="unrecognised padding mode"):
        F.pad(x, (1, 1, 1, 1), mode="mirror")
    with pytest.raises(ValueError, match="doesn't take a value"):
        F.pad(x, (1, 1, 1, 1), mode="reflect", value=1.0)
