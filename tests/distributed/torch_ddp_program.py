"""A PyTorch DDP training program, as one writes it for torchrun; test_run_torch_program.py runs it unmodified
under ``mpirun -n 2 fukaku run torch_ddp_program.py OUT.json``.

It reads its rank from the environment, joins the group with the "gloo" backend, wraps the model in
DistributedDataParallel, shards the data with DistributedSampler, and rank 0 writes the final parameters.
"""
import json
import os
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

GLOBAL_BATCH, EPOCHS = 8, 3


def build():
    """The data and the model, deterministic (no random numbers: they differ between frameworks)."""
    x = torch.linspace(-1, 1, 96, dtype=torch.float64).reshape(32, 3)
    y = (x ** 2).sum(dim=1, keepdim=True) - x[:, :1]
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).double()
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.linspace(-0.6, 0.5 + 0.1 * i, p.numel(), dtype=torch.float64).reshape(p.shape))
    return TensorDataset(x, y), model


def main():
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ["LOCAL_RANK"])
    print(f"rank {rank}/{world_size} (local {local_rank}) via {os.environ['MASTER_ADDR']}:{os.environ['MASTER_PORT']}")
    dist.init_process_group(backend="gloo", init_method="env://", rank=rank, world_size=world_size)
    data, model = build()
    ddp = DDP(model)
    sampler = DistributedSampler(data, num_replicas=world_size, rank=rank, shuffle=True, seed=5)
    loader = DataLoader(data, batch_size=GLOBAL_BATCH // world_size, sampler=sampler)
    opt = torch.optim.Adam(ddp.parameters(), lr=0.01)
    for epoch in range(EPOCHS):
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            loss = F.mse_loss(ddp(x), y)
            loss.backward()
            opt.step()
    if rank == 0:
        with open(sys.argv[1], "w") as f:
            json.dump({k: v.tolist() for k, v in ddp.module.state_dict().items()}, f)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
