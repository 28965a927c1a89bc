"""Fixtures for the distributed tests: MPI in this process (world size 1) and ``mpirun -n 2`` as a subprocess.

Without Open MPI's ``mpirun`` or mpi4py these tests skip with the reason; ``.ci/run`` installs Debian's
openmpi-bin and libopenmpi-dev and sets ``FUKAKU_REQUIRE_MPI=1``, and there they must run (a missing
piece fails them instead).
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MPIRUN = shutil.which("mpirun") or shutil.which("mpiexec")


def _require(why: str | None) -> None:
    if why is None:
        return
    if os.environ.get("FUKAKU_REQUIRE_MPI") == "1":  # set by .ci/run: there these tests must run
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def _no_mpi4py() -> str | None:
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install mpi4py, after apt-get install openmpi-bin libopenmpi-dev)"
    return None


@pytest.fixture
def mpi4py_world():
    """MPI in this process, world size 1; the default group is destroyed afterwards."""
    _require(_no_mpi4py())
    import fukaku.distributed as dist

    yield dist
    if dist.is_initialized():
        dist.destroy_process_group()


def mpi_env(**extra: str) -> dict[str, str]:
    """The environment of an mpirun launch: one thread per rank, Open MPI allowed as root and to place 2 ranks
    on fewer cores (harmless for other MPIs), fukaku importable."""
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_rmaps_base_oversubscribe="1", PYTHONPATH=str(ROOT), **extra)
    return env


@pytest.fixture
def mpirun():
    """``mpirun(*python_args, n=2, timeout=60, cwd=None, env=None)``: run ``python *python_args`` on n ranks;
    returns the CompletedProcess (stdout and stderr as text). A run past ``timeout`` fails the test."""
    _require("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)" if MPIRUN is None else None)
    _require(_no_mpi4py())

    def run(*args: str, n: int = 2, timeout: float = 60, cwd=None, env: dict | None = None):
        try:
            return subprocess.run([MPIRUN, "-n", str(n), sys.executable, *args], capture_output=True, text=True,
                                  timeout=timeout, cwd=cwd, env=env or mpi_env())
        except subprocess.TimeoutExpired as e:
            pytest.fail(f"mpirun -n {n} {' '.join(args)} did not end within {timeout} s (a hang):\n"
                        f"{e.stdout}\n{e.stderr}")

    return run
