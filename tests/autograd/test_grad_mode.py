"""fukaku.autograd.grad_mode across threads, against PyTorch's (thread-local) grad mode."""
from __future__ import annotations

import threading

import torch

import fukaku as fk


def test_grad_mode_is_per_thread_as_in_pytorch():
    """no_grad held in one thread leaves recording on in another (torch's grad mode is thread-local)."""
    inside, go_on = threading.Event(), threading.Event()

    def hold_no_grad(lib):
        with lib.no_grad():
            inside.set()
            go_on.wait(5)

    for lib, make in ((fk, lambda: fk.ones(2, requires_grad=True)), (torch, lambda: torch.ones(2, requires_grad=True))):
        inside.clear()
        go_on.clear()
        other = threading.Thread(target=hold_no_grad, args=(lib,))
        other.start()
        assert inside.wait(5)
        try:
            assert lib.is_grad_enabled()
            assert (make() * 2).requires_grad, lib.__name__
        finally:
            go_on.set()
            other.join()
    seen = []
    thread = threading.Thread(target=lambda: seen.append(fk.is_grad_enabled()))
    with fk.no_grad():   # a new thread starts with recording on, whatever its parent does
        thread.start()
        thread.join()
    assert seen == [True]
