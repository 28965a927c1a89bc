"""``fukaku.jit``: define-then-run — trace a step once, replay it (PyTorch's name: ``torch.jit``).

Seed 000 §6.1.2 contrasts define-by-run frameworks (PyTorch, Chainer: the graph is built while the
step runs, anew on every call) with define-then-run ones (static graphs, fixed before the data
flows). :func:`trace` turns a fukaku step into the second kind where that is exact: it records the
step's backward pass as a static program of array operations and replays it on every later call
(:mod:`fukaku.jit.tracing` says what is recorded and what runs again; :mod:`fukaku.jit.program`
how a backward pass becomes a list).
"""
from .program import BackwardProgram, TracingError
from .tracing import TracedStep, trace

__all__ = ["trace", "TracedStep", "TracingError", "BackwardProgram"]
