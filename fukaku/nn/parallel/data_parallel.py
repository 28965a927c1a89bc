"""``DataParallel`` and ``data_parallel``, under PyTorch's file name (torch/nn/parallel/data_parallel.py).

PyTorch splits each batch across GPUs, runs a replica of the module on each and gathers the results.
fukaku computes on the CPU only, which is PyTorch's case of a machine without an accelerator: there
``torch.nn.DataParallel`` keeps the module, sets ``device_ids = []`` and its ``forward`` calls the
module itself. fukaku's does the same, so a training script written for several GPUs runs unchanged
and its checkpoints keep PyTorch's ``module.``-prefixed state-dict keys.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Wrap ``module`` for data-parallel training; on fukaku's CPU it runs ``module`` itself.

    Args:
        module: the module to run.
        device_ids: GPUs to split the batch across; accepted and ignored, as PyTorch ignores them
            on a machine without an accelerator (``self.device_ids`` is ``[]``).
        output_device: where results would be gathered; accepted and ignored likewise.
        dim: the batch dimension the input would be split along.

    ``forward(*inputs, **kwargs)`` returns ``module(*inputs, **kwargs)``. The wrapped module is the
    submodule ``module``, so ``state_dict()`` keys are ``module.<name>`` as in PyTorch, and
    ``model.module.state_dict()`` gives the unprefixed keys.

    Example::

        >>> model = fk.nn.DataParallel(fk.nn.Linear(4, 2))
        >>> model(fk.randn(8, 4)).shape
        fukaku.Size([8, 2])
        >>> list(model.state_dict())
        ['module.weight', 'module.bias']
    """

    def __init__(self, module: Module, device_ids: Sequence[int] | None = None, output_device: int | None = None,
                 dim: int = 0) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a fukaku.nn.Module, got {type(module).__name__}")
        self.module = module
        self.device_ids: list[int] = []  # no accelerator: PyTorch's DataParallel records none either
        self.output_device = None
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[int] | None = None,
                  output_device: int | None = None, dim: int = 0, module_kwargs: dict | None = None) -> Any:
    """``module(*inputs, **module_kwargs)``: the functional form of :class:`DataParallel`.

    Args:
        module: the module to evaluate.
        inputs: one input, or a tuple of the module's positional inputs (None for none).
        device_ids, output_device, dim: accepted for PyTorch compatibility; without GPUs the module
            runs once on the whole batch.
        module_kwargs: keyword arguments of the module.

    PyTorch's ``data_parallel`` raises ``RuntimeError("device type could not be determined")`` on a
    machine without an accelerator instead; fukaku runs the module, which is what its result means.
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,) if inputs is not None else ()
    return module(*inputs, **(module_kwargs or {}))
