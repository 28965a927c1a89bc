"""Data-parallel throughput: training steps on 2 ranks vs 1 under ``mpirun`` (issue 16: MPI acceptance).

Case ``mlp``: an MLP 784-1024-1024-10 (1.86 M parameters, float32, 7.4 MB of gradients: 2 buckets of PyTorch's
default 25 MB cap after the 1 MB first one) trained with SGD on random MNIST-shaped data, global batch 256;
``DistributedDataParallel`` over ``fukaku.distributed`` (MPI), each rank one thread
(OMP/OPENBLAS/MKL_NUM_THREADS=1), so that 2 ranks use the 2 cores one rank leaves idle. The same program runs
on 1 rank (the whole batch), on 2 ranks (half each), and on 2 ranks inside ``no_sync()`` (no communication at
all: the ceiling that the machine's cores allow); the runs alternate, ``--repeats`` times each, and the table
gives the median throughput, the ratio to 1 rank and the median time per step spent waiting for all-reduces at
the end of backward (communication that did not overlap the backward pass, and waiting for the slower rank).

Usage: ``python benchmarks/bench_ddp.py [--repeats 3] [--steps 20] [--batch 256]``; it launches
``mpirun -n 1`` and ``mpirun -n 2`` itself (Open MPI: as root it sets OMPI_ALLOW_RUN_AS_ROOT).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SIZES = [784, 1024, 1024, 10]


def worker(steps: int, batch: int, out: str, sync: bool) -> None:
    """One rank of a run: warm up, time ``steps`` steps between barriers; rank 0 writes the numbers."""
    import numpy as np

    import fukaku as fk
    import fukaku.distributed as dist
    from fukaku.nn.parallel import DistributedDataParallel

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    fk.manual_seed(0)
    model = DistributedDataParallel(fk.models.MLP(SIZES))
    opt = fk.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = fk.nn.CrossEntropyLoss()
    rng = np.random.default_rng(rank + 1)
    x = fk.tensor(rng.normal(size=(batch // world, SIZES[0])).astype(np.float32))
    y = fk.tensor(rng.integers(0, SIZES[-1], batch // world))
    waits = []
    finish = model._finish_reduction

    def timed_finish():
        start = time.perf_counter()
        finish()
        waits.append(time.perf_counter() - start)

    model._finish_reduction = timed_finish

    def step():
        opt.zero_grad()
        if sync:
            loss_fn(model(x), y).backward()
        else:
            with model.no_sync():
                loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    dist.barrier()
    waits.clear()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        with open(out, "w") as f:
            json.dump({"seconds": seconds, "samples": steps * batch, "buckets": len(model._buckets),
                       "wait_ms": statistics.median(waits) * 1e3 if waits else 0.0}, f)
    dist.destroy_process_group()


def launch(ranks: int, steps: int, batch: int, sync: bool = True) -> dict:
    mpirun = shutil.which("mpirun") or shutil.which("mpiexec")
    if mpirun is None:
        raise SystemExit("bench_ddp: mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1",
               OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.json")
        subprocess.run([mpirun, "-n", str(ranks), sys.executable, __file__, "--worker", "--steps", str(steps),
                        "--batch", str(batch), "--out", out, *([] if sync else ["--no-sync"])], env=env, check=True,
                       timeout=600)
        with open(out) as f:
            return json.load(f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=256, help="the global batch (divisible by 2)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--no-sync", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.steps, args.batch, args.out, not args.no_sync)
    import numpy as np

    print(f"# {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, NumPy {np.__version__}; "
          f"1 thread per rank")
    print(f"case mlp: MLP {SIZES}, float32, global batch {args.batch}, {args.steps} timed steps, "
          f"median of {args.repeats} runs of each (alternating)")
    variants = {"1 rank": (1, True), "2 ranks": (2, True), "2 ranks, no_sync (no communication)": (2, False)}
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (ranks, sync) in variants.items():
            runs[name].append(launch(ranks, args.steps, args.batch, sync))
    rate = {name: statistics.median(r["samples"] / r["seconds"] for r in rs) for name, rs in runs.items()}
    print("| run | samples/s | ms/step | × 1 rank | wait for all-reduce ms/step | buckets |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, rs in runs.items():
        print(f"| {name} | {rate[name]:.0f} | {args.batch / rate[name] * 1e3:.1f} | {rate[name] / rate['1 rank']:.2f} | "
              f"{statistics.median(r['wait_ms'] for r in rs):.2f} | {rs[0]['buckets']} |", flush=True)


if __name__ == "__main__":
    main()
