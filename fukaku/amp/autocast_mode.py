"""``fukaku.autocast``: mixed precision regions, PyTorch's ``torch.autocast`` (seed 000 §6.4: large models
are trained in FP16).

Inside ``with fukaku.autocast("cpu"):`` (or ``"cuda"``) each graph node of an op that PyTorch autocasts
runs under its op's *policy*, picked by the tensor's device type:

* **lower precision** (matrix products, ``linear``, convolutions, ``scaled_dot_product_attention``,
  recurrent layers): floating inputs are cast to the region's dtype (bfloat16 on the CPU, float16 on CUDA
  by default) and so is the result;
* **float32** (losses, ``prod``, the decompositions; on CUDA also ``exp``/``log``/``pow``, softmax,
  reductions and norms): floating inputs are cast up to float32;
* **promote** (``cat``/``stack``; on CUDA also ``atan2``, ``dot``, ``scatter_add``): inputs are cast to
  the widest floating type among them;
* every other op runs in the dtypes of its inputs.

float64 and non-floating inputs are never cast, and tensors of another device type are left alone, as in
PyTorch. The casts are graph nodes (:class:`fukaku.ops.elementwise.Cast`), so gradients flow back
through them in each input's own dtype: float32 parameters ("master weights") get float32 gradients.
The cast of a float32 leaf that requires grad (a parameter) is cached for the rest of the outermost
region (unless ``cache_enabled=False``), so a weight used at every step of an RNN is cast once; the
cache checks the parameter's version, so an in-place update inside the region is never missed. The
cache holds the rounded array, not a graph node: each use is a node of its own
(:class:`CachedCast`), so two losses of one region can each run backward, as in PyTorch.

On the CPU, NumPy has no bfloat16 arithmetic and no BLAS for float16: a lower-precision node there runs
on float32 copies of its rounded inputs and rounds its result, which is what PyTorch's CPU kernels do
(they accumulate in float32, their "opmath" type). On a GPU array library (CuPy) the node runs in the
low-precision dtype itself.

The hook is one check in :meth:`fukaku.autograd.Function.apply`: while no thread is inside an enabled
region it is ``None`` and costs one attribute load per op.
"""
from __future__ import annotations

import functools
import threading
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import dtypes
from ..autograd.function import Function
from ..ops import activation, attention, conv, elementwise, index, linalg, linear, loss, recurrent, reduce, resample, shape
from ..tensor import Tensor

__all__ = ["autocast", "is_autocast_available", "is_autocast_enabled", "set_autocast_enabled", "get_autocast_dtype",
           "set_autocast_dtype", "is_autocast_cache_enabled", "set_autocast_cache_enabled", "clear_autocast_cache",
           "autocast_increment_nesting", "autocast_decrement_nesting", "policy_of", "autocasts"]

DEVICE_TYPES = ("cpu", "cuda")
LOWER, FP32, PROMOTE, BANNED = "lower_precision_fp", "fp32", "promote", "banned"

# -------------------------------------------------------------------------------------------- op policies
# PyTorch's autocast op lists (aten/src/ATen/autocast_mode.cpp; "Autocast Op Reference" in torch.amp's
# documentation), restricted to the ops that are one graph node in fukaku. MatMul is the node of several
# public ops, told apart by its ``op`` parameter.
_CPU_LOWER_PRODUCTS = frozenset({"matmul", "mm", "bmm", "addmm", "baddbmm", "addbmm"})


def _cpu_matmul(params: dict) -> str | None:
    return LOWER if params.get("op", "matmul") in _CPU_LOWER_PRODUCTS else None  # dot, mv: not autocast on the CPU


def _cuda_matmul(params: dict) -> str:
    return PROMOTE if params.get("op") == "dot" else LOWER  # CUDA casts mv and addmv too; dot promotes


_LOWER_NODES = (linear.Affine, conv.Convolution, conv.ConvTranspose, attention.Attention, linalg.Einsum,
                recurrent.RecurrentSequence)

_POLICIES: dict[str, dict[type, str | Callable[[dict], str | None]]] = {
    "cpu": {
        **dict.fromkeys(_LOWER_NODES, LOWER),
        linalg.MatMul: _cpu_matmul,
        # losses, prod and the linear-algebra routines need float32's range and precision
        **dict.fromkeys((loss.SoftmaxCrossEntropy, loss.BinaryCrossEntropy, reduce.Prod, linalg.Inverse,
                         linalg.Det, linalg.LogAbsDet, linalg.Solve, linalg.SVD, linalg.Eigh, linalg.QR,
                         linalg.Cholesky, linalg.Pinv), FP32),
        shape.Cat: PROMOTE,
    },
    "cuda": {
        **dict.fromkeys(_LOWER_NODES, LOWER),
        linalg.MatMul: _cuda_matmul,
        **dict.fromkeys((elementwise.Exp, elementwise.Expm1, elementwise.Log, elementwise.Log2, elementwise.Log10,
                         elementwise.Log1p, elementwise.Rsqrt, elementwise.Asin, elementwise.Acos, elementwise.Cosh,
                         elementwise.Sinh, elementwise.Tan, elementwise.Erfinv, elementwise.Pow,
                         elementwise.PowScalar, activation.Log1pExp, activation.NormalizedExp,
                         activation.LogNormalizedExp, reduce.Sum, reduce.Cumsum, reduce.Cumprod, reduce.Prod,
                         reduce.LogSumExp, reduce.Norm, loss.SoftmaxCrossEntropy, resample.Interpolate), FP32),
        **dict.fromkeys((shape.Cat, elementwise.Atan2, index.ScatterAdd), PROMOTE),
        loss.BinaryCrossEntropy: BANNED,
    },
}
_BANNED_MESSAGE = (
    "fukaku.nn.functional.binary_cross_entropy and fukaku.nn.BCELoss are unsafe to autocast (as in PyTorch): "
    "many models use a sigmoid right before the loss, and the float16 probabilities saturate. In an autocast "
    "region use fukaku.nn.functional.binary_cross_entropy_with_logits or fukaku.nn.BCEWithLogitsLoss, which "
    "combine the sigmoid and the loss and are safe to autocast")


def policy_of(node: type[Function], device_type: str = "cpu", **params) -> str | None:
    """The autocast policy of a graph node on ``device_type``: ``"lower_precision_fp"``, ``"fp32"``,
    ``"promote"``, ``"banned"``, or None (the node runs in its inputs' dtypes).

    Example::

        >>> from fukaku.ops.linear import Affine
        >>> policy_of(Affine, "cpu")
        'lower_precision_fp'
    """
    rule = _POLICIES[_checked_device_type(device_type, "policy_of")].get(node)
    return rule(params) if callable(rule) else rule


# -------------------------------------------------------------------------------------------- state
_DEFAULT_DTYPES = {"cpu": dtypes.bfloat16, "cuda": dtypes.float16}


class _State(threading.local):
    """Per-thread autocast state, as PyTorch's (its class attributes are each new thread's starting values)."""

    dispatching = False  # True while a node is being autocast: its own casts and apply pass straight through
    cache_enabled = True
    nesting = 0

    def __init__(self) -> None:
        self.enabled = dict.fromkeys(DEVICE_TYPES, False)
        self.dtype = dict(_DEFAULT_DTYPES)
        self.cache: dict[tuple[int, Any, Any], tuple[Tensor, int, Any]] = {}  # -> (tensor, version, rounded array)


_state = _State()
_active_threads: set[int] = set()  # threads with an enabled region: the hook is installed while any exists
_active_lock = threading.Lock()


def _checked_device_type(device_type, op: str) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"{op}: expected device_type of type str ('cpu' or 'cuda'), got {type(device_type).__name__}")
    if device_type not in DEVICE_TYPES:
        raise RuntimeError(f"{op}: unsupported autocast device_type {device_type!r}; fukaku autocasts 'cpu' and "
                           "'cuda' tensors")
    return device_type


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast supports ``device_type`` (``'cpu'`` and ``'cuda'``), as ``torch.amp.is_autocast_available``."""
    return device_type in DEVICE_TYPES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an enabled autocast region for ``device_type`` is open in this thread (PyTorch's deprecated
    no-argument form asks about CUDA)."""
    return _state.enabled[_checked_device_type("cuda" if device_type is None else device_type, "is_autocast_enabled")]


def set_autocast_enabled(device_type: str, enabled: bool) -> None:
    """Switch autocast for ``device_type`` on or off in this thread (what :class:`autocast` does on entry)."""
    _state.enabled[_checked_device_type(device_type, "set_autocast_enabled")] = bool(enabled)
    ident = threading.get_ident()
    with _active_lock:
        if any(_state.enabled.values()):
            _active_threads.add(ident)
        else:
            _active_threads.discard(ident)
        Function._autocast = _autocast_apply if _active_threads else None


def get_autocast_dtype(device_type: str) -> dtypes.dtype:
    """The dtype lower-precision ops run in on ``device_type`` (default: bfloat16 on ``'cpu'``, float16 on ``'cuda'``)."""
    return _state.dtype[_checked_device_type(device_type, "get_autocast_dtype")]


def set_autocast_dtype(device_type: str, dtype) -> None:
    """Set the dtype lower-precision ops run in on ``device_type`` in this thread."""
    _state.dtype[_checked_device_type(device_type, "set_autocast_dtype")] = dtypes.as_dtype(dtype, "set_autocast_dtype")


def is_autocast_cache_enabled() -> bool:
    """Whether casts of parameters are cached within the outermost autocast region."""
    return _state.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _state.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    """Forget the cached casts of parameters (done when the outermost region exits)."""
    _state.cache.clear()


def autocast_increment_nesting() -> int:
    _state.nesting += 1
    return _state.nesting


def autocast_decrement_nesting() -> int:
    _state.nesting -= 1
    return _state.nesting


# -------------------------------------------------------------------------------------------- the region
class autocast:
    """A region where the ops of ``device_type`` tensors run in mixed precision, as ``torch.autocast``:
    a context manager and a decorator. See the module's docstring for what is cast.

    Args:
        device_type: ``'cpu'`` or ``'cuda'``: only tensors of that device type are cast.
        dtype: the lower-precision dtype (default: bfloat16 for ``'cpu'``, float16 for ``'cuda'``). On the
            CPU, bfloat16 and float16 are supported; another dtype warns and disables the region, as PyTorch.
        enabled: False makes a region where autocast is off (inside an enabled one, for an op that must
            run in float32).
        cache_enabled: cache the casts of parameters within the region (default: the current setting, True).

    Regions nest; state is per thread. Run backward outside the region: the backward ops of an op
    then run in the dtype autocast chose for it (PyTorch's recommendation too).

    Example::

        >>> model, opt = fukaku.nn.Linear(8, 2), fukaku.optim.SGD(model.parameters(), lr=0.1)
        >>> with fukaku.autocast("cpu"):                      # bfloat16
        ...     out = model(fukaku.randn(4, 8))
        >>> out.dtype
        fukaku.bfloat16
        >>> out.float().sum().backward(); model.weight.grad.dtype   # float32 master weights
        fukaku.float32
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled: bool | None = None) -> None:
        self.device = _checked_device_type(device_type, "autocast")
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtypes.as_dtype(dtype, "autocast")
        self._cache_enabled = is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        enabled = bool(enabled)
        if enabled and self.device == "cuda" and not _cuda_available():
            warnings.warn("autocast: device_type 'cuda' was asked for, but CUDA is not available (fukaku.cuda."
                          "is_available() is False); disabling autocast", stacklevel=2)
            enabled = False
        if enabled and self.device == "cpu" and self.fast_dtype not in (dtypes.bfloat16, dtypes.float16):
            warnings.warn(f"autocast: CPU autocast supports fukaku.bfloat16 and fukaku.float16, not {self.fast_dtype}; "
                          "disabling autocast", stacklevel=2)
            enabled = False
        self._enabled = enabled

    def __enter__(self) -> None:
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_enabled(self.device, self._enabled)
        set_autocast_dtype(self.device, self.fast_dtype)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)

    def __exit__(self, *exc) -> bool:
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def decorated(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled, self._cache_enabled):
                return func(*args, **kwargs)

        return decorated

    def __repr__(self) -> str:
        return f"autocast(device_type={self.device!r}, dtype={self.fast_dtype}, enabled={self._enabled})"


def _cuda_available() -> bool:
    from .. import cuda  # deferred: fukaku.cuda probes the GPU library

    return cuda.is_available()


# -------------------------------------------------------------------------------------------- the hook
def _device_type(t: Tensor) -> str:
    return "cpu" if type(t._data) is np.ndarray else t.device.type


def autocasts(t) -> bool:
    """Whether an enabled autocast region of ``t``'s device type is open in this thread, so that an op's
    casts may still change ``t``'s dtype: functions that check their inputs' dtypes before the graph node
    (``linear``: input and weight alike) let a mismatch through then, as PyTorch does."""
    return isinstance(t, Tensor) and Function._autocast is not None and _state.enabled.get(_device_type(t), False)


def _eligible(t, device_type: str) -> bool:
    """Whether autocast may cast ``t``: a floating tensor of the region's device type, not float64."""
    return isinstance(t, Tensor) and t.dtype.is_floating_point and t.dtype is not dtypes.float64 \
        and _device_type(t) == device_type


class CachedCast(Function):
    """A parameter's cast whose array the autocast cache already holds: ``forward`` returns ``rounded``
    (``x`` rounded to ``target`` and held in the array's own dtype, the one the node computes in); the
    gradient goes back through the same two casts, to ``target`` and then to ``x``'s dtype, as the
    uncached chain of :class:`fukaku.ops.elementwise.Cast` nodes sends it. A fresh node per use, so the
    graph of one backward never frees another's."""

    def __init__(self, rounded, target: np.dtype) -> None:
        self.rounded, self.target = rounded, target

    def forward(self, x: Tensor):
        self.in_dtype = x._data.dtype
        return self.rounded

    def _through_target(self, g: Tensor, last: np.dtype) -> Tensor:
        if g._data.dtype != self.target:
            g = elementwise.Cast.apply(g, dtype=self.target)
        return g if g._data.dtype == last else elementwise.Cast.apply(g, dtype=last)

    def vjp(self, grad: Tensor) -> Tensor:
        return self._through_target(grad, self.in_dtype)

    def jvp(self, dx: Tensor) -> Tensor:
        return self._through_target(dx, self.rounded.dtype)


def _cast(t: Tensor, target: dtypes.dtype, compute: dtypes.dtype, cacheable: bool) -> Tensor:
    """``t`` rounded to ``target`` and held in ``compute`` (the dtype the node computes in), as graph nodes.
    A parameter's rounded array is cached; each use still gets a node of its own (:class:`CachedCast`)."""
    if not cacheable:
        out = t if t.dtype is target else elementwise.Cast.apply(t, dtype=target.dtype)
        return out if compute is target else elementwise.Cast.apply(out, dtype=compute.dtype)
    key = (id(t), target, compute)
    hit = _state.cache.get(key)
    if hit is not None and hit[0] is t and hit[1] == t._version.value:
        rounded = hit[2]
    else:
        rounded = t._data.astype(target.dtype).astype(compute.dtype, copy=False)
        _state.cache[key] = (t, t._version.value, rounded)
    return CachedCast.apply(t, rounded=rounded, target=target.dtype)


def _computes_natively(device_type: str) -> bool:
    """Whether the array library computes in half precision itself (CuPy) rather than through float32 (NumPy)."""
    return device_type != "cpu"


def _autocast_apply(cls: type[Function], inputs: tuple, params: dict) -> Tensor | None:
    """The hook :meth:`Function.apply` calls while any thread has an enabled region: runs node ``cls`` under
    its policy and returns its output, or returns None to let ``apply`` run the node as it is."""
    local = _state
    if local.dispatching:
        return None
    first = next((t for t in inputs if isinstance(t, Tensor)), None)
    if first is None:
        return None
    device_type = _device_type(first)
    if not local.enabled.get(device_type, False):
        return None
    rule = _POLICIES[device_type].get(cls)
    policy = rule(params) if callable(rule) else rule
    if policy is None:
        return None
    if policy == BANNED:
        raise RuntimeError(_BANNED_MESSAGE)
    eligible = [_eligible(t, device_type) for t in inputs]
    if not any(eligible):
        return None
    low = local.dtype[device_type]
    if policy == LOWER:
        target = low
    elif policy == FP32:
        target = dtypes.float32
    else:  # promote: float32 wins over the lower-precision dtype
        target = low
        for t, ok in zip(inputs, eligible, strict=True):
            if ok and t.dtype is not low:
                target = dtypes.promote_types(target, t.dtype)
    emulate = policy == LOWER and not _computes_natively(device_type)
    compute = dtypes.float32 if emulate else target
    cache = local.cache_enabled and policy == LOWER
    local.dispatching = True
    try:
        cast = tuple(_cast(t, target, compute, cache and t.is_leaf and t.requires_grad and t.dtype is dtypes.float32)
                     if ok else t for t, ok in zip(inputs, eligible, strict=True))
        out = cls.apply(*cast, **params)
        if emulate and out.dtype is dtypes.float32:
            out = elementwise.Cast.apply(out, dtype=target.dtype)
    finally:
        local.dispatching = False
    return out
