"""Differentiable ops by family, and the Tensor methods and operators that call them.

Each family module holds its ops' forward, vjp and jvp together; this module only binds them to
:class:`fukaku.Tensor` so that ``x.exp()``, ``x @ w`` and ``x[1:, idx]`` work as in PyTorch.
"""
from __future__ import annotations

from ..tensor import Tensor, wrap
from . import activation, elementwise, index, inplace, linalg, reduce, shape
from .activation import elu, gelu, leaky_relu, log_softmax, one_hot, relu, silu, softmax, softplus
from .elementwise import (abs, add, ceil, clamp, cos, div, eq, erf, exp, floor, floor_divide, ge, gt, isfinite,
                          isinf, isnan, le, log, log1p, logical_and, logical_not, logical_or, logical_xor, lt,
                          maximum, minimum, mul, ne, neg, pow, reciprocal, remainder, round, rsqrt, sigmoid, sign,
                          sin, sqrt, square, sub, tanh, to, where)
from .index import gather, getitem, index_select, masked_fill, scatter_add
from .linalg import bmm, det, dot, einsum, inverse, matmul, mm, outer, trace
from .reduce import (all, amax, amin, any, argmax, argmin, cumsum, logsumexp, max, mean, min, norm, prod, std,
                     sum, var)
from .shape import (broadcast_to, cat, chunk, diag, diagonal, expand, expand_as, flatten, flip, pad, permute,
                    repeat, reshape, roll, split, squeeze, stack, t, transpose, tril, triu, unbind, unflatten,
                    unsqueeze, view)

clip = clamp
concat = cat
true_divide = div
multiply = mul
subtract = sub
negative = neg
absolute = abs


def _reflect(fn):
    return lambda self, other: fn(other, self)


def _method_with_dims(fn):
    """Methods like ``x.permute(0, 2, 1)`` and ``x.reshape(2, 3)`` take sizes as varargs."""
    def method(self, *dims):
        return fn(self, *dims)

    method.__name__ = fn.__name__
    method.__doc__ = fn.__doc__
    return method


def _type_method(dtype):
    return lambda self: to(self, dtype)


def _bind() -> None:
    import numpy as np

    T = Tensor
    # operators
    T.__add__, T.__radd__ = add, _reflect(add)
    T.__sub__, T.__rsub__ = sub, _reflect(sub)
    T.__mul__, T.__rmul__ = mul, _reflect(mul)
    T.__truediv__, T.__rtruediv__ = div, _reflect(div)
    T.__floordiv__, T.__rfloordiv__ = floor_divide, _reflect(floor_divide)
    T.__mod__ = remainder
    T.__pow__, T.__rpow__ = pow, _reflect(pow)
    T.__matmul__, T.__rmatmul__ = matmul, _reflect(matmul)
    T.__neg__ = neg
    T.__pos__ = lambda self: self
    T.__abs__ = abs
    T.__eq__, T.__ne__, T.__lt__, T.__le__, T.__gt__, T.__ge__ = eq, ne, lt, le, gt, ge
    T.__and__, T.__or__, T.__xor__ = logical_and, logical_or, logical_xor
    T.__invert__ = logical_not
    T.__getitem__ = getitem
    T.__setitem__ = inplace.setitem
    T.__iadd__ = lambda self, other: inplace.add_(self, other)
    T.__isub__ = lambda self, other: inplace.sub_(self, other)
    T.__imul__ = lambda self, other: inplace.mul_(self, other)
    T.__itruediv__ = lambda self, other: inplace.div_(self, other)
    # methods with the same signature as the function
    for fn in (add, sub, mul, div, pow, matmul, exp, log, log1p, sqrt, rsqrt, abs, sign, sin, cos, tanh, sigmoid,
               erf, relu, clamp, maximum, minimum, sum, mean, var, std, max, min, amax, amin, argmax, argmin,
               logsumexp, prod, cumsum, norm, flatten, unflatten, squeeze, unsqueeze, transpose, expand_as,
               split, chunk, unbind, flip, roll, tril, triu, diag, diagonal, gather, scatter_add, index_select,
               masked_fill, softmax, log_softmax, to, eq, ne, lt, le, gt, ge, det, inverse, trace, outer, dot,
               mm, bmm, square, reciprocal, floor, ceil, round, isnan, isinf, isfinite, all, any, neg,
               logical_not, logical_and, logical_or, remainder, floor_divide):
        setattr(T, fn.__name__, fn)
    T.where = lambda self, condition, other: where(condition, self, other)
    T.clip = clamp
    T.sub_, T.add_, T.mul_, T.div_, T.pow_ = inplace.sub_, inplace.add_, inplace.mul_, inplace.div_, inplace.pow_
    T.zero_, T.fill_, T.copy_, T.clamp_ = inplace.zero_, inplace.fill_, inplace.copy_, inplace.clamp_
    T.uniform_, T.normal_ = inplace.uniform_, inplace.normal_
    for fn in (reshape, view, permute, expand, repeat):
        setattr(T, fn.__name__, _method_with_dims(fn))
    T.T = property(shape._T)
    T.mT = property(shape._mT)
    T.t = t
    T.float, T.double, T.long = _type_method(np.float32), _type_method(np.float64), _type_method(np.int64)
    T.int, T.bool, T.half = _type_method(np.int32), _type_method(np.bool_), _type_method(np.float16)
    T.type = lambda self, dtype=None: self.dtype.name if dtype is None else to(self, dtype)
    T.clone = lambda self: self * 1 if self.data.dtype.kind != "b" else wrap(self.data.copy())
    T.contiguous = lambda self: self
    T.view_as = lambda self, other: view(self, other.shape)
    T.reshape_as = lambda self, other: reshape(self, other.shape)
    T.expand_as = expand_as
    T.swapaxes = transpose
    T.cpu = lambda self: self
    T.new_zeros = lambda self, *size, dtype=None: wrap(np.zeros(_sizes(size), dtype or self.dtype))
    T.new_ones = lambda self, *size, dtype=None: wrap(np.ones(_sizes(size), dtype or self.dtype))
    T.new_full = lambda self, size, value, dtype=None: wrap(np.full(tuple(size), value, dtype or self.dtype))
    T.new_tensor = lambda self, data, dtype=None: Tensor(data, dtype=dtype or self.dtype)


def _sizes(size):
    return tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else tuple(size)


_bind()

__all__ = [name for name in dir() if not name.startswith("_") and name not in
           ("activation", "elementwise", "index", "inplace", "linalg", "reduce", "shape", "Tensor", "annotations")]
