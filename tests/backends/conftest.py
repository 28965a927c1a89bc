"""The device the GPU tests run on: the stand-in GPU (tests/backends/standin.py) everywhere, and the
real GPU through CuPy where one is present.

The fixture ``cuda`` is parametrised by target:

- ``standin`` — always: :class:`StandInCupy` registered as fukaku's ``'cuda'`` device for the test;
- ``gpu`` — when CuPy sees a GPU (found automatically), or when ``FUKAKU_TEST_DEVICE=cuda`` is set,
  which also drops the stand-in and turns a missing GPU into a failure, so that a run meant for the
  GPU (tools/gpu_check.sh) cannot pass on the stand-in alone.

Each test gets the device string to pass as ``device=`` / ``.to(...)``: ``"cuda"``.
"""
from __future__ import annotations

import os

import pytest

from backends.standin import registered_standin


def _gpu_present() -> bool:
    from fukaku.backends.cupy_backend import load_cupy

    return load_cupy() is not None


def _targets() -> list[str]:
    if os.environ.get("FUKAKU_TEST_DEVICE") == "cuda":
        return ["gpu"]
    return ["standin", "gpu"] if _gpu_present() else ["standin"]


@pytest.fixture(params=_targets())
def cuda(request):
    """``"cuda"``, served by the stand-in or by the GPU (see the module's docstring)."""
    if request.param == "gpu":
        import fukaku

        if not fukaku.cuda.is_available():
            from fukaku.backends.cupy_backend import unavailable_reason

            pytest.fail(f"FUKAKU_TEST_DEVICE=cuda but fukaku sees no GPU: {unavailable_reason()}", pytrace=False)
        yield "cuda"
        return
    with registered_standin():
        yield "cuda"


@pytest.fixture
def standin():
    """The stand-in module itself, registered as ``'cuda'`` (for tests of what only the stand-in can show:
    the names fukaku asked for, synchronisations counted)."""
    with registered_standin() as module:
        yield module
