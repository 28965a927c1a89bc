"""Neural-network building blocks with ``torch.nn``'s names (seed 000 §6.1.1–6.1.4)."""
from . import functional, init
from .containers import ModuleDict, ModuleList, Sequential
from .module import Module
from .parameter import Parameter

__all__ = ["functional", "init", "Module", "Parameter", "Sequential", "ModuleList", "ModuleDict"]
