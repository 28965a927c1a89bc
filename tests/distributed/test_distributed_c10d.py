"""``fukaku.distributed``: the API in this process (MPI with world size 1) and the collectives on 2 ranks."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

import fukaku as fk

HERE = Path(__file__).resolve().parent


def test_not_initialised(mpi4py_world):
    dist = mpi4py_world
    assert dist.is_available() and dist.is_mpi_available() and not dist.is_nccl_available()
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(fk.ones(1))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()


def test_world_of_one(mpi4py_world):
    dist = mpi4py_world
    dist.init_process_group("mpi", init_method="env://")
    assert dist.is_initialized() and (dist.get_rank(), dist.get_world_size(), dist.get_backend()) == (0, 1, "mpi")
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("mpi")
    t = fk.tensor([1.0, 2.0])
    array, version = t._data, t._version.value
    dist.all_reduce(t)
    assert t.tolist() == [1.0, 2.0] and t._data is array and t._version.value > version  # in place, no copy
    dist.all_reduce(t, op=dist.ReduceOp.AVG)
    work = dist.all_reduce(t, op=dist.ReduceOp.PRODUCT, async_op=True)
    assert isinstance(work, dist.Work) and work.wait() and work.is_completed() and t.tolist() == [1.0, 2.0]
    dist.broadcast(t, src=0)
    out = [fk.zeros(2)]
    dist.all_gather(out, t)
    assert out[0].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="list of 1 tensors"):
        dist.all_gather([fk.zeros(2), fk.zeros(2)], t)
    with pytest.raises(ValueError, match="src=1 is not a rank"):
        dist.broadcast(t, src=1)
    with pytest.raises(TypeError, match="ReduceOp"):
        dist.all_reduce(t, op="sum")
    a, b = fk.tensor([2.0]), fk.tensor([3.0])
    first = dist.all_reduce(a, op=dist.ReduceOp.AVG, async_op=True)
    second = dist.all_reduce(b, async_op=True)
    assert second.wait() and first.is_completed() and first.is_success()  # run in the order issued
    assert (a.tolist(), b.tolist()) == ([2.0], [3.0])
    i = fk.tensor([5, 7])
    dist.all_reduce(i, op=dist.ReduceOp.MAX)
    assert i.tolist() == [5, 7]
    dist.barrier()
    dist.destroy_process_group()
    assert not dist.is_initialized()


def test_backend_names_and_checks(mpi4py_world, monkeypatch):
    dist = mpi4py_world
    with pytest.raises(ValueError, match="unknown backend"):
        dist.init_process_group("ucc")
    with pytest.raises(ValueError, match="rank=1 but MPI gives rank 0"):
        dist.init_process_group("mpi", rank=1, world_size=1)
    monkeypatch.setenv("WORLD_SIZE", "4")
    with pytest.raises(ValueError, match="WORLD_SIZE=4 but MPI gives world_size 1"):
        dist.init_process_group("mpi")
    monkeypatch.setenv("WORLD_SIZE", "1")
    dist.distributed_c10d._warned_backends.clear()
    with pytest.warns(UserWarning, match="runs over MPI"):
        dist.init_process_group("nccl")
    assert dist.get_backend() == "nccl"


def test_missing_mpi4py_says_what_to_install(monkeypatch):
    import fukaku.distributed as dist

    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(ImportError, match="pip install mpi4py"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_collectives_on_two_ranks(mpirun, tmp_path):
    result = mpirun(str(HERE / "collectives_program.py"), str(tmp_path))
    assert result.returncode == 0, result.stderr
    ranks = [json.loads((tmp_path / f"{r}.json").read_text()) for r in (0, 1)]
    assert [o["size"] for o in ranks] == [2, 2]
    for o in ranks:
        assert o["sum"] == [3.0, 4.0] and o["same array"] and o["avg"] == [1.5] and o["max"] == [1.0, 0.0]
        assert o["broadcast"] == [10.0, 1.0] and o["all_gather"] == [[0.0, 0.5], [1.0, 1.5]]
        assert np.array_equal(o["view"], [[3.0, 0.0]] * 3)
    assert ranks[0]["reduce"] == [3.0] and ranks[1]["reduce"] == [2.0]
    assert ranks[0]["gather"] == [[0.0], [3.0]] and ranks[1]["gather"] is None
