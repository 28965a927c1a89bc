"""fukaku.physics.stirling against math.lgamma and the known asymptotics of Stirling's error."""
from __future__ import annotations

import math

import numpy as np
import pytest

from fukaku.physics import log_factorial, stirling_error, stirling_log_factorial


def test_log_factorial_exact():
    n = np.array([0, 1, 5, 20, 170, 1e5])
    assert np.allclose(log_factorial(n), [math.lgamma(v + 1) for v in n], rtol=1e-13)


def test_stirling_error_asymptotics():
    n = np.array([10.0, 100.0, 1e4, 1e6])
    err = stirling_error(n)
    assert np.allclose(err, 0.5 * np.log(2 * np.pi * n), rtol=1e-2)                 # text's form: ½ log 2πn
    assert np.allclose(stirling_error(n, correction=True), 1 / (12 * n), rtol=2e-2)  # corrected: 1/(12n)
    rel = stirling_error(n, relative=True)
    assert np.all(np.diff(rel) < 0) and rel[-1] < 1e-6                              # relative error → 0
    assert stirling_log_factorial(0) == 0.0
    assert float(stirling_log_factorial(5)) == pytest.approx(5 * math.log(5) - 5)
