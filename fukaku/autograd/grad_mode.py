"""Switches that decide whether ops record the graph: no_grad, enable_grad, set_grad_enabled.

The state is one module-level object read on every op, so checking it costs an attribute load. It is
per thread, as PyTorch's grad mode is: ``no_grad`` in one thread (a server computing a snapshot) does not
switch off recording in another (a session training). Anomaly detection and forward-mode levels are per
thread here too, where PyTorch keeps them process-wide.
"""
from __future__ import annotations

import functools
import threading


class _State(threading.local):   # the class attributes are each new thread's starting values
    grad_enabled: bool = True      # record the reverse-mode graph
    anomaly: bool = False          # check every op's outputs and gradients for NaN/Inf
    forward_level: int = 0         # > 0 inside a forward-mode (dual) level
    forward_suspended: bool = False  # True while a jvp rule runs (tangents of tangents are not kept)


state = _State()


def is_grad_enabled() -> bool:
    return state.grad_enabled


class _GradMode:
    """Context manager and decorator that sets grad mode to ``self.mode`` and restores it on exit."""

    mode: bool

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __exit__(self, *exc) -> None:
        state.grad_enabled = self.prev

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            prev = state.grad_enabled
            state.grad_enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                state.grad_enabled = prev

        return wrapped


class no_grad(_GradMode):
    """``with fukaku.no_grad():`` — nothing inside is recorded for backward (e.g. optimizer steps)."""

    mode = False


class enable_grad(_GradMode):
    """``with fukaku.enable_grad():`` — record the graph again inside a ``no_grad`` block."""

    mode = True


class set_grad_enabled(_GradMode):
    """Turn graph recording on or off; as a context manager (or decorator) the previous mode returns
    on exit. Like torch, calling it as a plain function takes effect at once."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = state.grad_enabled
        state.grad_enabled = self.mode

    def __enter__(self) -> None:
        return None

    def __call__(self, fn):
        state.grad_enabled = self.prev  # used as a decorator: don't leave the mode switched
        return super().__call__(fn)
