"""Whole training steps on a device equal the same steps on the CPU, and never leave the device.

Each workload is built on the CPU, copied to ``'cuda'`` with ``model.to``, then trained for two steps
on both devices from the same weights and batches: the loss, every parameter and every optimizer
state tensor (but the host-side ``step`` counters) agree to float tolerance, and everything the
device run holds is on the device. The workloads: an MLP with Adam, a CNN (conv, pool, BatchNorm)
with SGD + Nesterov momentum, ResNet-20 with weight decay, a GPT-mini with AdamW and gradient
clipping, an LSTM classifier with RMSprop. Then GPT generation, and a checkpoint of a GPU model and
its optimizer saved and loaded back onto the GPU.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest

import fukaku as fk
import fukaku.nn.functional as F
from backends.devicecheck import TOL, host
from backends.standin import StandInCupy
from fukaku import nn
from fukaku.models.cnn import resnet20
from fukaku.models.transformer.gpt import GPT, GPTConfig


def _mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.GELU(), nn.Dropout(0.0), nn.Linear(16, 3))


def _cnn():
    return nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 4, 3), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(4, 3))


class _LSTMClassifier(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(11, 5)
        self.lstm = nn.LSTM(5, 6, batch_first=True)
        self.head = nn.Linear(6, 3)

    def forward(self, tokens):
        out, (h, _) = self.lstm(self.embed(tokens))
        return self.head(h[-1])


def _classification(make_input, classes: int = 3):
    rng = np.random.default_rng(0)
    return [(make_input(rng), rng.integers(0, classes, 4)) for _ in range(2)]


def _gpt_batches():
    rng = np.random.default_rng(0)
    return [(rng.integers(0, 17, (2, 8)), rng.integers(0, 17, (2, 8))) for _ in range(2)]


def _gpt_loss(model, x, y):
    logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))


WORKLOADS = {
    # name: (model factory, optimizer factory, batches, loss(model, x, y), clip)
    "MLP + Adam": (_mlp, lambda ps: fk.optim.Adam(ps, lr=1e-2),
                   _classification(lambda rng: rng.standard_normal((4, 6)).astype(np.float32)),
                   lambda m, x, y: F.cross_entropy(m(x), y), None),
    "CNN + SGD momentum": (_cnn, lambda ps: fk.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                           _classification(lambda rng: rng.standard_normal((4, 2, 10, 10)).astype(np.float32)),
                           lambda m, x, y: F.cross_entropy(m(x), y), None),
    "ResNet-20 + SGD weight decay": (lambda: resnet20(num_classes=3),
                                     lambda ps: fk.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=5e-4),
                                     _classification(lambda rng: rng.standard_normal((4, 3, 8, 8)).astype(np.float32)),
                                     lambda m, x, y: F.cross_entropy(m(x), y), None),
    "GPT-mini + AdamW + clipping": (lambda: GPT(GPTConfig(vocab_size=17, context_length=8, n_layer=2, n_head=2,
                                                          d_model=16)),
                                    lambda ps: fk.optim.AdamW(ps, lr=3e-3), _gpt_batches(), _gpt_loss, 1.0),
    "LSTM + RMSprop": (_LSTMClassifier, lambda ps: fk.optim.RMSprop(ps, lr=1e-2, momentum=0.5),
                       _classification(lambda rng: rng.integers(0, 11, (4, 7))),
                       lambda m, x, y: F.cross_entropy(m(x), y), None),
}


def _train(model, make_optimizer, batches, loss_fn, clip, device: str):
    """Two training steps on ``device``; the losses, the parameters and the optimizer's state tensors."""
    model.to(device).train()
    optimizer = make_optimizer(model.parameters())
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = loss_fn(model, fk.tensor(x, device=device), fk.tensor(y, device=device))
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        losses.append(loss)
    # the 'step' counters stay on the host, as PyTorch keeps them (updates read them as Python floats)
    states = [t for s in optimizer.state.values() for k, t in s.items() if isinstance(t, fk.Tensor) and k != "step"]
    return losses, list(model.state_dict().values()), states


@pytest.mark.parametrize("name", list(WORKLOADS))
def test_training_steps_on_device_equal_cpu(cuda, name):
    make_model, make_optimizer, batches, loss_fn, clip = WORKLOADS[name]
    fk.manual_seed(0)
    model = make_model()
    twin = copy.deepcopy(model)
    want = _train(model, make_optimizer, batches, loss_fn, clip, "cpu")
    transfers = StandInCupy.implicit_transfers
    got = _train(twin, make_optimizer, batches, loss_fn, clip, cuda)
    # on the stand-in: no host array was copied in behind the ops' backs (an index or a value made on the host)
    assert StandInCupy.implicit_transfers == transfers, f"{name}: host arrays were copied to the device mid-step"
    for kind, got_tensors, want_tensors in zip(("loss", "parameter or buffer", "optimizer state"), got, want):
        assert len(got_tensors) == len(want_tensors) > 0
        for i, (g, w) in enumerate(zip(got_tensors, want_tensors)):
            assert g.device.type == "cuda", f"{name}: {kind} {i} left the device ({g.device})"
            g, w = host(g), host(w)
            np.testing.assert_allclose(g, w, **TOL.get(w.dtype, dict(rtol=0, atol=0)), err_msg=f"{name}: {kind} {i}")


def test_a_gpu_checkpoint_saves_from_and_loads_onto_the_gpu(cuda, tmp_path):
    fk.manual_seed(0)
    model = _cnn().to(cuda)
    model(fk.randn(2, 2, 10, 10, device=cuda)).sum().backward()  # BatchNorm's running stats move
    optimizer = fk.optim.Adam(model.parameters())
    optimizer.step()
    fk.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.pt")

    on_host = fk.load(tmp_path / "ckpt.pt")
    on_gpu = fk.load(tmp_path / "ckpt.pt", map_location=cuda)
    assert all(t.device.type == "cpu" for t in on_host["model"].values())
    assert all(t.device.type == "cuda" for t in on_gpu["model"].values())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(host(on_host["model"][key]), host(value))
        np.testing.assert_array_equal(host(on_gpu["model"][key]), host(value))

    restored = _cnn().to(cuda)
    restored.load_state_dict(on_host["model"])  # host values copied into GPU parameters: they stay there
    assert all(p.device.type == "cuda" for p in restored.state_dict().values())
    resumed = fk.optim.Adam(restored.parameters())
    resumed.load_state_dict(on_host["optimizer"])  # moment estimates go where their parameters are
    for state, want in zip(resumed.state.values(), optimizer.state.values()):
        assert state["exp_avg"].device.type == "cuda"
        np.testing.assert_array_equal(host(state["exp_avg_sq"]), host(want["exp_avg_sq"]))
    x = fk.randn(2, 2, 10, 10, device=cuda)
    model.eval(), restored.eval()
    np.testing.assert_array_equal(host(restored(x)), host(model(x)))


@pytest.mark.parametrize("use_cache", [True, False], ids=["kv-cache", "full"])
def test_gpt_greedy_generation_on_device_equals_cpu(cuda, use_cache):
    fk.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=13, context_length=12, n_layer=2, n_head=2, d_model=16)).eval()
    prompt = fk.tensor([[1, 5, 2], [7, 7, 0]])
    want = model.generate(prompt, 6, temperature=0, use_cache=use_cache)
    got = model.to(cuda).generate(prompt.to(cuda), 6, temperature=0, use_cache=use_cache)
    assert got.device.type == "cuda" and got.tolist() == want.tolist()
