"""Run by test_distributed_c10d.py under ``mpirun -n 2``: every collective once; rank r writes what it saw
to ``<argv[1]>/<r>.json``."""
import json
import sys

import fukaku as fk
import fukaku.distributed as dist

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
out = {"rank": r, "size": n}
t = fk.tensor([float(r + 1), 2.0])
data = t._data
dist.all_reduce(t)
out["sum"], out["same array"] = t.tolist(), t._data is data
t = fk.tensor([float(r + 1)])
dist.all_reduce(t, op=dist.ReduceOp.AVG)
out["avg"] = t.tolist()
t = fk.tensor([float(r), -float(r)])
work = dist.all_reduce(t, op=dist.ReduceOp.MAX, async_op=True)
work.wait()
out["max"] = t.tolist()
t = fk.tensor([r * 10.0, 1.0])
dist.broadcast(t, src=1)
out["broadcast"] = t.tolist()
gathered = [fk.zeros(2) for _ in range(n)]
dist.all_gather(gathered, fk.tensor([float(r), r + 0.5]))
out["all_gather"] = [g.tolist() for g in gathered]
t = fk.tensor([r + 1.0])
dist.reduce(t, dst=0)
out["reduce"] = t.tolist()
g = [fk.zeros(1) for _ in range(n)] if r == 0 else None
dist.gather(fk.tensor([r * 3.0]), g, dst=0)
out["gather"] = g and [x.tolist() for x in g]
v = fk.zeros(3, 2)
column = v[:, 0]  # a strided view: reduced through a contiguous copy, written back
column += r + 1
dist.all_reduce(column)
out["view"] = v.tolist()
dist.barrier()
dist.destroy_process_group()
with open(f"{sys.argv[1]}/{r}.json", "w") as f:
    json.dump(out, f)
