"""``GradScaler``: dynamic loss scaling for float16 training, PyTorch's ``torch.amp.GradScaler``.

float16 gradients below 2⁻²⁴ flush to zero. Multiplying the loss by a large scale S before backward
lifts them into range; the optimizer must then see the gradients divided by S again (``unscale_``), and
must not step at all when the scaled backward overflowed. The scale adapts: each step with an inf or NaN
gradient is skipped and multiplies S by ``backoff_factor``; ``growth_interval`` steps in a row without
one multiply it by ``growth_factor``. The recipe::

    scaler = fukaku.amp.GradScaler("cuda")
    for x, y in loader:
        optimizer.zero_grad()
        with fukaku.autocast("cuda"):
            loss = loss_fn(model(x), y)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)                        # optional: clip the true gradients
        fukaku.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)                            # skipped if a gradient is inf/NaN
        scaler.update()

The scale and the growth tracker are kept on the host (a Python float in float32 arithmetic and an
int), so the state is the same on every device. The check for inf/NaN is computed on each gradient's
device and read back to the host once per device, not once per gradient (each read waits for the GPU).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable
from enum import Enum
from typing import Any

import numpy as np

from .. import dtypes
from ..backends import array_module
from ..tensor import Tensor, bump_version

__all__ = ["GradScaler", "OptState"]


class OptState(Enum):
    """Where an optimizer is between two ``update()`` calls."""

    READY = 0
    UNSCALED = 1
    STEPPED = 2


def _fresh_state() -> dict[str, Any]:
    return {"stage": OptState.READY, "found_inf": None}


class GradScaler:
    """Scales the loss and unscales the gradients, skipping steps whose gradients overflowed.

    Args:
        device: ``'cuda'`` (PyTorch's default) or ``'cpu'``: the device type of the losses it scales. A
            ``'cuda'`` scaler without CUDA warns and disables itself, as PyTorch's.
        init_scale: the first scale.
        growth_factor: the scale's factor after ``growth_interval`` steps without inf/NaN gradients (> 1).
        backoff_factor: the scale's factor after a step with inf/NaN gradients (< 1).
        growth_interval: consecutive good steps before the scale grows.
        enabled: False makes every method a pass-through (``scale`` returns its input, ``step`` steps).

    Example::

        >>> scaler = GradScaler("cpu", init_scale=1024.0)
        >>> scaler.get_scale()
        1024.0
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True) -> None:
        if device not in ("cpu", "cuda"):
            raise ValueError(f"GradScaler: device must be 'cpu' or 'cuda', got {device!r}")
        self._device = device
        self._enabled = bool(enabled)
        if self._enabled and device == "cuda":
            from .. import cuda  # deferred: fukaku.cuda probes the GPU library

            if not cuda.is_available():
                warnings.warn("GradScaler: device 'cuda' was asked for, but CUDA is not available; disabling the "
                              "scaler (pass device='cpu' for CPU training)", stacklevel=2)
                self._enabled = False
        if growth_factor <= 1.0:
            raise ValueError(f"GradScaler: growth_factor must be > 1.0, got {growth_factor}")
        if backoff_factor >= 1.0:
            raise ValueError(f"GradScaler: backoff_factor must be < 1.0, got {backoff_factor}")
        self._scale = float(np.float32(init_scale))
        self._growth_factor = float(growth_factor)
        self._backoff_factor = float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._scaled = False  # whether scale() was called yet: unscale_, step and update need it, as PyTorch's
        self._per_optimizer_states: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------------------------------ scaling
    def scale(self, outputs):
        """``outputs`` (a tensor, or a list/tuple/iterable of tensors) multiplied by the scale, for
        ``backward``; unchanged when the scaler is disabled."""
        if not self._enabled:
            return outputs
        self._scaled = True
        if isinstance(outputs, Tensor):
            return outputs * outputs.new_full((), self._scale, dtype=dtypes.float32)
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        if isinstance(outputs, Iterable):
            return map(self.scale, outputs)
        raise ValueError(f"GradScaler.scale: outputs must be a Tensor or an iterable of Tensors, got "
                         f"{type(outputs).__name__}")

    def _check_scaled(self, method: str) -> None:
        if not self._scaled:
            raise RuntimeError(f"GradScaler.{method}: called before scale(); the loss of this iteration must be "
                               "scaled first: scaler.scale(loss).backward()")

    def _state_of(self, optimizer) -> dict[str, Any]:
        return self._per_optimizer_states.setdefault(id(optimizer), _fresh_state())

    def unscale_(self, optimizer) -> None:
        """Divide ``optimizer``'s gradients by the scale, in place, and note whether any is inf/NaN.

        A float16 gradient raises ValueError before any gradient is divided, so the call can be retried.

        Call it at most once per optimizer between ``update()`` calls, before ``step`` (which calls it
        itself otherwise): after it, gradient clipping sees the true gradients.
        """
        if not self._enabled:
            return
        self._check_scaled("unscale_")
        state = self._state_of(optimizer)
        if state["stage"] is OptState.UNSCALED:
            raise RuntimeError("GradScaler.unscale_: already called on this optimizer since the last update()")
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("GradScaler.unscale_: called after step(); call it before step(), once per update()")
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if any(g.dtype is dtypes.float16 for g in grads):  # checked before any gradient changes, as PyTorch
            raise ValueError("GradScaler.unscale_: attempting to unscale float16 gradients; keep the "
                             "parameters in float32 (master weights) and let autocast cast them")
        inv_scale = np.float32(1.0 / np.float64(self._scale))  # PyTorch: the double reciprocal, then float32
        finite_by_device: dict[Any, list] = {}  # per device, one flag array per gradient: read back once below
        for g in grads:
            data = g._data
            finite_by_device.setdefault(g.device, []).append(array_module(data).isfinite(data).all())
            data *= inv_scale.astype(data.dtype)
            bump_version(g)
        found_inf = not all(bool(array_module(flags[0]).stack(flags).all()) for flags in finite_by_device.values())
        state["found_inf"] = found_inf
        state["stage"] = OptState.UNSCALED

    def step(self, optimizer, *args, **kwargs):
        """``optimizer.step(*args, **kwargs)`` on the unscaled gradients, unless one of them is inf/NaN:
        then nothing changes and it returns None. Unscales first unless ``unscale_`` was called."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if "closure" in kwargs:
            raise RuntimeError("GradScaler.step: a closure is not supported while the scaler is enabled")
        self._check_scaled("step")
        state = self._state_of(optimizer)
        if state["stage"] is OptState.STEPPED:
            raise RuntimeError("GradScaler.step: step() was already called since the last update()")
        if state["stage"] is OptState.READY:
            self.unscale_(optimizer)
        result = None if state["found_inf"] else optimizer.step(*args, **kwargs)
        state["stage"] = OptState.STEPPED
        return result

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Adapt the scale after this iteration's steps (or set it to ``new_scale``), and get every
        optimizer ready for the next iteration."""
        if not self._enabled:
            return
        self._check_scaled("update")
        if new_scale is not None:
            if isinstance(new_scale, Tensor):
                if new_scale.numel() != 1 or new_scale.requires_grad:
                    raise ValueError("GradScaler.update: new_scale must be a float or a 1-element tensor that does "
                                     "not require grad")
                new_scale = new_scale.item()
            self._scale = float(np.float32(new_scale))
        else:
            found = [s["found_inf"] for s in self._per_optimizer_states.values() if s["found_inf"] is not None]
            if not found:
                raise RuntimeError("GradScaler.update: no inf checks were recorded before update(); call "
                                   "step(optimizer) (or unscale_(optimizer)) first")
            self._update_scale(any(found))
        self._per_optimizer_states = {}

    def _update_scale(self, found_inf: bool) -> None:
        """PyTorch's ``_amp_update_scale_``, in float32 arithmetic."""
        scale = np.float32(self._scale)
        if found_inf:
            self._scale = float(scale * np.float32(self._backoff_factor))
            self._growth_tracker = 0
            return
        successful = self._growth_tracker + 1
        if successful == self._growth_interval:
            grown = scale * np.float32(self._growth_factor)
            if np.isfinite(grown):
                self._scale = float(grown)
            successful = 0
        self._growth_tracker = successful

    # ------------------------------------------------------------------------------------------ accessors
    def get_scale(self) -> float:
        """The current scale (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def set_growth_factor(self, new_factor: float) -> None:
        self._growth_factor = float(new_factor)

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def set_backoff_factor(self, new_factor: float) -> None:
        self._backoff_factor = float(new_factor)

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def set_growth_interval(self, new_interval: int) -> None:
        self._growth_interval = int(new_interval)

    def is_enabled(self) -> bool:
        return self._enabled

    def _get_growth_tracker(self) -> int:
        return self._growth_tracker if self._enabled else 0

    # ------------------------------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """PyTorch's keys: ``scale``, ``growth_factor``, ``backoff_factor``, ``growth_interval``,
        ``_growth_tracker`` (empty when disabled), so a checkpoint moves between the two libraries."""
        if not self._enabled:
            return {}
        return {"scale": self.get_scale(), "growth_factor": self._growth_factor, "backoff_factor": self._backoff_factor,
                "growth_interval": self._growth_interval, "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if not self._enabled:
            return
        if len(state_dict) == 0:
            raise RuntimeError("GradScaler.load_state_dict: the state dict is empty, possibly because it was saved "
                               "from a disabled GradScaler")
        missing = {"scale", "growth_factor", "backoff_factor", "growth_interval", "_growth_tracker"} - set(state_dict)
        if missing:
            raise KeyError(f"GradScaler.load_state_dict: missing keys {sorted(missing)}")
        self._scale = float(np.float32(_number(state_dict["scale"])))
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(_number(state_dict["_growth_tracker"]))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._enabled and self._per_optimizer_states:
            raise RuntimeError("GradScaler: pickling in the middle of an iteration (between step and update) is "
                               "not supported; pickle it after update()")
        return state


def _number(value) -> float:
    """A float from a number or a one-element tensor (PyTorch saves some of these as tensors)."""
    return value.item() if hasattr(value, "item") else float(value)
