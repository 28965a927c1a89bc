"""``DistributedDataParallel``, under PyTorch's file name (torch/nn/parallel/distributed.py).

Every rank (a process of ``mpirun -n N``) holds a replica of the model and trains it on its own share of
each batch (:class:`fukaku.utils.data.distributed.DistributedSampler`). After ``loss.backward()`` every
replica holds the gradient averaged over the ranks, so one optimizer step keeps the replicas equal, and
the training is that of one process on the global batch.

How the averaging overlaps the backward pass, as PyTorch's reducer does:

1. at wrap, the parameters are put into buckets of about ``bucket_cap_mb`` MB (the first one 1 MB), in
   reverse order of ``module.parameters()`` — roughly the order in which backward produces them;
2. each parameter has a post-accumulate-grad hook: when the last gradient of a bucket has been
   accumulated, the bucket's gradients are copied into one flat array, divided by the world size, and its
   all-reduce is handed to the process group's communication thread (``all_reduce(async_op=True)``), which
   runs it while backward goes on to the layers below;
3. buckets start strictly in order (bucket k waits for buckets before it), so every rank issues the same
   collectives in the same order;
4. a callback queued at the end of backward waits for the all-reduces and copies the averages back into
   each parameter's ``.grad``.

Inside ``with model.no_sync():`` nothing is reduced; gradients accumulate locally, and the first backward
outside it reduces the accumulated sum (gradient accumulation over micro-batches).
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import accumulate
from typing import Any

import numpy as np

from ... import distributed as dist
from ...autograd.engine import queue_callback
from ...autograd.grad_mode import is_grad_enabled
from ...backends import array_module
from ...tensor import Tensor, bump_version, wrap
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES
_MB = 1024 * 1024


class _Bucket:
    """Parameters whose gradients are all-reduced together, through one flat array."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        sizes = [p._data.size for p in params]
        self.offsets = [0, *accumulate(sizes)]
        self.flat = array_module(params[0]._data).empty(self.offsets[-1], dtype=params[0]._data.dtype)
        self.pending = len(params)
        self.work: dist.Work | None = None

    def reset(self) -> None:
        self.pending, self.work = len(self.params), None


def _assign_buckets(params: list[Tensor], cap_bytes: int, first_cap_bytes: int) -> list[list[Tensor]]:
    """PyTorch's bucket assignment: reverse parameter order, one dtype per bucket, the first bucket capped at
    ``first_cap_bytes`` and the others at ``cap_bytes``; a bucket closes once it reaches its cap.

    (PyTorch 2.13 starts with one bucket and rebuilds them this way from the order in which the first
    iteration's gradients arrived; fukaku assigns them once, from the parameters' reverse order.)"""
    buckets: list[list[Tensor]] = []
    open_: dict[np.dtype, tuple[list[Tensor], int]] = {}
    for p in reversed(params):
        members, size = open_.get(p._data.dtype, ([], 0))
        members.append(p)
        size += p._data.nbytes
        if size >= (cap_bytes if buckets else first_cap_bytes):
            buckets.append(members)
            open_.pop(p._data.dtype, None)
        else:
            open_[p._data.dtype] = (members, size)
    buckets += [members for members, _ in open_.values()]
    return buckets


class DistributedDataParallel(Module):
    """Data-parallel training over the processes of ``mpirun`` (``torch.nn.parallel.DistributedDataParallel``).

    Args:
        module: the model; every rank builds it the same way (rank 0's values are broadcast at wrap).
        device_ids, output_device, dim: accepted for PyTorch compatibility (fukaku computes on the CPU).
        broadcast_buffers: copy rank 0's buffers (BatchNorm's running statistics) to every rank before each
            forward, as PyTorch.
        init_sync: broadcast rank 0's parameters and buffers at wrap (default True).
        process_group: the group (None or ``fukaku.distributed.group.WORLD``).
        bucket_cap_mb: bucket size in MiB (default 25, as PyTorch; by default the first bucket is 1 MiB, so
            the first all-reduce starts early).
        find_unused_parameters: let parameters receive no gradient in a pass: they are reduced as zeros at
            the end of backward. Without it a parameter left out raises ``RuntimeError`` at the end of backward.
        gradient_as_bucket_view, static_graph, check_reduction: accepted; they change nothing here.

    ``model.module`` is the wrapped model; ``state_dict()`` keys are ``module.<name>``, as in PyTorch (save
    ``model.module.state_dict()`` for keys that load into the bare model).

    Example (``mpirun -n 2 python train.py``)::

        >>> dist.init_process_group("mpi")
        >>> model = DistributedDataParallel(fk.nn.Linear(4, 1))
        >>> model(x).pow(2).mean().backward()       # .grad is now the average over both ranks
        >>> with model.no_sync():                    # accumulate without communicating
        ...     model(x).sum().backward()
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, init_sync: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 **kwargs: Any) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel: module must be a fukaku.nn.Module, got {type(module).__name__}")
        self.module = module
        self.process_group = process_group
        self.world_size = dist.get_world_size(process_group)  # raises if init_process_group has not run
        self.device_ids, self.output_device, self.dim = None, None, dim
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view, self.static_graph = gradient_as_bucket_view, static_graph
        self.require_backward_grad_sync = True
        cap = 25 if bucket_cap_mb is None else bucket_cap_mb
        if not cap > 0:
            raise ValueError(f"DistributedDataParallel: bucket_cap_mb must be positive, got {bucket_cap_mb!r}")
        self.bucket_bytes_cap = int(cap * _MB)
        first_cap = _DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        params = [p for p in module.parameters() if p.requires_grad]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if init_sync:
            self._sync_module_states()
        self._buckets = [_Bucket(members) for members in _assign_buckets(params, self.bucket_bytes_cap, first_cap)]
        self._bucket_of = {id(p): b for b in self._buckets for p in b.params}
        self._next_bucket = 0
        self._syncing = self._queued = False  # whether the backward of the last forward averages gradients
        self._ready = set()
        self._hook_handles = [p.register_post_accumulate_grad_hook(self._grad_ready) for p in params]

    # -- forward ----------------------------------------------------------------------------------
    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        self._syncing = is_grad_enabled() and self.require_backward_grad_sync
        self._reset()
        if self.broadcast_buffers and self.world_size > 1:
            for b in self.module.buffers():
                dist.broadcast(b, src=0, group=self.process_group)
        return self.module(*inputs, **kwargs)

    def _sync_module_states(self) -> None:
        """Rank 0's parameters and buffers on every rank."""
        if self.world_size == 1:
            return
        for t in [*self.module.parameters(), *self.module.buffers()]:
            dist.broadcast(t, src=0, group=self.process_group)

    @contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes of forwards run inside accumulate gradients locally, without communicating."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    # -- the reducer --------------------------------------------------------------------------------
    def _reset(self) -> None:
        for b in self._buckets:
            b.reset()
        self._next_bucket = 0
        self._queued = False
        self._ready: set[int] = set()  # ids of the parameters whose gradient this backward has delivered

    def _grad_ready(self, param: Tensor) -> None:
        """Post-accumulate-grad hook: count the parameter in, start every bucket now complete, in order."""
        if not self._syncing:
            return
        if not self._queued:
            queue_callback(self._finish_reduction)
            self._queued = True
        self._ready.add(id(param))
        self._bucket_of[id(param)].pending -= 1
        self._launch_ready()

    def _launch_ready(self) -> None:
        while self._next_bucket < len(self._buckets) and self._buckets[self._next_bucket].pending == 0:
            self._launch(self._buckets[self._next_bucket])
            self._next_bucket += 1

    def _launch(self, bucket: _Bucket) -> None:
        flat, scale = bucket.flat, 1.0 / self.world_size
        xp = array_module(flat)
        for p, start, end in zip(bucket.params, bucket.offsets, bucket.offsets[1:]):
            if p.grad is None:
                flat[start:end] = 0
            else:  # divided before the sum, as PyTorch: the sum cannot overflow where the average does not
                xp.multiply(p.grad._data.reshape(-1), scale, out=flat[start:end])
        bucket.work = dist.all_reduce(wrap(flat), group=self.process_group, async_op=True)

    def _finish_reduction(self) -> None:
        """End of backward: start what is left (unused parameters), wait, write the averages into ``.grad``."""
        self._syncing = False
        if self._next_bucket < len(self._buckets) and not self.find_unused_parameters:
            for b in self._buckets[:self._next_bucket]:
                b.work.wait()  # what has started finishes, so the group stays in step
            unready = [n for n, p in self.module.named_parameters() if p.requires_grad and id(p) not in self._ready]
            raise RuntimeError(
                f"DistributedDataParallel: parameters received no gradient in this backward pass ({', '.join(unready)}),"
                " so their gradients cannot be averaged. Pass find_unused_parameters=True when the model does not use "
                "every parameter in every pass.")
        for b in self._buckets[self._next_bucket:]:
            b.pending = 0
        self._launch_ready()
        for b in self._buckets:
            b.work.wait()
            for p, start, end in zip(b.params, b.offsets, b.offsets[1:]):
                averaged = b.flat[start:end].reshape(p._data.shape)
                if p.grad is None:
                    p.grad = wrap(averaged.copy())
                else:
                    p.grad._data[...] = averaged
                    bump_version(p.grad)

    def extra_repr(self) -> str:
        return f"world_size={self.world_size}, buckets={len(self._buckets)}"
