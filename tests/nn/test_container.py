"""ParameterList and ParameterDict against torch's: state-dict keys ("0", "1" / the dict's keys),
weights moving both ways, registration (an optimizer and ``.to`` see the entries), the list and
dict protocols, and the repr."""
from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn as nn
from conformance import assert_close, randn


class FkMixture(nn.Module):
    """A model whose weights live in a ParameterList and a ParameterDict."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ParameterList([fk.tensor(randn(3, 4, seed=1)), fk.tensor(randn(4, 2, seed=2))])
        self.scales = nn.ParameterDict({"out": fk.tensor(randn(2, seed=3)), "in": fk.tensor(randn(3, seed=4))})

    def forward(self, x):
        h = (x * self.scales["in"]) @ self.layers[0]
        return (h.tanh() @ self.layers[1]) * self.scales["out"]


class TorchMixture(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layers = torch.nn.ParameterList([torch.zeros(3, 4), torch.zeros(4, 2)])
        self.scales = torch.nn.ParameterDict({"out": torch.zeros(2), "in": torch.zeros(3)})

    forward = FkMixture.forward


def test_state_dict_keys_and_weights_move_both_ways():
    ours, theirs = FkMixture().double(), TorchMixture().double()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["layers.0", "layers.1", "scales.in", "scales.out"]
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()}, strict=True)
    x = randn(5, 3, seed=5)
    out_f, out_t = ours(fk.tensor(x)), theirs(torch.tensor(x))
    assert_close(out_f, out_t, np.float64, "forward")
    out_f.sum().backward()
    out_t.sum().backward()
    for (name, p), (name_t, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == name_t
        assert_close(p.grad, q.grad, np.float64, f"gradient of {name}")
    fresh = FkMixture()
    fresh.load_state_dict({k: v.detach().numpy() * 2 for k, v in theirs.state_dict().items()}, strict=True)
    np.testing.assert_allclose(fresh.layers[1].detach().numpy(), 2 * theirs.layers[1].detach().numpy(), rtol=1e-6)


def test_entries_are_registered_parameters():
    model = FkMixture()
    assert len(list(model.parameters())) == 4 and all(p.requires_grad for p in model.parameters())
    before = model.layers[0].detach().numpy().copy()
    opt = fk.optim.SGD(model.parameters(), lr=0.1)
    model(fk.randn(2, 3)).sum().backward()
    opt.step()
    assert not np.array_equal(model.layers[0].detach().numpy(), before)
    model.double()
    assert model.layers[1].dtype == fk.float64 and model.scales["out"].dtype == fk.float64


def test_parameter_list_protocol_like_torch():
    data = [randn(2, seed=i) for i in range(4)]
    ours = nn.ParameterList(fk.tensor(d) for d in data[:2])
    theirs = torch.nn.ParameterList(torch.tensor(d) for d in data[:2])
    ours.append(fk.tensor(data[2]))
    theirs.append(torch.tensor(data[2]))
    ours += [nn.Parameter(fk.tensor(data[3]), requires_grad=False)]
    theirs += [torch.nn.Parameter(torch.tensor(data[3]), requires_grad=False)]
    assert len(ours) == len(theirs) == 4
    assert all(isinstance(p, nn.Parameter) for p in ours)  # tensors are wrapped
    assert [p.requires_grad for p in ours] == [p.requires_grad for p in theirs] == [True, True, True, False]
    np.testing.assert_array_equal(ours[-1].detach().numpy(), data[3])
    tail = ours[1::2]
    assert isinstance(tail, nn.ParameterList) and len(tail) == 2 and tail[0] is ours[1]
    assert list(tail.state_dict()) == list(theirs[1::2].state_dict()) == ["0", "1"]
    ours[0] = fk.zeros(2)
    assert isinstance(ours[0], nn.Parameter) and not ours[0].detach().numpy().any()
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["0", "1", "2", "3"]
    with pytest.raises(IndexError, match="out of range"):
        ours[4]
    with pytest.raises(TypeError, match="iterable"):
        ours.extend(fk.zeros(2))
    with pytest.raises(RuntimeError, match="should not be called"):
        ours(fk.zeros(2))


def test_parameter_dict_protocol_like_torch():
    a, b, c = (randn(2, seed=i) for i in range(3))
    ours = nn.ParameterDict({"b": fk.tensor(b), "a": fk.tensor(a)})
    theirs = torch.nn.ParameterDict({"b": torch.tensor(b), "a": torch.tensor(a)})
    assert list(ours) == list(theirs) == ["a", "b"]  # a plain dict is inserted sorted, as torch does
    ordered = nn.ParameterDict(OrderedDict([("b", fk.tensor(b)), ("a", fk.tensor(a))]))
    assert list(ordered.keys()) == ["b", "a"]
    ours["c"] = fk.tensor(c)
    theirs["c"] = torch.tensor(c)
    assert isinstance(ours["c"], nn.Parameter) and "c" in ours and "z" not in ours
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["a", "b", "c"]
    assert ours.get("z") is None and ours.get("a") is ours["a"]
    assert ours.setdefault("a") is ours["a"]
    popped = ours.pop("b")
    theirs.pop("b")
    np.testing.assert_array_equal(popped.detach().numpy(), b)
    assert list(ours.keys()) == list(theirs.keys()) == ["a", "c"]
    key, _ = ours.popitem()
    assert key == theirs.popitem()[0] == "c"
    merged = ours | nn.ParameterDict({"d": fk.ones(1)})
    assert list(merged) == ["a", "d"] and list(ours) == ["a"]
    ours.update([("e", fk.ones(3))])
    assert list(ours.items())[1][0] == "e" and len(ours) == 2
    del ours["e"]
    assert list(ours.state_dict()) == ["a"]
    ours.clear()
    assert len(ours) == 0 and list(ours.state_dict()) == []
    with pytest.raises(KeyError):
        ours["missing"]
    with pytest.raises(TypeError, match="must be a string"):
        ours[1] = fk.ones(1)
    with pytest.raises(KeyError, match=r"contain \".\""):
        ours["a.b"] = fk.ones(1)
    with pytest.raises(ValueError, match="pair"):
        ours.update([("x", fk.ones(1), 3)])


def test_repr_lists_each_entry_like_torch():
    ours = nn.ParameterList([fk.zeros(3, 4), nn.Parameter(fk.ones(3))])
    theirs = torch.nn.ParameterList([torch.zeros(3, 4), torch.nn.Parameter(torch.ones(3))])
    assert repr(ours) == repr(theirs).replace("torch.", "fukaku.")
    assert repr(nn.ParameterList()) == repr(torch.nn.ParameterList()) == "ParameterList()"
    text = repr(nn.ParameterDict({"w": fk.zeros(2, 5)}))
    assert text == "ParameterDict(\n    (w): Parameter containing: [fukaku.float32 of size 2x5]\n)"
    assert "(layers): ParameterList(" in repr(FkMixture())
