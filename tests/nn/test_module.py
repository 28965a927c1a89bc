"""nn.Module: registration, traversal, modes, state dicts (PyTorch's keys) and their validation."""
import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(3, 4)
        self.bn = nn.BatchNorm1d(4)
        self.scale = nn.Parameter(fk.ones(4))
        self.register_buffer("steps", fk.zeros(1))
        self.register_buffer("cache", fk.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


class TorchBlock(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = torch.nn.Linear(3, 4)
        self.bn = torch.nn.BatchNorm1d(4)
        self.scale = torch.nn.Parameter(torch.ones(4))
        self.register_buffer("steps", torch.zeros(1))
        self.register_buffer("cache", torch.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def _model():
    return nn.Sequential(Block(), nn.ReLU(), nn.Linear(4, 2))


def test_state_dict_keys_match_torch_and_weights_move_both_ways():
    ours = _model()
    theirs = torch.nn.Sequential(TorchBlock(), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({k: fk.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(fk.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})


def test_parameters_children_modules_and_counts():
    m = _model()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["0.scale", "0.fc.weight", "0.fc.bias", "0.bn.weight", "0.bn.bias", "2.weight", "2.bias"]
    assert len(list(m.children())) == 3 and len(list(m.modules())) == 6
    assert m.num_parameters() == 4 + 12 + 4 + 4 + 4 + 8 + 2
    assert "params in all" in repr(m)
    assert [n for n, _ in m.named_buffers()] == ["0.steps", "0.cache", "0.bn.running_mean", "0.bn.running_var",
                                                 "0.bn.num_batches_tracked"]


def test_train_eval_zero_grad_apply():
    m = _model()
    assert all(mod.training for mod in m.modules())
    m.eval()
    assert not any(mod.training for mod in m.modules())
    m.train()
    m(fk.randn(6, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen[-1] == "Sequential" and "Linear" in seen


def test_shared_parameter_is_listed_once():
    lin = nn.Linear(2, 2)
    m = nn.Sequential(lin, lin)
    assert len(list(m.parameters())) == 2


@pytest.mark.parametrize("change, words", [
    (lambda sd: sd.pop("2.bias"), ["Missing key", "2.bias"]),
    (lambda sd: sd.__setitem__("extra.weight", fk.zeros(1)), ["Unexpected key", "extra.weight"]),
    (lambda sd: sd.__setitem__("2.weight", fk.zeros(3, 4)), ["size mismatch for 2.weight", "(3, 4)", "(2, 4)"]),
])
def test_bad_state_dict_names_the_key_and_leaves_the_module_untouched(change, words):
    m = _model()
    before = {k: v.numpy().copy() for k, v in m.state_dict().items()}
    sd = {k: fk.tensor(v.numpy() + 1.0) for k, v in _model().state_dict().items()}
    change(sd)
    with pytest.raises(fk.StateDictError) as err:
        m.load_state_dict(sd)
    for w in words:
        assert w in str(err.value)
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_non_strict_load_reports_missing_and_unexpected():
    m = _model()
    sd = m.state_dict()
    sd.pop("2.bias")
    sd["other"] = fk.zeros(1)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["2.bias"] and result.unexpected_keys == ["other"]


def test_assigning_a_plain_tensor_to_a_parameter_slot_is_refused():
    lin = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="Parameter"):
        lin.weight = fk.zeros(2, 2)
    with pytest.raises(AttributeError, match="super"):
        class Broken(nn.Module):
            def __init__(self):
                self.w = nn.Parameter(fk.zeros(1))
        Broken()


def test_repr_of_a_layer_with_a_num_parameters_setting():
    # PReLU's num_parameters (PyTorch's setting) shadows Module.num_parameters(): repr must not call it
    model = nn.Sequential(nn.Linear(2, 3), nn.PReLU(3))
    assert repr(model).endswith(")  # 12 params in all") and "PReLU(num_parameters=3)  # 3 params" in repr(model)
