"""fukaku.set_num_threads / get_num_threads (torch's names) and the lab's blas_threads block: the count reaches
BLAS (threadpoolctl's own reading is the oracle), is restored, and results do not depend on it."""
from __future__ import annotations

import numpy as np
import pytest

import fukaku as fk
from fukaku.ops import _parallel

threadpoolctl = pytest.importorskip("threadpoolctl")


def _blas_threads() -> int:
    """The thread count of the BLAS libraries fukaku controls (those loaded when it first looked: NumPy's; a SciPy
    loaded later brings its own, which fukaku leaves alone), read afresh by threadpoolctl."""
    fk.get_num_threads()
    ours = {lib.filepath for lib in _parallel.Threads.blas.lib_controllers}
    return max(info["num_threads"] for info in threadpoolctl.threadpool_info() if info["filepath"] in ours)


@pytest.fixture
def restore_threads():
    before = fk.get_num_threads()
    yield
    fk.set_num_threads(before)


def test_set_num_threads_reaches_blas_and_get_reads_it(restore_threads):
    fk.set_num_threads(1)
    assert fk.get_num_threads() == 1 == _blas_threads()
    fk.set_num_threads(2)
    assert fk.get_num_threads() == 2 == _blas_threads()


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_set_num_threads_refuses_what_is_not_a_positive_int(bad, restore_threads):
    before = fk.get_num_threads()
    with pytest.raises(ValueError, match="set_num_threads"):
        fk.set_num_threads(bad)
    assert fk.get_num_threads() == before


def test_blas_threads_restores_the_count_even_after_an_error(restore_threads):
    fk.set_num_threads(2)
    with pytest.raises(RuntimeError, match="inside"), _parallel.blas_threads(1):
        assert _blas_threads() == 1
        raise RuntimeError("inside")
    assert _blas_threads() == 2


def test_the_thread_count_does_not_change_the_results(restore_threads):
    x = fk.randn(16, 8, 12, 12, generator=fk.Generator().manual_seed(0))
    w = fk.randn(32, 8, 3, 3, generator=fk.Generator().manual_seed(1))
    outs = []
    for n in (1, 2):
        fk.set_num_threads(n)
        outs.append(fk.nn.functional.conv2d(x, w, padding=1)._data)
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-5)
