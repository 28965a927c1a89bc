"""``mpirun -n N fukaku train``: data-parallel with the global batch of one process, rank 0 alone writes the
checkpoint, and a checkpoint resumes on any number of processes."""
import numpy as np

import fukaku as fk
from fukaku import cli

TRAIN = ["-m", "fukaku", "train", "mlp", "--data", "circle", "--quiet", "--batch-size", "32"]  # 8 steps an epoch


def _model(path) -> tuple[dict, int]:
    state = fk.load(str(path))
    return {k: v.numpy() for k, v in state["model"].items()}, int(state["epoch"])


def _gap(a: dict, b: dict) -> float:
    assert list(a) == list(b) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # the bare model's keys
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def test_two_ranks_equal_one_and_checkpoints_resume_across_world_sizes(mpirun, tmp_path, capsys):
    two, one = tmp_path / "two.safetensors", tmp_path / "one.safetensors"
    run2 = mpirun(*TRAIN, "--epochs", "3", "--save", str(two))  # 24 steps on 2 ranks
    assert run2.returncode == 0, run2.stderr
    assert run2.stdout.count("saved ") == 1 and "data-parallel on 2 processes" in run2.stdout  # rank 0 prints
    run1 = mpirun(*TRAIN, "--epochs", "2", "--save", str(one), n=1)  # 16 steps on 1 rank ...
    resumed = mpirun(*TRAIN, "--epochs", "3", "--save", str(one), "--resume")  # ... and 8 more on 2 ranks
    assert run1.returncode == 0 and resumed.returncode == 0, run1.stderr + resumed.stderr
    assert "resuming" in resumed.stdout and "after epoch 2 of 3" in resumed.stdout
    (m2, e2), (m1, e1) = _model(two), _model(one)
    assert e2 == e1 == 3 and _gap(m2, m1) < 1e-6
    # the 2-rank checkpoint also continues in a process started without mpirun (fukaku's own shuffle from there)
    assert cli.main(TRAIN[2:] + ["--epochs", "4", "--save", str(two), "--resume"]) == 0
    assert "after epoch 3 of 4" in capsys.readouterr().out
    m, e = _model(two)
    assert e == 4 and _gap(m, m2) > 1e-5


def test_global_batch_must_divide_among_ranks(mpi4py_world, monkeypatch, capsys):
    dist = mpi4py_world
    monkeypatch.setattr(dist.distributed_c10d, "mpi_launch", lambda: (0, 2, 0))  # as under mpirun -n 2
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    assert cli.main(TRAIN[2:-1] + ["33", "--epochs", "1"]) == 2
    assert "--batch-size 33 is the global batch and must divide among the 2 processes" in capsys.readouterr().err
