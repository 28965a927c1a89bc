"""``fukaku.jit``: define-then-run — trace a step once, replay it (PyTorch's name: ``torch.jit``).

Seed 000 §6.1.2 contrasts define-by-run frameworks (PyTorch, Chainer: the graph is built while the
step runs, anew on every call) with define-then-run ones (static graphs, fixed before the data
flows). :func:`trace` turns a fukaku function into the second kind where that is exact: a function
of tensors (a model, a loss) becomes a static forward program replayed on every later call
(:mod:`fukaku.jit.forward`), and a step that calls ``backward()`` has its backward pass recorded as a
static program of array operations (:mod:`fukaku.jit.tracing` says what is recorded and what runs again;
:mod:`fukaku.jit.program` how a backward pass becomes a list).
"""
from .forward import ForwardProgram
from .program import BackwardProgram, TracingError
from .tracing import TracedStep, trace

__all__ = ["trace", "TracedStep", "TracingError", "BackwardProgram", "ForwardProgram"]
