"""The process group and its collectives, under PyTorch's file name (torch/distributed/distributed_c10d.py).

fukaku has one backend, MPI, through mpi4py: an existing transport (Open MPI, MPICH), never a home-made
one. The processes are the ones ``mpirun -n N`` started; their rank and number come from MPI. A
collective hands the tensor's own NumPy array to MPI (``Allreduce(IN_PLACE, array)``), so nothing is
copied unless the tensor is a non-contiguous view.

As PyTorch's MPI process group does, every collective runs on the group's communication thread, one
after the other in the order the program issued them. ``async_op=False`` waits for it; ``async_op=True``
returns a :class:`Work` at once, so the program computes while MPI communicates. The thread starts MPI's
non-blocking collective (``MPI_Iallreduce`` ...) and tests it every 0.1 ms until it completes (without
pause while the program waits for it): the tests
drive MPI's progress (untested, an Open MPI 4.1 ``MPI_Iallreduce`` of 4–8 MB took 25–30 ms here, against
1–1.5 ms for ``MPI_Allreduce``), and between them the thread sleeps, leaving the CPU and the GIL to the
program (a blocking MPI call would spin on a core while it waits for a slower rank).

PyTorch programs name "gloo" or "nccl"; fukaku accepts both names and runs them over MPI, saying so
once in a :class:`UserWarning`. ``init_method`` (``env://``, ``tcp://host:port``, ``file://``) is
accepted and not used: MPI's launcher has already connected the processes.
"""
from __future__ import annotations

import enum
import importlib.util
import os
import queue
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import numpy as np

from ..tensor import Tensor, bump_version

__all__ = ["Backend", "ReduceOp", "Work", "is_available", "is_mpi_available", "is_gloo_available",
           "is_nccl_available", "is_torchelastic_launched", "init_process_group", "is_initialized",
           "destroy_process_group", "get_backend", "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast",
           "all_gather", "all_gather_into_tensor", "reduce", "gather", "new_group", "GroupMember", "group"]

_INSTALL_HINT = ("fukaku.distributed runs over MPI through mpi4py: install Open MPI "
                 "(Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev) and then pip install mpi4py "
                 "(or pip install 'fukaku[mpi]')")


def _mpi():
    """mpi4py's ``MPI`` module, imported on first use (importing it initialises MPI)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(f"{e}. {_INSTALL_HINT}") from e
    return MPI


class Backend(str):
    """Backend names as PyTorch spells them; every one of them runs over MPI in fukaku."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"
    UNDEFINED = "undefined"

    def __new__(cls, name: str) -> Backend:
        if not isinstance(name, str):
            raise TypeError(f"Backend: name must be a string, got {type(name).__name__}")
        return str.__new__(cls, name.lower())


class ReduceOp(enum.Enum):
    """How ``all_reduce`` and ``reduce`` combine the ranks' tensors (``torch.distributed.ReduceOp``)."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


def _mpi_op(op: ReduceOp):
    if not isinstance(op, ReduceOp):
        raise TypeError(f"reduce op must be a fukaku.distributed.ReduceOp (ReduceOp.SUM ...), got {op!r}")
    MPI = _mpi()
    return {ReduceOp.SUM: MPI.SUM, ReduceOp.AVG: MPI.SUM, ReduceOp.PRODUCT: MPI.PROD, ReduceOp.MIN: MPI.MIN,
            ReduceOp.MAX: MPI.MAX, ReduceOp.BAND: MPI.BAND, ReduceOp.BOR: MPI.BOR, ReduceOp.BXOR: MPI.BXOR}[op]


class _World:
    """The default process group: MPI's COMM_WORLD, duplicated so that fukaku's messages never meet the
    program's own mpi4py traffic, and the thread that runs its collectives in order."""

    def __init__(self, comm, backend: str) -> None:
        self.comm, self.backend = comm, backend
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.waiting = 0  # threads blocked in Work.wait: then the tests need not leave the CPU to anyone
        self._thread = threading.Thread(target=self._serve, name="fukaku.distributed", daemon=True)
        self._thread.start()

    def submit(self, start: Callable[[], Any], finish: Callable[[], None] | None) -> Work:
        """Queue ``start()`` (a non-blocking MPI call, returning its request), then ``finish()`` once the
        request has completed, on the communication thread."""
        work = Work(self)
        self._queue.put((start, finish, work))
        return work

    def _serve(self) -> None:
        while (item := self._queue.get()) is not None:
            start, finish, work = item
            try:
                request = start()
                while not request.Test():  # a test drives MPI's progress; the sleep frees the CPU and the GIL
                    time.sleep(0 if self.waiting else _POLL_SECONDS)
                if finish is not None:
                    finish()
            except BaseException as exc:  # handed to the thread that waits for the work
                work._error = exc
            work._done.set()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self.comm.Free()

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend!r}, rank={self.rank}, size={self.size})"


class GroupMember:
    """``GroupMember.WORLD``: the default group once initialised (None before), as in PyTorch."""

    WORLD: _World | None = None
    NON_GROUP_MEMBER = -100


group = GroupMember  # torch.distributed.group.WORLD
_POLL_SECONDS = 1e-4
_warned_backends: set[str] = set()
_excepthook = None


class Work:
    """A collective in flight, as ``torch.distributed.Work``: what ``async_op=True`` returns. ``wait()``
    blocks until it has finished (the tensor then holds the result), ``is_completed()`` asks without
    blocking."""

    def __init__(self, world: _World) -> None:
        self._world, self._done, self._error = world, threading.Event(), None

    def wait(self, timeout: timedelta | None = None) -> bool:
        self._world.waiting += 1  # the program only waits now: the communication thread tests without pause
        try:
            done = self._done.wait(None if timeout is None else timeout.total_seconds())
        finally:
            self._world.waiting -= 1
        if not done:
            raise RuntimeError(f"Work.wait: the collective did not finish within {timeout}")
        if self._error is not None:
            raise self._error
        return True

    def is_completed(self) -> bool:
        return self._done.is_set()

    def is_success(self) -> bool:
        return self._done.is_set() and self._error is None


# -- availability ------------------------------------------------------------------------------------
def is_available() -> bool:
    """Whether collectives can run here: mpi4py is installed (MPI is initialised only when used)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """Whether the MPI backend is available: as :func:`is_available` (it is fukaku's only transport)."""
    return is_available()


def is_gloo_available() -> bool:
    """False: fukaku has no Gloo; ``init_process_group("gloo")`` runs over MPI instead."""
    return False


def is_nccl_available() -> bool:
    """False: the GPU path (NCCL through CuPy) is not built yet; ``"nccl"`` runs over MPI on the CPU."""
    return False


def is_torchelastic_launched() -> bool:
    """False: processes come from ``mpirun``, not torchrun."""
    return False


# -- the process group ---------------------------------------------------------------------------------
def _world(op: str) -> _World:
    if GroupMember.WORLD is None:
        raise ValueError(f"{op}: Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return GroupMember.WORLD


def _check_group(group_, op: str) -> _World:
    world = _world(op)
    if group_ is not None and group_ is not world:
        raise ValueError(f"{op}: fukaku has only the default process group (group=None or group.WORLD), got {group_!r}")
    return world


def _expected(name: str, argument: int, env: str, actual: int) -> None:
    """Compare a rank or world size the program gave (argument, else its environment variable) with MPI's."""
    given, source = argument, f"{name}={argument}"
    if given in (None, -1):
        raw = os.environ.get(env)
        if raw is None or not raw.strip().lstrip("-").isdigit():
            return
        given, source = int(raw), f"the environment variable {env}={raw}"
    if given != actual:
        raise ValueError(f"init_process_group: {source} but MPI gives {name} {actual}; start the processes with "
                         f"mpirun (mpirun -n <world size> ...) and let MPI number them, or pass {name}=-1")


def init_process_group(backend: str | None = None, init_method: str | None = None, timeout: timedelta | None = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the processes ``mpirun`` started into the default process group (``torch.distributed``'s name).

    Args:
        backend: ``"mpi"`` (default), or ``"gloo"``/``"nccl"``/``"cpu:gloo,cuda:nccl"`` as PyTorch programs
            pass them, which fukaku runs over MPI (warned once).
        init_method: accepted and not used: MPI has connected the processes already.
        timeout: accepted; MPI has no per-collective timeout (a dead rank makes ``mpirun`` end the job).
        world_size, rank: if given (or set as the environment variables ``WORLD_SIZE``/``RANK``), they must
            equal MPI's; a mismatch raises ``ValueError`` naming both.
        store, group_name, pg_options, device_id: accepted for compatibility and not used.

    Once a group exists with more than one process, an uncaught exception in any rank prints its traceback
    and aborts the whole job (``MPI_Abort``), so the other ranks do not wait forever in a collective.

    Example (``mpirun -n 2 python train.py``)::

        >>> import fukaku.distributed as dist
        >>> dist.init_process_group("mpi")
        >>> dist.get_rank(), dist.get_world_size()
        (0, 2)
    """
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend or "mpi")
    parts = {p.split(":")[-1] for p in name.split(",")}
    unknown = parts - {Backend.MPI, Backend.GLOO, Backend.NCCL}
    if unknown:
        raise ValueError(f"init_process_group: unknown backend {backend!r}; use 'mpi' (or 'gloo'/'nccl', which "
                         "fukaku runs over MPI)")
    if parts != {Backend.MPI} and name not in _warned_backends:
        _warned_backends.add(name)
        warnings.warn(f"init_process_group: backend {backend!r} runs over MPI in fukaku (it has no Gloo or NCCL "
                      "of its own)", UserWarning, stacklevel=2)
    MPI = _mpi()
    comm = MPI.COMM_WORLD
    _expected("rank", rank, "RANK", comm.Get_rank())
    _expected("world_size", world_size, "WORLD_SIZE", comm.Get_size())
    GroupMember.WORLD = _World(comm.Dup(), str(name))
    if comm.Get_size() > 1:
        _abort_on_uncaught_exception(comm)


def _abort_on_uncaught_exception(comm) -> None:
    """An uncaught exception in one rank ends every rank (as ``python -m mpi4py`` does)."""
    global _excepthook
    if _excepthook is not None:
        return
    previous = sys.excepthook

    def hook(kind, value, tb):
        previous(kind, value, tb)
        sys.stderr.write(f"fukaku.distributed: rank {comm.Get_rank()} failed; aborting all "
                         f"{comm.Get_size()} processes\n")
        sys.stderr.flush()
        comm.Abort(1)

    _excepthook = sys.excepthook = hook


# (rank, world size, local rank) variables of MPI launchers: Open MPI, then MPICH / Intel MPI (Hydra)
_LAUNCHER_VARIABLES = (("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
                       ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"))


def mpi_launch() -> tuple[int, int, int] | None:
    """fukaku's own (used by ``fukaku train`` and ``fukaku run``): (rank, world size, local rank) as ``mpirun`` set them in this process's environment; None when the
    process was not started by an MPI launcher. Reads the environment only: MPI is not initialised."""
    for rank, size, local in _LAUNCHER_VARIABLES:
        if os.environ.get(rank, "").isdigit() and os.environ.get(size, "").isdigit():
            local_rank = os.environ.get(local, "")
            return (int(os.environ[rank]), int(os.environ[size]),
                    int(local_rank) if local_rank.isdigit() else int(os.environ[rank]))
    return None


def abort_job_if_failed(status: int, what: str) -> None:
    """fukaku's own (used by ``fukaku train`` and ``fukaku run``): end every rank when this one ends with a failure ``status`` while the group of several processes
    exists: the others may be waiting for it in a collective, and MPI would wait for them at exit."""
    world = GroupMember.WORLD
    if status and world is not None and world.size > 1:
        sys.stderr.write(f"fukaku.distributed: {what} ended with status {status} on rank {world.rank}; aborting "
                         f"all {world.size} processes\n")
        sys.stderr.flush()
        world.comm.Abort(status if isinstance(status, int) and 0 < status < 256 else 1)


def is_initialized() -> bool:
    """Whether :func:`init_process_group` has run (and :func:`destroy_process_group` has not)."""
    return GroupMember.WORLD is not None


def destroy_process_group(group: Any = None) -> None:
    """Leave the default process group (after its queued collectives); MPI itself stays initialised
    (mpi4py finalises it at exit)."""
    global _excepthook
    world = _check_group(group, "destroy_process_group")
    world.close()
    GroupMember.WORLD = None
    if _excepthook is not None and sys.excepthook is _excepthook:
        sys.excepthook = sys.__excepthook__
    _excepthook = None


def get_backend(group: Any = None) -> str:
    """The backend name the program passed (``"mpi"``, ``"gloo"`` ...); all of them are MPI underneath."""
    return _check_group(group, "get_backend").backend


def get_rank(group: Any = None) -> int:
    """This process's rank in the default group, 0 … world size − 1."""
    return _check_group(group, "get_rank").rank


def get_world_size(group: Any = None) -> int:
    """The number of processes in the default group."""
    return _check_group(group, "get_world_size").size


def new_group(ranks: Sequence[int] | None = None, timeout: Any = None, backend: Any = None,
              pg_options: Any = None, **kwargs: Any) -> _World:
    """The default group when ``ranks`` is None or every rank; fukaku has no sub-groups yet."""
    world = _world("new_group")
    if ranks is not None and sorted(ranks) != list(range(world.size)):
        raise NotImplementedError(f"new_group: fukaku has only the group of all {world.size} ranks, got ranks={list(ranks)}")
    return world


# -- collectives ------------------------------------------------------------------------------------------
def _buffer(tensor: Tensor, op: str) -> np.ndarray:
    """The array MPI reads and writes: the tensor's own, or a contiguous copy of a strided view."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{op}: expected a fukaku.Tensor, got {type(tensor).__name__}")
    data = tensor._data
    return data if data.flags.c_contiguous and data.flags.writeable else np.ascontiguousarray(data)


def _written(tensor: Tensor, buf: np.ndarray) -> None:
    if buf is not tensor._data:
        tensor._data[...] = buf
    bump_version(tensor)


def _finish_all_reduce(tensor: Tensor, buf: np.ndarray, op: ReduceOp, size: int) -> Callable[[], None]:
    def finish() -> None:
        if op is ReduceOp.AVG:
            if buf.dtype.kind in "iub":
                buf[...] = buf // size
            else:
                buf[...] = buf / size
        _written(tensor, buf)
    return finish


def _run(world: _World, start: Callable[[], Any], finish: Callable[[], None] | None, async_op: bool) -> Work | None:
    work = world.submit(start, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over every rank with ``op``, in place on each rank (``MPI_Allreduce``).

    With ``async_op=True`` the reduction is queued on the communication thread and a :class:`Work` is
    returned at once: the tensor holds the result after ``work.wait()``. ``ReduceOp.AVG`` divides the sum by
    the world size.

    Example (2 ranks)::

        >>> t = fk.tensor([float(dist.get_rank() + 1)])
        >>> dist.all_reduce(t)
        >>> t
        tensor([3.])
    """
    world = _check_group(group, "all_reduce")
    buf, MPI, mpi_op = _buffer(tensor, "all_reduce"), _mpi(), _mpi_op(op)
    return _run(world, lambda: world.comm.Iallreduce(MPI.IN_PLACE, buf, mpi_op),
                _finish_all_reduce(tensor, buf, op, world.size), async_op)


def reduce(tensor: Tensor, dst: int = 0, op: ReduceOp = ReduceOp.SUM, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Combine ``tensor`` over every rank into rank ``dst``'s ``tensor`` (the others' are left as they were)."""
    world = _check_group(group, "reduce")
    _check_rank(dst, world, "reduce", "dst")
    buf, MPI = _buffer(tensor, "reduce"), _mpi()
    mine = world.rank == dst
    finish = _finish_all_reduce(tensor, buf, op, world.size) if mine else None
    send, mpi_op = MPI.IN_PLACE if mine else buf, _mpi_op(op)
    return _run(world, lambda: world.comm.Ireduce(send, buf if mine else None, mpi_op, root=dst), finish, async_op)


def broadcast(tensor: Tensor, src: int = 0, group: Any = None, async_op: bool = False) -> Work | None:
    """Copy rank ``src``'s ``tensor`` into ``tensor`` on every rank (``MPI_Bcast``); shapes and dtypes must agree."""
    world = _check_group(group, "broadcast")
    _check_rank(src, world, "broadcast", "src")
    buf = _buffer(tensor, "broadcast")
    return _run(world, lambda: world.comm.Ibcast(buf, root=src), lambda: _written(tensor, buf), async_op)


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: Any = None, async_op: bool = False) -> Work | None:
    """Fill ``tensor_list[r]`` with rank r's ``tensor`` on every rank (``MPI_Allgather``).

    ``tensor_list`` holds world-size tensors of ``tensor``'s shape and dtype, as in PyTorch.
    """
    world = _check_group(group, "all_gather")
    _check_list(tensor_list, tensor, world, "all_gather", "tensor_list")
    send = np.ascontiguousarray(tensor._data)
    recv = np.empty((world.size, *send.shape), dtype=send.dtype)
    return _run(world, lambda: world.comm.Iallgather(send, recv), _scatter_into(tensor_list, recv), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: Any = None,
                           async_op: bool = False) -> Work | None:
    """Rank r's ``input_tensor`` into slice r of ``output_tensor`` (world size × its first dimension), in place."""
    world = _check_group(group, "all_gather_into_tensor")
    send = np.ascontiguousarray(input_tensor._data)
    if output_tensor._data.size != world.size * send.size or output_tensor._data.dtype != send.dtype:
        raise ValueError(f"all_gather_into_tensor: output has shape {tuple(output_tensor.shape)} "
                         f"({output_tensor._data.dtype}); it needs {world.size} × the input's "
                         f"{tuple(input_tensor.shape)} elements of {send.dtype}")
    buf = _buffer(output_tensor, "all_gather_into_tensor")
    return _run(world, lambda: world.comm.Iallgather(send, buf), lambda: _written(output_tensor, buf), async_op)


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int = 0, group: Any = None,
           async_op: bool = False) -> Work | None:
    """Rank r's ``tensor`` into ``gather_list[r]`` on rank ``dst`` (the other ranks pass no list)."""
    world = _check_group(group, "gather")
    _check_rank(dst, world, "gather", "dst")
    send = np.ascontiguousarray(tensor._data)
    if world.rank != dst:
        if gather_list:
            raise ValueError(f"gather: only rank dst={dst} passes gather_list; rank {world.rank} passed one")
        return _run(world, lambda: world.comm.Igather(send, None, root=dst), None, async_op)
    _check_list(gather_list, tensor, world, "gather", "gather_list")
    recv = np.empty((world.size, *send.shape), dtype=send.dtype)
    return _run(world, lambda: world.comm.Igather(send, recv, root=dst), _scatter_into(gather_list, recv), async_op)


def barrier(group: Any = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank has reached this call (``MPI_Barrier``)."""
    world = _check_group(group, "barrier")
    return _run(world, world.comm.Ibarrier, None, async_op)


def _check_rank(r: int, world: _World, op: str, name: str) -> None:
    if not isinstance(r, int) or not 0 <= r < world.size:
        raise ValueError(f"{op}: {name}={r!r} is not a rank of the group; ranks are 0 … {world.size - 1}")


def _check_list(tensors, tensor: Tensor, world: _World, op: str, name: str) -> None:
    if not isinstance(tensors, list) or len(tensors) != world.size:
        n = len(tensors) if isinstance(tensors, list) else type(tensors).__name__
        raise ValueError(f"{op}: {name} must be a list of {world.size} tensors (one per rank), got {n}")
    for t in tensors:
        if tuple(t.shape) != tuple(tensor.shape) or t._data.dtype != tensor._data.dtype:
            raise ValueError(f"{op}: every tensor of {name} must have the input's shape {tuple(tensor.shape)} and "
                             f"dtype {tensor._data.dtype}; got {tuple(t.shape)} {t._data.dtype}")


def _scatter_into(tensors: list[Tensor], recv: np.ndarray) -> Callable[[], None]:
    def finish() -> None:
        for t, part in zip(tensors, recv):
            t._data[...] = part
            bump_version(t)
    return finish
