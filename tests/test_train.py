"""fit / evaluate / metrics / callbacks / resumable checkpoints (seed 003 training loop, seed 000 §6.1.4)."""
import io
import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn, optim
from fukaku import train as train_module
from fukaku.train import (Callback, EarlyStopping, History, ModelCheckpoint, accuracy, binary_accuracy_with_logits,
                          evaluate, fit)
from fukaku.utils.data import DataLoader, TensorDataset


def blobs(n=240, seed=0):
    """Three Gaussian blobs in 2-D, (n, 2) float32 and (n,) int64 labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
    x = centres[y] + 0.6 * rng.standard_normal((n, 2))
    return fk.tensor(x.astype(np.float32)), fk.tensor(y)


def loaders(batch_size=16, generator=0):
    x, y = blobs()
    train = DataLoader(TensorDataset(x[:180], y[:180]), batch_size=batch_size, shuffle=True, generator=generator)
    val = DataLoader(TensorDataset(x[180:], y[180:]), batch_size=32)
    return train, val


def mlp(seed=0, dropout=0.0):
    fk.manual_seed(seed)
    layers = [nn.Linear(2, 16), nn.Tanh()] + ([nn.Dropout(dropout)] if dropout else []) + [nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def params(model):
    return [p.data.numpy().copy() for p in model.parameters()]


# ---------------------------------------------------------------------- fit
def test_fit_learns_and_records_the_history():
    train, val = loaders()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hist = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=8, quiet=True)
    assert isinstance(hist, History)
    assert list(hist.history) == ["loss", "accuracy", "val_loss", "val_accuracy", "lr", "time"]
    assert hist.epoch == list(range(8)) and all(len(v) == 8 for v in hist.history.values())
    assert hist.val_loss is hist.history["val_loss"]
    assert hist.loss[-1] < 0.5 * hist.loss[0]
    assert hist.val_accuracy[-1] >= 0.9
    assert hist.lr == [0.1] * 8 and all(t > 0 for t in hist.time)
    with pytest.raises(AttributeError, match="recorded: loss"):
        hist.val_f1
    # the recorded val values are what evaluate measures on the trained model
    final = evaluate(model, nn.CrossEntropyLoss(), val)
    assert final == pytest.approx({"loss": hist.val_loss[-1], "accuracy": hist.val_accuracy[-1]})


def test_fit_is_the_textbook_loop_and_its_loss_is_the_per_sample_mean():
    """Oracle: the loop written out by hand (zero_grad, forward, loss, backward, step) gives the
    same parameters, and the epoch loss is the sample-weighted mean of the batch losses."""
    x, y = blobs(50)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 50, 16)]  # last batch has 2 samples
    loss_fn = nn.CrossEntropyLoss()
    model = mlp(1)
    hist = fit(model, loss_fn, optim.SGD(model.parameters(), lr=0.3), batches, epochs=2, metrics=(), quiet=True)
    ref = mlp(1)
    opt = optim.SGD(ref.parameters(), lr=0.3)
    losses = []
    for _ in range(2):
        total = 0.0
        for xb, yb in batches:
            opt.zero_grad()
            loss = loss_fn(ref(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        losses.append(total / 50)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data.numpy(), q.data.numpy())
    assert hist.loss == pytest.approx(losses, rel=1e-12)
    assert list(hist.history) == ["loss", "lr", "time"]


def test_fit_matches_pytorch_training_the_same_model():
    """Same initial weights, data order and optimizer in PyTorch: the same trajectory (float64)."""
    x, y = blobs(64)
    x = x.double()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    model = mlp(2).double()
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3)).double()
    tmodel.load_state_dict({k: torch.from_numpy(v.data.numpy().copy()) for k, v in model.state_dict().items()})
    topt = torch.optim.Adam(tmodel.parameters(), lr=0.01)
    for _ in range(3):
        for xb, yb in batches:
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(xb.data.numpy())), torch.from_numpy(yb.data.numpy())).backward()
            topt.step()
    fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), batches, epochs=3, quiet=True)
    for (k, v), tv in zip(model.state_dict().items(), tmodel.state_dict().values()):
        np.testing.assert_allclose(v.data.numpy(), tv.numpy(), rtol=1e-10, atol=1e-12, err_msg=k)


def _one_cycle_fit_and_by_hand(make_scheduler, epochs=3):
    x, y = blobs(70)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 70, 16)]  # 5 batches, the last of 6
    loss_fn = nn.CrossEntropyLoss()
    model = mlp(3)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    hist = fit(model, loss_fn, opt, batches, epochs=epochs, scheduler=make_scheduler(opt, epochs * len(batches)),
               scheduler_step="batch", metrics=(), quiet=True)
    ref = mlp(3)
    ref_opt = optim.SGD(ref.parameters(), lr=0.1, momentum=0.9)
    sched = make_scheduler(ref_opt, epochs * len(batches))
    lrs, seen = [], []
    for _ in range(epochs):  # PyTorch's loop for OneCycleLR / CyclicLR: scheduler.step() after each batch
        lrs.append(ref_opt.param_groups[0]["lr"])
        for xb, yb in batches:
            ref_opt.zero_grad()
            loss_fn(ref(xb), yb).backward()
            ref_opt.step()
            sched.step()
            seen.append(ref_opt.param_groups[0]["lr"])
    return model, ref, hist, lrs, seen, opt


@pytest.mark.parametrize("kind", ["OneCycleLR", "CyclicLR"])
def test_fit_steps_a_scheduler_per_batch_as_the_hand_written_loop(kind):
    def make(opt, total):
        if kind == "OneCycleLR":
            return optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=total)
        return optim.lr_scheduler.CyclicLR(opt, base_lr=0.01, max_lr=0.4, step_size_up=4)

    model, ref, hist, lrs, seen, opt = _one_cycle_fit_and_by_hand(make)
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data.numpy(), q.data.numpy())
    assert hist.lr == lrs  # the rate at the start of each epoch
    assert opt.param_groups[0]["lr"] == seen[-1] and len(set(seen)) >= 5  # it moved with every batch


def test_scheduler_step_is_checked():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = blobs(8)
    with pytest.raises(ValueError, match="scheduler_step must be 'epoch' or 'batch'"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], scheduler=optim.lr_scheduler.StepLR(opt, 1),
            scheduler_step="step", quiet=True)
    with pytest.raises(ValueError, match="ReduceLROnPlateau.*scheduler_step='epoch'"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], scheduler=optim.lr_scheduler.ReduceLROnPlateau(opt),
            scheduler_step="batch", quiet=True)


def test_fit_steps_the_scheduler_once_per_epoch():
    train, _ = loaders()
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    hist = fit(model, nn.CrossEntropyLoss(), opt, train, epochs=5, scheduler=optim.lr_scheduler.StepLR(opt, 2, 0.5),
               quiet=True)
    assert hist.lr == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])


class Scripted(nn.Module):
    """A one-parameter model, out = w · x, with an "optimizer" that sets w from a script: with
    x = 1 and MSE to 0 the validation loss of epoch k is exactly ``script[k]`` (w = √script[k])."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(fk.zeros(1, dtype=fk.float64))

    def forward(self, x):
        return x * self.w


class ScriptOptimizer:
    def __init__(self, model, script):
        self.model, self.script, self.k = model, script, 0
        self.param_groups = [{"lr": 1.0}]

    def zero_grad(self):
        self.model.zero_grad()

    def step(self):
        self.model.w.data.numpy()[...] = math.sqrt(self.script[self.k])
        self.k += 1

    def state_dict(self):
        return {"k": self.k, "param_groups": self.param_groups}

    def load_state_dict(self, state):
        self.k, self.param_groups = state["k"], state["param_groups"]


def scripted_fit(script, epochs, **kwargs):
    model = Scripted()
    one = [(fk.ones(1, 1, dtype=fk.float64), fk.zeros(1, 1, dtype=fk.float64))]
    hist = fit(model, nn.MSELoss(), ScriptOptimizer(model, script), one, one, epochs=epochs, metrics=(), quiet=True,
               **kwargs)
    return model, hist


def test_fit_feeds_reduce_lr_on_plateau_the_monitored_value_like_torch():
    script = [5.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.0, 3.0, 3.0, 3.0]
    model = Scripted()
    opt = optim.SGD(model.parameters(), lr=1.0)
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5)
    topt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=2, factor=0.5)
    expected = []
    for v in script:
        expected.append(topt.param_groups[0]["lr"])
        tsched.step(v)
    script_opt = ScriptOptimizer(model, script)
    script_opt.param_groups = opt.param_groups  # the scheduler changes the lr the history records
    one = [(fk.ones(1, 1, dtype=fk.float64), fk.zeros(1, 1, dtype=fk.float64))]
    hist = fit(model, nn.MSELoss(), script_opt, one, one, epochs=len(script), scheduler=sched, metrics=(), quiet=True)
    assert hist.val_loss == pytest.approx(script)
    assert hist.lr == pytest.approx(expected) and len(set(expected)) > 2


# ---------------------------------------------------------------------- early stopping
def test_early_stopping_stops_after_patience_epochs_without_improvement_and_restores_the_best():
    script = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0]
    stopper = EarlyStopping(patience=3)
    model, hist = scripted_fit(script, epochs=8, callbacks=[stopper])
    assert hist.epoch == [0, 1, 2, 3, 4, 5]  # best at epoch 2, three checks without improvement: 3, 4, 5
    assert stopper.stopped_epoch == 5 and stopper.best_epoch == 2 and stopper.best == pytest.approx(3.0)
    assert model.w.item() == pytest.approx(math.sqrt(3.0), abs=1e-15)  # the weights of epoch 2, not of epoch 5


def test_early_stopping_min_delta_mode_max_and_restore_at_the_end():
    # improvements smaller than min_delta do not count
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    _, hist = scripted_fit([5.0, 4.95, 4.92, 4.0], epochs=4, callbacks=[stopper])
    assert hist.epoch == [0, 1, 2] and stopper.best_epoch == 0
    # mode='max' on another quantity: larger is better (here -val_loss, logged by a callback before it)

    class NegLoss(Callback):
        def on_epoch_end(self, epoch, logs, model):
            logs["score"] = -logs["val_loss"]
            return False

    stopper = EarlyStopping(patience=2, monitor="score", mode="max")
    model, hist = scripted_fit([3.0, 1.0, 2.0, 1.5, 0.5], epochs=5, callbacks=[NegLoss(), stopper])
    assert hist.epoch == [0, 1, 2, 3] and stopper.best_epoch == 1
    # ran out of epochs without stopping: the best weights are still restored
    stopper = EarlyStopping(patience=5)
    model, hist = scripted_fit([3.0, 1.0, 2.0], epochs=3, callbacks=[stopper])
    assert stopper.stopped_epoch is None and model.w.item() == pytest.approx(1.0)
    # restore_best=False keeps the last weights
    model, _ = scripted_fit([3.0, 1.0, 2.0], epochs=3, callbacks=[EarlyStopping(patience=5, restore_best=False)])
    assert model.w.item() == pytest.approx(math.sqrt(2.0))


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="lowest")
    model = Scripted()
    one = [(fk.ones(1, 1, dtype=fk.float64), fk.zeros(1, 1, dtype=fk.float64))]
    with pytest.raises(KeyError, match="'val_loss'.*pass val_loader"):
        fit(model, nn.MSELoss(), ScriptOptimizer(model, [1.0]), one, epochs=1, metrics=(), quiet=True,
            callbacks=[EarlyStopping()])


def test_model_checkpoint_saves_the_best_model(tmp_path):
    path = tmp_path / "best-{epoch}.npz"
    cb = ModelCheckpoint(path, save_best_only=True)
    scripted_fit([3.0, 1.0, 2.0, 0.5, 4.0], epochs=5, callbacks=[cb])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best-1.npz", "best-2.npz", "best-4.npz"]
    restored = Scripted()
    restored.load_state_dict(fk.load(cb.last_saved))
    assert restored.w.item() == pytest.approx(math.sqrt(0.5))
    every = ModelCheckpoint(tmp_path / "last.npz")
    scripted_fit([3.0, 1.0, 2.0], epochs=3, callbacks=[every])
    assert fk.load(tmp_path / "last.npz")["w"].item() == pytest.approx(math.sqrt(2.0))
    named_like_torch = ModelCheckpoint(tmp_path / "m.pt")  # any name, as torch.save: fukaku picks the format
    scripted_fit([3.0], epochs=1, callbacks=[named_like_torch])
    assert fk.load(tmp_path / "m.pt")["w"].item() == pytest.approx(math.sqrt(3.0))
    with pytest.raises(TypeError, match="ModelCheckpoint: the checkpoint path must be a str"):
        ModelCheckpoint(3)


# ---------------------------------------------------------------------- exact resume
class Crash(Callback):
    """Simulates a crash (power cut, kill) at the end of epoch ``at``, before that epoch's checkpoint."""

    def __init__(self, at):
        self.at = at

    def on_epoch_end(self, epoch, logs, model):
        if epoch == self.at:
            raise KeyboardInterrupt
        return False


def _run(epochs, checkpoint=None, resume=False, crash_at=None, generator=0, init_seed=0, seed=123):
    """``seed``: fukaku's stream during training (set after the model, whose factory reseeds), which a
    generator=None loader shuffles from; a resumed run gets another, as a new process would."""
    train, val = loaders(generator=generator)
    model = mlp(init_seed)
    fk.manual_seed(seed)
    opt = optim.Adam(model.parameters(), lr=0.02)
    sched = optim.lr_scheduler.StepLR(opt, 2, 0.7)
    callbacks = [EarlyStopping(patience=50), Crash(crash_at)]
    hist = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs=epochs, scheduler=sched, callbacks=callbacks,
               checkpoint=checkpoint, resume=resume, quiet=True)
    return model, hist, opt


@pytest.mark.parametrize("generator", [0, None], ids=["loader-generator", "fukaku-default-generator"])
@pytest.mark.parametrize("fmt", ["npz", "safetensors"])
def test_a_resumed_run_ends_with_exactly_the_parameters_of_an_uninterrupted_one(tmp_path, generator, fmt):
    if fmt == "safetensors":
        pytest.importorskip("safetensors")
    reference, ref_hist, ref_opt = _run(6, generator=generator, seed=123)
    path = tmp_path / f"run.{fmt}"
    with pytest.raises(KeyboardInterrupt):
        _run(6, checkpoint=path, resume=True, crash_at=3, generator=generator, seed=123)
    assert fk.load(path)["epoch"] == 3
    # a new process: another RNG state, another initialisation (only the checkpoint can make them agree)
    resumed, hist, opt = _run(6, checkpoint=path, resume=True, generator=generator, init_seed=7, seed=999)
    for (k, v), w in zip(reference.state_dict().items(), resumed.state_dict().values()):
        np.testing.assert_array_equal(v.data.numpy(), w.data.numpy(), err_msg=k)
    assert hist.epoch == list(range(6))
    for key in ("loss", "accuracy", "val_loss", "val_accuracy", "lr"):
        assert hist.history[key] == ref_hist.history[key], key
    assert opt.state_dict()["param_groups"][0]["lr"] == ref_opt.state_dict()["param_groups"][0]["lr"]


@pytest.mark.parametrize("generator", [0, None], ids=["loader-generator", "fukaku-default-generator"])
def test_without_the_saved_shuffle_state_the_resumed_run_differs(tmp_path, monkeypatch, generator):
    """Control for the test above: restore everything but the random state, and the data order
    after the restart differs, and so do the final parameters."""
    monkeypatch.setattr(train_module, "set_rng_state", lambda state: None)
    monkeypatch.setattr(train_module, "_loader_generators", lambda loader: [])
    reference, _, _ = _run(6, generator=generator, seed=123)
    path = tmp_path / "run.npz"
    with pytest.raises(KeyboardInterrupt):
        _run(6, checkpoint=path, resume=True, crash_at=3, generator=generator, seed=123)
    resumed, _, _ = _run(6, checkpoint=path, resume=True, generator=generator, seed=999)
    assert any(not np.array_equal(p.data.numpy(), q.data.numpy()) for p, q in zip(reference.parameters(), resumed.parameters()))


def test_resuming_with_dropout_is_exact_too(tmp_path):
    def run(epochs, seed, **kwargs):
        train, _ = loaders()
        model = mlp(0, dropout=0.3)
        fk.manual_seed(seed)  # the dropout masks' stream (after the factory's own seed)
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1, momentum=0.9), train, epochs=epochs,
            quiet=True, **kwargs)
        return model

    reference = run(4, seed=4)
    run(2, seed=4, checkpoint=tmp_path / "c.npz", resume=True)
    resumed = run(4, seed=5, checkpoint=tmp_path / "c.npz", resume=True)  # masks from 5 unless the state is restored
    for p, q in zip(reference.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.data.numpy(), q.data.numpy())


# A user's training script, run as its own process: argv = epochs, seed, checkpoint ("" for none), output.
# Its model has BatchNorm (running statistics and a batch counter) and Dropout (fukaku's default
# stream), Adam (moments, step counts) and a StepLR schedule; its loader shuffles from a
# fukaku.Generator. Everything random is seeded from ``seed``: a resumed process gets another seed,
# so only the checkpoint can make it continue the first run.
_TRAINING_SCRIPT = """
import sys
import numpy as np
import fukaku as fk
from fukaku import nn, optim
from fukaku.train import fit
from fukaku.utils.data import DataLoader, TensorDataset

epochs, seed, checkpoint, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] or None, sys.argv[4]
data = np.random.default_rng(2024)  # the data set: the same in every process
x = data.standard_normal((92, 5)).astype(np.float32)
y = (x[:, 0] * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 0.5)
fk.manual_seed(seed)
model = nn.Sequential(nn.Linear(5, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Dropout(0.3), nn.Linear(12, 3))
opt = optim.Adam(model.parameters(), lr=0.02)
sched = optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.7)
loader = DataLoader(TensorDataset(fk.tensor(x), fk.tensor(y)), batch_size=20, shuffle=True,
                    generator=fk.Generator().manual_seed(seed + 1))
hist = fit(model, nn.CrossEntropyLoss(), opt, loader, epochs=epochs, scheduler=sched, checkpoint=checkpoint,
           resume=checkpoint is not None, quiet=True)
results = {"loss": np.array(hist.loss), "lr": np.array(hist.lr), "epoch": np.array(hist.epoch),
           # what would come next: the next shuffle and the next draw from fukaku's stream
           "next_inputs": np.concatenate([b[0].numpy() for b in loader]), "next_draw": fk.rand(4).numpy()}
results.update(("model/" + k, v.numpy()) for k, v in model.state_dict().items())
for i, state in opt.state_dict()["state"].items():
    results.update((f"adam/{i}/{k}", v.numpy()) for k, v in state.items())
np.savez(out, **results)
"""


def _train_in_a_process(tmp_path, name, epochs, seed, checkpoint=None):
    """Start the training script in a new Python process on this fukaku (the checkout under test)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(fk.__file__)))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    out = tmp_path / f"{name}.npz"
    args = [sys.executable, "-c", _TRAINING_SCRIPT, str(epochs), str(seed), str(checkpoint or ""), str(out)]
    return subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT), out


def _finished(process_and_out):
    process, out = process_and_out
    output = process.communicate(timeout=120)[0].decode(errors="replace")
    assert process.returncode == 0, output
    with np.load(out) as results:
        return {k: results[k] for k in results.files}


def test_a_run_resumed_in_a_new_process_is_bit_for_bit_the_uninterrupted_run(tmp_path):
    k = 3
    path = tmp_path / "run.npz"
    started = []
    try:
        started.append(whole := _train_in_a_process(tmp_path, "whole", 2 * k, seed=11))  # 2k epochs, no break
        # the control: the second process's seed without the checkpoint gives another run
        started.append(other := _train_in_a_process(tmp_path, "other", 2 * k, seed=5))
        started.append(first := _train_in_a_process(tmp_path, "first", k, seed=11, checkpoint=path))  # k epochs
        first = _finished(first)
        assert fk.load(path)["epoch"] == k
        started.append(second := _train_in_a_process(tmp_path, "second", 2 * k, seed=5, checkpoint=path))  # k more
        second, whole, other = _finished(second), _finished(whole), _finished(other)
    finally:
        for process, _ in started:
            if process.poll() is None:
                process.kill()
                process.communicate()

    assert whole["epoch"].tolist() == second["epoch"].tolist() == list(range(2 * k))
    np.testing.assert_array_equal(first["loss"], whole["loss"][:k])
    assert sorted(second) == sorted(whole)
    for key in whole:  # losses, rates, parameters, BatchNorm buffers, Adam's state, what comes next
        np.testing.assert_array_equal(second[key], whole[key], err_msg=key)
        assert second[key].dtype == whole[key].dtype, key
    assert len(set(whole["lr"].tolist())) == 2 * k and whole["model/1.num_batches_tracked"] == 2 * k * 5
    assert not np.array_equal(other["loss"], whole["loss"])


def test_resuming_a_run_that_stopped_early_trains_no_more_and_keeps_the_best(tmp_path):
    script = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0]
    path = tmp_path / "c.npz"
    scripted_fit(script, epochs=8, callbacks=[EarlyStopping(patience=3)], checkpoint=path)
    model, hist = scripted_fit(script, epochs=8, callbacks=[EarlyStopping(patience=3)], checkpoint=path, resume=True)
    assert hist.epoch == [0, 1, 2, 3, 4, 5]
    assert model.w.item() == pytest.approx(math.sqrt(3.0))


def test_resume_starts_afresh_without_a_file_and_refuses_a_different_setup(tmp_path):
    path = tmp_path / "c.npz"
    model, hist = scripted_fit([3.0, 2.0], epochs=2, checkpoint=path, resume=True)
    assert hist.epoch == [0, 1] and path.exists()
    with pytest.raises(ValueError, match=r"callbacks \[\].*\['EarlyStopping'\]"):
        scripted_fit([3.0, 2.0, 1.0], epochs=3, checkpoint=path, resume=True, callbacks=[EarlyStopping()])
    fk.save({"model": {}}, tmp_path / "other.npz")
    with pytest.raises(ValueError, match="not a checkpoint written by fit"):
        scripted_fit([1.0], epochs=1, checkpoint=tmp_path / "other.npz", resume=True)
    with pytest.raises(ValueError, match="checkpoint=PATH"):
        scripted_fit([1.0], epochs=1, resume=True)


def test_resuming_into_another_architecture_names_the_key_and_shapes_and_changes_nothing(tmp_path):
    train, _ = loaders()
    model = mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, epochs=1, quiet=True,
        checkpoint=tmp_path / "c.npz")
    wider = nn.Sequential(nn.Linear(2, 32), nn.Tanh(), nn.Linear(32, 3))
    with pytest.raises(fk.StateDictError, match=r"0\.weight.*\(16, 2\).*\(32, 2\)"):
        fit(wider, nn.CrossEntropyLoss(), optim.SGD(wider.parameters(), lr=0.1), train, epochs=2, quiet=True,
            checkpoint=tmp_path / "c.npz", resume=True)
    # same shapes but two parameter groups: the optimizer refuses, and the model is rolled back
    other = mlp(5)
    before = params(other)
    groups = [{"params": other[0].parameters()}, {"params": other[2].parameters()}]
    with pytest.raises(ValueError, match="parameter groups"):
        fit(other, nn.CrossEntropyLoss(), optim.SGD(groups, lr=0.1), train, epochs=2, quiet=True,
            checkpoint=tmp_path / "c.npz", resume=True)
    assert all(np.array_equal(a, b) for a, b in zip(before, params(other)))


# ---------------------------------------------------------------------- evaluate and metrics
def test_evaluate_uses_eval_mode_without_graph_and_restores_every_mode():
    x, y = blobs(60)
    model = mlp(0, dropout=0.5)
    model[2].eval()  # a mixed state: the dropout layer in eval, the rest in train
    batches = [(x[i:i + 25], y[i:i + 25]) for i in range(0, 60, 25)]
    first = evaluate(model, nn.CrossEntropyLoss(), batches)
    assert evaluate(model, nn.CrossEntropyLoss(), batches) == first  # dropout off: deterministic
    assert [m.training for m in model.modules()] == [True, True, True, False, True]
    assert all(p.grad is None for p in model.parameters())
    # oracle: the whole set at once, in torch
    tmodel = torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Dropout(0.5),
                                 torch.nn.Linear(16, 3)).eval()
    tmodel.load_state_dict({k: torch.from_numpy(v.data.numpy().copy()) for k, v in model.state_dict().items()})
    logits = tmodel(torch.from_numpy(x.data.numpy()))
    assert first["loss"] == pytest.approx(torch.nn.functional.cross_entropy(logits, torch.from_numpy(y.data.numpy())).item(),
                                          rel=1e-5)
    assert first["accuracy"] == pytest.approx((logits.argmax(1).numpy() == y.data.numpy()).mean())
    assert set(evaluate(model, None, batches)) == {"accuracy"}


def test_accuracy_multiclass_matches_argmax_and_accepts_probability_targets():
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((50, 4)).astype(np.float32)
    target = rng.integers(0, 4, 50)
    expected = (torch.from_numpy(logits).argmax(1).numpy() == target).mean()
    assert accuracy(fk.tensor(logits), fk.tensor(target)) == pytest.approx(expected)
    probs = np.eye(4, dtype=np.float32)[target] * 0.7 + 0.075
    assert accuracy(fk.tensor(logits), fk.tensor(probs)) == pytest.approx(expected)
    seg = rng.standard_normal((5, 4, 7))  # class dimension 1, as CrossEntropyLoss
    seg_t = rng.integers(0, 4, (5, 7))
    assert accuracy(fk.tensor(seg), fk.tensor(seg_t)) == pytest.approx((seg.argmax(1) == seg_t).mean())
    with pytest.raises(fk.ShapeError, match="class indices"):
        accuracy(fk.tensor(logits), fk.tensor(target[:, None]))


def test_binary_accuracy_for_probabilities_logits_and_pm1_labels():
    p = fk.tensor([[0.2], [0.5], [0.9], [0.49]])
    assert accuracy(p, fk.tensor([0.0, 1.0, 1.0, 1.0])) == 0.75
    assert accuracy(p, fk.tensor([False, True, True, True])) == 0.75
    z = fk.tensor([-2.0, 0.0, 3.0, -0.1])
    assert binary_accuracy_with_logits(z, fk.tensor([0, 1, 1, 1])) == 0.75
    assert binary_accuracy_with_logits(z, fk.tensor([-1, 1, 1, 1])) == 0.75  # tanh output, ±1 labels
    assert accuracy.name == binary_accuracy_with_logits.name == "accuracy"
    with pytest.raises(fk.ShapeError, match="batch dimension"):
        accuracy(fk.tensor([0.5, 0.2]), fk.tensor([1.0, 0.0, 1.0]))


# ---------------------------------------------------------------------- progress bar
class FakeTTY(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_progress_bar_on_a_terminal_shows_epoch_loss_and_metrics(monkeypatch, tqdm_installed):
    if tqdm_installed:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    train, val = loaders()
    model = mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2)
    out = err.getvalue()
    assert "Epoch 1/2" in out and "Epoch 2/2" in out and "train loss" in out and "train acc" in out
    assert "val loss" in out and "val acc" in out and "val_accuracy" not in out
    assert out.count("\n") >= 2  # one finished line per epoch


def _segments(text):
    """The successive renderings of a carriage-return line, without the clear-to-end escape."""
    return [seg.replace("\x1b[K", "") for seg in text.replace("\n", "\r").split("\r") if seg]


_UPDATES = [{"loss": 2.302585, "accuracy": 0.1}, {"loss": 0.05, "accuracy": 0.9875},
            {"loss": 123.456789, "accuracy": 1.0}, {"loss": 1.5e-05, "accuracy": 0.0},
            {"loss": -0.25, "accuracy": 0.5}, {"loss": float("nan"), "accuracy": 0.5}]


@pytest.mark.parametrize("tqdm_installed", [True, False])
def test_the_progress_line_keeps_its_width_as_the_numbers_change(monkeypatch, tqdm_installed):
    if tqdm_installed:
        pytest.importorskip("tqdm")
    else:
        monkeypatch.setitem(sys.modules, "tqdm", None)
    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    bar = train_module._Progress("Epoch  3/12", 120)
    for n, logs in enumerate(_UPDATES * 2):  # 1 → 12 batches: the count gains digits too
        bar.last = 0.0  # redraw every update
        bar.update(logs)
        if bar.bar is not None:
            bar.bar.refresh()
    lines = _segments(err.getvalue())
    lines = [line for line in lines if "train loss" in line]
    assert len(lines) >= len(_UPDATES) * 2
    assert len({len(line) for line in lines}) == 1, lines
    # the columns stand still: every label at the same offset
    assert len({line.index("train acc") for line in lines}) == 1
    assert "train acc" in lines[0] and "accuracy" not in lines[0]


def test_fixed_width_values():
    for value in (0.0, 0.5, 2.302585, 99.5, 1234.5678, 12345678.0, 1e-05, -1e-05, -0.25, -123.5, 3e300, -3e-300,
                  float("nan"), float("inf"), float("-inf"), 1.0):
        assert len(train_module._fixed(value)) == 8, value
    assert train_module._fixed(0.5).strip() == "0.5000" and train_module._fixed(1.5e-5).strip() == "1.50e-05"
    assert float(train_module._fixed(12345678.0)) == pytest.approx(12345678.0, rel=1e-2)
    assert train_module._format_logs({"loss": 1.0, "accuracy": 0.5, "val_loss": 2.0, "val_f1": 0.25, "lr": 0.1,
                                      "time": 3.0}) == \
        "train loss   1.0000  train acc   0.5000  val loss   2.0000  val f1   0.2500"


def test_no_progress_output_when_quiet_or_not_a_terminal(capsys):
    train, _ = loaders()
    model = mlp()
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, epochs=1)  # stderr captured: no TTY
    fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, epochs=1, quiet=True)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------- errors
def test_fit_errors_name_the_problem():
    model = mlp()
    opt = optim.SGD(model.parameters(), lr=0.1)
    x, y = blobs(8)
    with pytest.raises(TypeError, match=r"pair \(inputs, target\)"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y, y)], quiet=True)
    with pytest.raises(fk.ShapeError, match="reduction='mean'"):
        fit(model, nn.CrossEntropyLoss(reduction="none"), opt, [(x, y)], quiet=True)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, nn.CrossEntropyLoss(), opt, [], quiet=True)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], epochs=-1)
    with pytest.raises(TypeError, match="list of Callbacks"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], callbacks=EarlyStopping())
    with pytest.raises(ValueError, match="name"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], metrics=[lambda o, t: 0.0])
    with pytest.raises(ValueError, match="used twice"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], metrics=[accuracy, binary_accuracy_with_logits])
    with pytest.raises(TypeError, match="fit: the checkpoint path must be a str"):
        fit(model, nn.CrossEntropyLoss(), opt, [(x, y)], checkpoint=b"run.pt")


# ---------------------------------------------------------------------- non-finite losses
def _diverging(lr=50.0, n=64):
    """Least squares with a step far beyond 2/L: the loss grows geometrically until it overflows float32."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-6, 6, (n, 2)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0]], dtype=np.float32))
    batches = [(fk.tensor(x[i:i + 8]), fk.tensor(y[i:i + 8])) for i in range(0, n, 8)]
    fk.manual_seed(0)
    model = nn.Linear(2, 1)
    return model, optim.SGD(model.parameters(), lr=lr), batches


def test_fit_stops_at_the_first_non_finite_loss_quietly_and_names_where():
    model, opt, batches = _diverging()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(train_module.NonFiniteLossError) as info:
            fit(model, nn.MSELoss(), opt, batches, epochs=5, metrics=(), quiet=True)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]
    exc = info.value
    assert isinstance(exc, FloatingPointError) and not math.isfinite(exc.loss)
    assert exc.batches == len(batches) and exc.lr == 50.0
    assert f"at epoch {exc.epoch + 1}/5, batch {exc.batch + 1}/{len(batches)}" in str(exc)
    assert "lower the learning rate" in str(exc)
    # oracle: the same steps by hand; the loss of that batch is the first that is not finite, and fit
    # stopped before its backward pass (the parameters are those after the previous batch)
    ref, ref_opt, _ = _diverging()
    with np.errstate(all="ignore"):
        for k in range(exc.epoch * len(batches) + exc.batch + 1):
            xb, yb = batches[k % len(batches)]
            ref_opt.zero_grad()
            loss = nn.MSELoss()(ref(xb), yb)
            if k == exc.epoch * len(batches) + exc.batch:
                assert not math.isfinite(loss.item())
                break
            assert math.isfinite(loss.item())
            loss.backward()
            ref_opt.step()
    for p, q in zip(model.parameters(), ref.parameters()):
        np.testing.assert_array_equal(p.data.numpy(), q.data.numpy())


def test_fit_can_train_on_through_a_non_finite_loss_and_keeps_a_raise_setting():
    model, opt, batches = _diverging()
    with np.errstate(all="ignore"):
        hist = fit(model, nn.MSELoss(), opt, batches, epochs=4, metrics=(), quiet=True, stop_on_nonfinite=False)
    assert not math.isfinite(hist.loss[-1])
    model, opt, batches = _diverging()
    with np.errstate(over="raise"), pytest.raises(FloatingPointError, match="overflow"):  # NumPy's own, as asked
        fit(model, nn.MSELoss(), opt, batches, epochs=5, metrics=(), quiet=True)


# ---------------------------------------------------------------------- interruption, extras, writer
def test_ctrl_c_mid_epoch_keeps_the_last_finished_epoch_and_the_resumed_run_is_exact(tmp_path, monkeypatch):
    def run(epochs, interrupt_at=None, seed=76, **kwargs):
        train, _ = loaders()
        model = mlp(0, dropout=0.2)
        fk.manual_seed(seed)
        opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=0.3, total_steps=4 * len(train))
        calls = [0]

        def loss_fn(out, target):
            calls[0] += 1
            if calls[0] == interrupt_at:
                raise KeyboardInterrupt  # Ctrl-C in the middle of a batch
            return nn.functional.cross_entropy(out, target)

        kwargs.setdefault("quiet", True)
        hist = fit(model, loss_fn, opt, train, epochs=epochs, scheduler=sched, scheduler_step="batch", **kwargs)
        return model, hist

    reference, ref_hist = run(4)
    path = tmp_path / "run.npz"
    err = FakeTTY()
    monkeypatch.setattr(sys, "stderr", err)
    with pytest.raises(KeyboardInterrupt):
        run(4, interrupt_at=12 * 2 + 5, checkpoint=path, quiet=False)  # the 5th batch of the 3rd epoch
    monkeypatch.undo()
    assert err.getvalue().endswith("\n")  # the bar's line was ended: a message after it starts its own
    assert fk.load(path)["epoch"] == 2
    resumed, hist = run(4, checkpoint=path, resume=True, seed=77)
    for p, q in zip(reference.parameters(), resumed.parameters()):
        np.testing.assert_array_equal(p.data.numpy(), q.data.numpy())
    assert hist.history["loss"] == ref_hist.history["loss"] and hist.lr == ref_hist.lr


def test_checkpoint_extra_is_stored_beside_fits_state(tmp_path):
    path = tmp_path / "c.npz"
    scripted_fit([3.0, 2.0], epochs=2, checkpoint=path, checkpoint_extra={"config": {"lr": 0.5, "sizes": [2, 3]}})
    state = fk.load(path)
    assert state["config"] == {"lr": 0.5, "sizes": [2, 3]} and state["epoch"] == 2
    model, hist = scripted_fit([3.0, 2.0, 1.0], epochs=3, checkpoint=path, resume=True,
                               checkpoint_extra={"config": {"lr": 0.5, "sizes": [2, 3]}})
    assert hist.epoch == [0, 1, 2] and fk.load(path)["config"]["sizes"] == [2, 3]
    with pytest.raises(ValueError, match=r"checkpoint_extra.*\['epoch'\]"):
        scripted_fit([1.0], epochs=1, checkpoint=path, checkpoint_extra={"epoch": 9})


class RecordingWriter:
    def __init__(self):
        self.scalars, self.flushes = [], 0

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, value, step))

    def flush(self):
        self.flushes += 1


def test_fit_logs_every_epoch_to_a_writer():
    train, val = loaders()
    model = mlp()
    writer = RecordingWriter()
    hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, val, epochs=3,
               quiet=True, writer=writer)
    expected = [(tag, hist.history[key][e], e) for e in range(3)
                for key, tag in (("loss", "loss/train"), ("accuracy", "accuracy/train"), ("val_loss", "loss/val"),
                                 ("val_accuracy", "accuracy/val"), ("lr", "lr"))]
    assert writer.scalars == expected and writer.flushes == 3
    with pytest.raises(TypeError, match="add_scalar"):
        fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, writer=object())


def test_fit_writes_tensorboard_event_files(tmp_path):
    pytest.importorskip("tensorboardX")
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    from fukaku.utils.tensorboard import SummaryWriter

    train, val = loaders()
    model = mlp()
    with SummaryWriter(tmp_path / "run") as writer:
        hist = fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), train, val, epochs=2,
                   quiet=True, writer=writer)
    events = event_accumulator.EventAccumulator(str(tmp_path / "run"))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {"loss/train", "accuracy/train", "loss/val", "accuracy/val", "lr"}
    logged = events.Scalars("loss/val")
    assert [e.step for e in logged] == [0, 1]
    assert [e.value for e in logged] == pytest.approx(hist.val_loss, rel=1e-6)  # stored as float32
