"""Utilities laid out as ``torch.utils``: :mod:`fukaku.utils.data` (datasets, samplers, DataLoader)."""
from . import data

__all__ = ["data"]
