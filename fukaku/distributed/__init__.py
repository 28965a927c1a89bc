"""``torch.distributed`` over MPI: a process group and its collectives, for data-parallel training.

``mpirun -n 2 python train.py`` starts two processes; each calls :func:`init_process_group` and learns its
rank and the world size from MPI. The collectives (:func:`all_reduce`, :func:`broadcast`,
:func:`all_gather`, :func:`reduce`, :func:`gather`, :func:`barrier`) hand the tensors' NumPy arrays to
MPI through mpi4py without copying them. :class:`fukaku.nn.parallel.DistributedDataParallel` and
:class:`fukaku.utils.data.distributed.DistributedSampler` build on them. mpi4py is imported on first use;
without it a collective raises ``ImportError`` saying what to install. See docs/distributed.md.
"""
from .distributed_c10d import (Backend, GroupMember, ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce,
                               barrier, broadcast, destroy_process_group, gather, get_backend, get_rank,
                               get_world_size, group, init_process_group, is_available, is_gloo_available,
                               is_initialized, is_mpi_available, is_nccl_available, is_torchelastic_launched,
                               new_group, reduce)

__all__ = ["Backend", "ReduceOp", "Work", "is_available", "is_mpi_available", "is_gloo_available",
           "is_nccl_available", "is_torchelastic_launched", "init_process_group", "is_initialized",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast",
           "all_gather", "all_gather_into_tensor", "reduce", "gather", "new_group", "GroupMember", "group"]
