"""CuPy, the GPU array library fukaku's ``'cuda'`` device computes with (the optional extra ``cuda``:
``pip install 'fukaku[cuda]'``, which installs ``cupy-cuda12x``).

CuPy has NumPy's API, so fukaku's ops run on it unchanged: each op asks the seam
(:func:`fukaku.backends.array_module`) for the module of its inputs and gets ``cupy`` for GPU arrays.
This file only finds CuPy and decides whether it can be used; :func:`fukaku.backends.device_module`
calls it once, the first time a CUDA device is asked for, so ``import fukaku`` never imports CuPy.
"""
from __future__ import annotations

from types import ModuleType

__all__ = ["load_cupy", "unavailable_reason"]

# why the last load_cupy() found no usable CuPy, for the DeviceError fukaku raises for 'cuda'
_reason = "CuPy was not looked for yet"


def load_cupy() -> ModuleType | None:
    """``cupy`` when it imports and reports at least one GPU, else None (the reason is kept for
    :func:`unavailable_reason`)."""
    global _reason
    try:
        import cupy
    except ImportError as e:
        _reason = f"CuPy is not installed ({e}); install the extra: pip install 'fukaku[cuda]'"
        return None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # CuPy's CUDARuntimeError without a driver; a wheel for another CUDA raises others
        _reason = f"CuPy {cupy.__version__} is installed but cannot reach a GPU ({type(e).__name__}: {e})"
        return None
    if count < 1:
        _reason = f"CuPy {cupy.__version__} is installed but reports no GPU"
        return None
    _reason = ""
    return cupy


def unavailable_reason() -> str:
    """Why CuPy is not in use ("" when it is)."""
    return _reason
