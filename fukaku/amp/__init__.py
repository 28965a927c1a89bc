"""Automatic mixed precision, as ``torch.amp``: :class:`autocast` regions where matrix products and
convolutions run in float16/bfloat16 while parameters stay float32, and :class:`GradScaler`, the loss
scaling that keeps float16 gradients from underflowing. The region's state functions
(``is_autocast_enabled``, ``get_autocast_dtype`` …) are at the top level, as in PyTorch. See ``docs/amp.md``.
"""
from .autocast_mode import autocast, is_autocast_available
from .grad_scaler import GradScaler

__all__ = ["autocast", "GradScaler", "is_autocast_available"]
