"""Neural-network building blocks with ``torch.nn``'s names (seed 000 §6.1.1–6.1.4).

Layers live in :mod:`fukaku.nn.modules` (one file per family, PyTorch's file names), the
stateless functions they call in :mod:`fukaku.nn.functional` (a package split the same way).
"""
from . import functional, init, modules, parallel, utils
from .parallel import DataParallel  # torch.nn.DataParallel
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Parameter

__all__ = ["functional", "init", "utils", "modules", "parallel", "Parameter", "DataParallel", *_modules_all]
