"""Run by test_ddp.py, on 1 rank or under ``mpirun -n 2``: 20 SGD steps of an MLP (float64) on a global batch
of 16 (each rank takes its DistributedSampler share); every rank saves its parameters to
``<argv[1]>/<variant>.<rank>.npz`` and what it saw to ``<variant>.<rank>.json`` there.

Variants (argv[2:]): "plain"; "no_sync" (each step: two half-batches, the first inside no_sync());
"buckets" (buckets of 100 bytes, and a record of how many all-reduces had started before backward ended).
"""
import json
import sys

import numpy as np

import fukaku as fk
import fukaku.distributed as dist
from fukaku.nn.parallel import DistributedDataParallel as DDP
from fukaku.utils.data import DataLoader, TensorDataset
from fukaku.utils.data.distributed import DistributedSampler

STEPS, GLOBAL_BATCH = 20, 16


def train(variant: str, rank: int, world: int) -> dict:
    rng = np.random.default_rng(0)
    data = TensorDataset(fk.tensor(rng.normal(size=(64, 5))), fk.tensor(rng.normal(size=(64, 1))))
    fk.manual_seed(1234 + rank)  # a different init on each rank: DDP must broadcast rank 0's
    model = fk.nn.Sequential(fk.nn.Linear(5, 16), fk.nn.Tanh(), fk.nn.Linear(16, 8), fk.nn.Tanh(),
                             fk.nn.Linear(8, 1)).double()
    ddp = DDP(model, bucket_cap_mb=1e-4 if variant == "buckets" else None)
    started = []
    finish = ddp._finish_reduction

    def recorded():
        started.append(ddp._next_bucket)  # buckets whose all-reduce began during backward
        finish()

    ddp._finish_reduction = recorded
    opt = fk.optim.SGD(ddp.parameters(), lr=0.05, momentum=0.9)
    sampler = DistributedSampler(data, seed=3)
    loader = DataLoader(data, batch_size=GLOBAL_BATCH // world, sampler=sampler)
    steps = 0
    for epoch in range(STEPS):
        sampler.set_epoch(epoch)
        for xb, yb in loader:
            opt.zero_grad()
            if variant == "no_sync":
                half = len(xb) // 2
                with ddp.no_sync():
                    (((ddp(xb[:half]) - yb[:half]) ** 2).mean() / 2).backward()
                (((ddp(xb[half:]) - yb[half:]) ** 2).mean() / 2).backward()
            else:
                ((ddp(xb) - yb) ** 2).mean().backward()
            opt.step()
            steps += 1
            if steps == STEPS:
                break
        if steps == STEPS:
            break
    np.savez(f"{sys.argv[1]}/{variant}.{rank}.npz", **{k: v.numpy() for k, v in ddp.module.state_dict().items()})
    return {"variant": variant, "rank": rank, "world": world, "steps": steps, "buckets": len(ddp._buckets),
            "started_in_backward": sorted(set(started)), "keys": list(ddp.state_dict())[:2]}


dist.init_process_group("mpi")
for name in sys.argv[2:]:
    with open(f"{sys.argv[1]}/{name}.{dist.get_rank()}.json", "w") as f:
        json.dump(train(name, dist.get_rank(), dist.get_world_size()), f)
dist.destroy_process_group()
