"""fukaku.models.energy.DBN: its forward pass and gradients against the same sigmoid network in PyTorch (same
weights), greedy pretraining that feeds each RBM the hidden probabilities of the one below, fine-tuning that
lowers the loss, and argument errors."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn, optim
from fukaku.models.energy import DBN, RBM


def torch_forward(dbn, x):
    h = torch.tensor(x, dtype=torch.float64)
    params = []
    for rbm in dbn.rbms:
        w = torch.tensor(rbm.weight.detach().numpy(), dtype=torch.float64, requires_grad=True)
        c = torch.tensor(rbm.hidden_bias.detach().numpy(), dtype=torch.float64, requires_grad=True)
        params += [w, c]
        h = torch.sigmoid(h @ w + c)
    hw = torch.tensor(dbn.head.weight.detach().numpy(), dtype=torch.float64, requires_grad=True)
    hb = torch.tensor(dbn.head.bias.detach().numpy(), dtype=torch.float64, requires_grad=True)
    return h @ hw.T + hb, params + [hw, hb]


def test_forward_and_gradients_match_pytorch():
    dbn = DBN([6, 5, 4], 3, init_std=0.5, generator=fk.Generator().manual_seed(0))
    x = np.random.default_rng(0).random((7, 6)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0])
    out = dbn(fk.tensor(x))
    want, params = torch_forward(dbn, x)
    np.testing.assert_allclose(out.detach().numpy(), want.detach().numpy(), atol=1e-5)
    nn.functional.cross_entropy(out, fk.tensor(y)).backward()
    torch.nn.functional.cross_entropy(want, torch.tensor(y)).backward()
    got = [t.grad.numpy() for rbm in dbn.rbms for t in (rbm.weight, rbm.hidden_bias)] + \
        [dbn.head.weight.grad.numpy(), dbn.head.bias.grad.numpy()]
    for g, p in zip(got, params):
        np.testing.assert_allclose(g, p.grad.numpy(), atol=1e-5)
    assert tuple(dbn.features(fk.tensor(x)).shape) == (7, 4)


def test_pretraining_is_greedy_on_the_hidden_probabilities_below(monkeypatch):
    seen = {}
    original = RBM.cd_step

    def recording(self, v, *args, **kwargs):
        seen.setdefault(id(self), []).append(v.numpy().copy())
        return original(self, v, *args, **kwargs)

    monkeypatch.setattr(RBM, "cd_step", recording)
    data = (np.random.default_rng(1).random((30, 8)) < 0.4).astype(np.float32)
    dbn = DBN([8, 6, 4], 2, init_std=0.3, generator=fk.Generator().manual_seed(1))
    history = dbn.pretrain(fk.tensor(data), epochs=2, batch_size=10, generator=fk.Generator().manual_seed(2))
    assert [len(h) for h in history] == [2, 2]
    first, second = (np.concatenate(seen[id(r)]) for r in dbn.rbms)
    assert first.shape == (60, 8) and second.shape == (60, 6)
    below = dbn.rbms[0].hidden_probs(fk.tensor(data)).detach().numpy()    # layer 1 is not touched after its turn
    rows = {tuple(np.round(r, 5)) for r in below}
    assert all(tuple(np.round(r, 5)) in rows for r in second)
    assert sorted(map(tuple, first[:30])) == sorted(map(tuple, data))    # one epoch = each digit once


def test_pretraining_and_fine_tuning_learn():
    rng = np.random.default_rng(0)
    protos = (rng.random((4, 20)) < 0.5).astype(np.float32)
    labels = rng.integers(0, 4, 200)
    x = np.where(rng.random((200, 20)) < 0.05, 1 - protos[labels], protos[labels]).astype(np.float32)
    dbn = DBN([20, 12, 8], 4, init_std=0.05, generator=fk.Generator().manual_seed(0))
    history = dbn.pretrain(fk.tensor(x), epochs=15, lr=0.1, generator=fk.Generator().manual_seed(0))
    assert history[0][-1] < 0.7 * history[0][0]
    opt = optim.Adam(dbn.parameters(), lr=0.05)
    xt, yt = fk.tensor(x), fk.tensor(labels)
    losses = []
    for _ in range(100):
        loss = nn.functional.cross_entropy(dbn(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    assert (dbn(xt).argmax(1).numpy() == labels).mean() > 0.95


@pytest.mark.parametrize("call, match", [
    (lambda: DBN([10], 2), "layer_sizes"),
    (lambda: DBN([10, 0], 2), "layer_sizes"),
    (lambda: DBN([10, 5], 0), "num_classes"),
    (lambda: DBN([10, 5], 2).pretrain(fk.zeros(4, 9)), r"\(batch, 10\)"),
    (lambda: DBN([10, 5], 2).pretrain(fk.zeros(4, 10), epochs=0), "epochs"),
    (lambda: DBN([10, 5], 2).pretrain(fk.zeros(4, 10), batch_size=0), "batch_size"),
])
def test_bad_arguments_are_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
