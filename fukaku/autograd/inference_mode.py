"""``inference_mode``: PyTorch's switch for code that will never be differentiated.

In PyTorch it is ``no_grad`` plus bookkeeping savings (no version counters, no view tracking) and
a rule that its tensors may not enter a later backward. fukaku's ops cost the same either way, so
here it is ``no_grad`` under PyTorch's name and signature: ``inference_mode(mode=True)`` as a
context manager or a decorator (with or without parentheses); ``mode=False`` records the graph.
"""
from __future__ import annotations

import functools

from .grad_mode import state

__all__ = ["inference_mode", "is_inference_mode_enabled"]

_depth = [0]  # how many enabled inference_mode blocks are running


class inference_mode:
    """``with fukaku.inference_mode():`` — nothing inside is recorded for backward, as in ``no_grad``.

    Args:
        mode: True turns inference mode (and so graph recording) off inside the block; False turns
            graph recording on, as PyTorch's ``inference_mode(False)`` does.

    Example::

        >>> @fukaku.inference_mode
        ... def predict(model, x):
        ...     return model(x)
    """

    def __new__(cls, mode=True):
        if callable(mode):  # used as @inference_mode without parentheses
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self.mode = bool(mode)

    def __enter__(self) -> None:
        self.prev = state.grad_enabled
        state.grad_enabled = not self.mode  # as PyTorch: inference_mode(False) turns grad mode on
        if self.mode:
            _depth[0] += 1

    def __exit__(self, *exc) -> None:
        if self.mode:
            _depth[0] -= 1
        state.grad_enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with inference_mode(self.mode):
                return fn(*args, **kwargs)

        return wrapped

    def clone(self) -> inference_mode:
        return inference_mode(self.mode)


def is_inference_mode_enabled() -> bool:
    """True inside an enabled :class:`inference_mode` block."""
    return _depth[0] > 0
