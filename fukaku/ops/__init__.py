"""Differentiable ops, one file per family; each op's forward, vjp and jvp sit together.

A family file holds its graph nodes (:class:`~fukaku.autograd.Function` subclasses), the functions
that call them (``fukaku.exp``, ``fukaku.matmul`` …, listed in the file's ``__all__``), and, on
each function, the Tensor methods and operators it provides (``@tensor_method``: ``x.exp()``,
``x @ w``, ``x[1:, idx]``). Importing a family binds its methods, so adding an op is one edit in
one file. The graph nodes of layers — :mod:`linear`, :mod:`normalization`, :mod:`loss` — are
called from :mod:`fukaku.nn.functional`, which checks the arguments users pass.
"""
from __future__ import annotations

# every family is imported, also those that export no function: importing one binds its Tensor methods
# (inplace: x.add_, x[i] = v) and defines the graph nodes nn.functional calls (linear, loss, normalization)
from . import activation, elementwise, index, inplace, linalg, linear, loss, normalization, reduce, shape  # noqa: F401
from . import resample  # noqa: E402
from . import conv, padding  # noqa: E402,F401  (graph nodes of nn.functional's convolutions and pad modes)
from . import pooling  # noqa: E402,F401  (graph nodes only: nn.functional.pooling calls them)
from . import recurrent  # noqa: E402  (the fused recurrent layer node and the cells)
# the sort family by another name: its function sort, star-imported below, takes the name ``sort`` here
from . import sort as sorting  # noqa: E402
from .activation import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .index import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .resample import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .sort import *  # noqa: F401,F403

__all__ = [*activation.__all__, *elementwise.__all__, *index.__all__, *linalg.__all__, *reduce.__all__, *shape.__all__,
           *sorting.__all__, *resample.__all__, *recurrent.__all__]

inplace.bind_twins()  # after every family: the in-place twins (exp_, clamp_ …) of the ops they define
