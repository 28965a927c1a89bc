"""Pillow, imported once: ``fukaku.vision`` works on tensors without it, and names it when a PIL
image is asked for (``pip install pillow``)."""
from __future__ import annotations

from typing import Any

try:
    from PIL import Image
except ImportError:  # pragma: no cover - Pillow is installed wherever the tests run
    Image = None


def require_pil(what: str) -> Any:
    """The ``PIL.Image`` module, or an ImportError saying that ``what`` needs Pillow."""
    if Image is None:
        raise ImportError(f"{what} needs Pillow (PIL images): pip install pillow")
    return Image


def is_pil_image(obj: Any) -> bool:
    """Whether ``obj`` is a PIL image (False when Pillow is not installed)."""
    return Image is not None and isinstance(obj, Image.Image)
