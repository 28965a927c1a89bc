"""Switches that decide whether ops record the graph: no_grad, enable_grad, set_grad_enabled.

The state is one module-level object read on every op, so checking it costs an attribute load.
"""
from __future__ import annotations

import functools


class _State:
    grad_enabled: bool = True      # record the reverse-mode graph
    anomaly: bool = False          # check every op's outputs and gradients for NaN/Inf
    forward_level: int = 0         # > 0 inside a forward-mode (dual) level
    forward_suspended: bool = False  # True while a jvp rule runs (tangents of tangents are not kept)


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


class set_grad_enabled:
    """Context manager (and decorator) that turns graph recording on or off.

    ``with fukaku.set_grad_enabled(False): ...`` — ops inside build no graph; their outputs
    have ``requires_grad=False``. The previous mode is restored on exit, even on error.
    """

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode  # like torch, calling it as a function takes effect at once

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        state.grad_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with self.__class__(self.mode):
                return fn(*args, **kwargs)

        state.grad_enabled = self.prev
        return wrapped


class no_grad(set_grad_enabled):
    """``with fukaku.no_grad():`` — nothing inside is recorded for backward (e.g. optimizer steps)."""

    def __init__(self) -> None:
        self.prev = state.grad_enabled

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        state.grad_enabled = False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)

        return wrapped


class enable_grad(set_grad_enabled):
    """``with fukaku.enable_grad():`` — record the graph again inside a ``no_grad`` block."""

    def __init__(self) -> None:
        self.prev = state.grad_enabled

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        state.grad_enabled = True

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with enable_grad():
                return fn(*args, **kwargs)

        return wrapped
