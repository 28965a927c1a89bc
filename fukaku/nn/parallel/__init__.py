"""``torch.nn.parallel`` on a machine without GPUs: :class:`DataParallel` and :func:`data_parallel`
run the module on the CPU, as PyTorch's ``DataParallel`` does where it finds no accelerator.

``DistributedDataParallel`` is not here: distributed training is a separate piece of work.
"""
from .data_parallel import DataParallel, data_parallel

__all__ = ["DataParallel", "data_parallel"]
