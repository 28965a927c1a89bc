"""Neural-network building blocks. For now: the functional API (``fukaku.nn.functional``)."""
from . import functional

__all__ = ["functional"]
