"""An unmodified PyTorch DDP program under ``mpirun -n 2 fukaku run``: MPI supplies RANK, WORLD_SIZE and
LOCAL_RANK, and the parameters it reaches equal PyTorch's own single-process training on the same global
batches (the sampler's order is PyTorch's, index for index)."""
import importlib.util
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


HERE = Path(__file__).resolve().parent


def _torch_reference() -> dict:
    """PyTorch, one process, no DDP: the same global batches, in DistributedSampler's order for one rank."""
    spec = importlib.util.spec_from_file_location("torch_ddp_program", HERE / "torch_ddp_program.py")
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    data, model = program.build()
    sampler = torch.utils.data.distributed.DistributedSampler(data, num_replicas=1, rank=0, shuffle=True, seed=5)
    loader = torch.utils.data.DataLoader(data, batch_size=program.GLOBAL_BATCH, sampler=sampler)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for epoch in range(program.EPOCHS):
        sampler.set_epoch(epoch)
        for x, y in loader:
            opt.zero_grad()
            F.mse_loss(model(x), y).backward()
            opt.step()
    return {k: v.detach().numpy() for k, v in model.state_dict().items()}


def test_pytorch_ddp_program_runs_on_two_ranks(mpirun, tmp_path):
    out = tmp_path / "params.json"
    result = mpirun("-m", "fukaku", "run", str(HERE / "torch_ddp_program.py"), str(out))
    assert result.returncode == 0, result.stderr
    for rank in (0, 1):
        assert f"rank {rank}/2 (local {rank}) via localhost:29500" in result.stdout
    ours = json.loads(out.read_text())
    theirs = _torch_reference()
    assert list(ours) == list(theirs)
    for k in theirs:
        np.testing.assert_allclose(ours[k], theirs[k], rtol=0, atol=1e-9, err_msg=k)
