"""Utilities laid out as ``torch.utils``: :mod:`fukaku.utils.data` (datasets, samplers, DataLoader) and
:mod:`fukaku.utils.graph` (draw a result's backward graph, as torchviz does for PyTorch)."""
from . import data, graph

__all__ = ["data", "graph"]
