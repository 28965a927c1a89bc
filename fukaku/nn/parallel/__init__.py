"""``torch.nn.parallel`` on a machine without GPUs: :class:`DataParallel` and :func:`data_parallel`
run the module on the CPU, as PyTorch's ``DataParallel`` does where it finds no accelerator.

:class:`DistributedDataParallel` trains one replica per process of ``mpirun -n N`` (over MPI, through
:mod:`fukaku.distributed`), averaging the gradients with bucketed all-reduces that overlap the backward pass.
"""
from .data_parallel import DataParallel, data_parallel
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
