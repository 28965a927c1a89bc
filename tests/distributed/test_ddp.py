"""``fukaku.nn.parallel.DistributedDataParallel``: the wrapper in this process (world size 1), and 2 ranks under
mpirun equal to 1 rank with the same global batch (parameters after 20 steps, float64, to 1e-6)."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import fukaku as fk
from fukaku.nn.parallel import DistributedDataParallel as DDP
from fukaku.nn.parallel.distributed import _assign_buckets

HERE = Path(__file__).resolve().parent


def test_needs_a_process_group():
    import fukaku.distributed as dist

    if not dist.is_initialized():
        with pytest.raises(ValueError, match="init_process_group"):
            DDP(fk.nn.Linear(2, 1))


def test_buckets_as_pytorch_assigns_them():
    # reverse order, one dtype per bucket, a bucket closes when it reaches its cap (the first one's may differ)
    ps = [fk.zeros(n, requires_grad=True) for n in (300_000, 10, 10, 200_000, 5)]  # float32: 1.2 MB, 40 B, ...

    def indices(buckets):
        return [[next(i for i, q in enumerate(ps) if q is p) for p in b] for b in buckets]

    assert indices(_assign_buckets(ps, 2 ** 19, 2 ** 19)) == [[4, 3], [2, 1, 0]]
    assert indices(_assign_buckets(ps, 25 * 2 ** 20, 2 ** 20)) == [[4, 3, 2, 1, 0]]
    assert indices(_assign_buckets(ps, 2 ** 20, 100)) == [[4, 3], [2, 1, 0]]
    assert indices(_assign_buckets(ps, 2 ** 20, 10)) == [[4], [3, 2, 1, 0]]
    mixed = [fk.zeros(3, requires_grad=True), fk.zeros(3, dtype=fk.float64, requires_grad=True)]
    assert len(_assign_buckets(mixed, 2 ** 20, 2 ** 20)) == 2


def test_wrapper_in_one_process(mpi4py_world):
    dist = mpi4py_world
    dist.init_process_group("mpi")
    model = DDP(fk.nn.Linear(3, 2))
    assert isinstance(model.module, fk.nn.Linear) and model.bucket_bytes_cap == 25 * 2 ** 20
    assert list(model.state_dict()) == ["module.weight", "module.bias"]
    x = fk.randn(4, 3)
    model(x).sum().backward()
    g = model.module.weight.grad.numpy().copy()
    np.testing.assert_allclose(g, np.tile(x.numpy().sum(0), (2, 1)), rtol=1e-6)  # world 1: the gradient itself
    with model.no_sync():
        assert not model.require_backward_grad_sync
        model(x).sum().backward()
    assert model.require_backward_grad_sync
    np.testing.assert_allclose(model.module.weight.grad.numpy(), 2 * g, rtol=1e-6)
    with fk.no_grad():
        model(x)  # a forward without grad: no reduction is expected


class _TwoHeads(fk.nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = fk.nn.Linear(2, 1), fk.nn.Linear(2, 1)

    def forward(self, x):
        return self.a(x)


def test_unused_parameters(mpi4py_world):
    dist = mpi4py_world
    dist.init_process_group("mpi")
    with pytest.raises(RuntimeError, match=r"no gradient.*b\.weight.*find_unused_parameters=True"):
        DDP(_TwoHeads())(fk.ones(1, 2)).sum().backward()
    model = DDP(_TwoHeads(), find_unused_parameters=True)
    model(fk.ones(1, 2)).sum().backward()
    assert model.module.a.weight.grad.tolist() == [[1.0, 1.0]] and model.module.b.weight.grad.tolist() == [[0.0, 0.0]]


def _load(folder: Path, variant: str, rank: int) -> dict:
    with np.load(folder / f"{variant}.{rank}.npz") as f:
        return dict(f)


def test_two_ranks_equal_one_with_the_same_global_batch(mpirun, tmp_path):
    variants = ["plain", "no_sync", "buckets"]
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    single = subprocess.run([sys.executable, str(HERE / "ddp_program.py"), str(one), "plain"], capture_output=True,
                            text=True, timeout=60)
    assert single.returncode == 0, single.stderr
    pair = mpirun(str(HERE / "ddp_program.py"), str(two), *variants)
    assert pair.returncode == 0, pair.stderr
    runs = [json.loads(path.read_text()) for path in sorted(two.glob("*.json"))]
    assert len(runs) == 6 and all(r["steps"] == 20 and r["world"] == 2 for r in runs)
    assert all(r["keys"] == ["module.0.weight", "module.0.bias"] for r in runs)
    tiny = [r for r in runs if r["variant"] == "buckets"]
    # all 4 small buckets had started their all-reduce before backward ended: communication overlapped it
    assert all(r["buckets"] == 4 and r["started_in_backward"] == [4] for r in tiny)
    reference = _load(one, "plain", 0)
    for variant in variants:
        for rank in (0, 1):
            got = _load(two, variant, rank)
            worst = max(float(np.abs(got[k] - reference[k]).max()) for k in reference)
            assert worst < 1e-6, (variant, rank, worst)
