"""Run by test_failures.py under ``mpirun -n 2``: DDP training in which rank 1 dies at step 3 — killed by
SIGKILL (argv[1] == "kill"), by an uncaught exception ("raise") or by ``sys.exit(3)`` under ``fukaku run``
("exit") — while rank 0 waits in an all-reduce."""
import os
import signal
import sys

import fukaku as fk
import fukaku.distributed as dist
from fukaku.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank = dist.get_rank()
model = DDP(fk.nn.Linear(4, 1))
opt = fk.optim.SGD(model.parameters(), lr=0.1)
for step in range(1000):
    if rank == 1 and step == 3:
        if sys.argv[1] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if sys.argv[1] == "exit":
            sys.exit(3)
        raise RuntimeError("rank 1 lost its data shard")
    opt.zero_grad()
    model(fk.randn(8, 4)).pow(2).mean().backward()
    opt.step()
print("rank", rank, "finished: it should not have")
