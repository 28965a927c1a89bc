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


def _other_state_dict():
    """A valid state dict for ``_model()`` in which every value differs from a fresh model's: each entry
    is ``value + 1`` in the entry's own dtype, so that a refused load is refused for the reason the
    test names, not for a cast."""
    sd = {k: fk.tensor(v.numpy() + np.ones((), v.numpy().dtype)) for k, v in _model().state_dict().items()}
    assert {k: v.dtype for k, v in sd.items()} == {k: v.dtype for k, v in _model().state_dict().items()}
    return sd


def _snapshot(m):
    return {k: v.numpy().copy() for k, v in m.state_dict().items()}


def _assert_state(m, expected):
    state = m.state_dict()
    assert list(state) == list(expected)
    for k, v in state.items():
        np.testing.assert_array_equal(v.numpy(), expected[k], err_msg=k)
        assert v.numpy().dtype == expected[k].dtype, k


def test_a_valid_state_dict_loads_every_value():
    # the precondition of the tests below: their "good" dict is accepted, so a refusal there is the change's doing
    m = _model()
    sd = _other_state_dict()
    result = m.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    _assert_state(m, {k: v.numpy() for k, v in sd.items()})
    assert m[0].bn.num_batches_tracked.item() == 1 and m[0].bn.num_batches_tracked.dtype == fk.int64


@pytest.mark.parametrize("change, words", [
    (lambda sd: sd.pop("2.bias"), ["Missing key", "2.bias"]),
    (lambda sd: sd.__setitem__("extra.weight", fk.zeros(1)), ["Unexpected key", "extra.weight"]),
    (lambda sd: (sd.pop("0.bn.running_var"), sd.__setitem__("extra", fk.zeros(1))),
     ["Missing key", "0.bn.running_var", "Unexpected key", "extra"]),
    (lambda sd: sd.__setitem__("2.weight", fk.zeros(3, 4)), ["size mismatch for 2.weight", "(3, 4)", "(2, 4)"]),
    (lambda sd: sd.__setitem__("0.fc.weight", fk.zeros(3)), ["size mismatch for 0.fc.weight", "(3,)", "(4, 3)"]),
], ids=["missing", "unexpected", "missing_and_unexpected", "size_last", "size_first"])
def test_bad_state_dict_names_the_key_and_leaves_the_module_untouched(change, words):
    m = _model()
    before = _snapshot(m)
    sd = _other_state_dict()  # valid: any copy made before the refusal would show in every entry
    change(sd)
    with pytest.raises(fk.StateDictError) as err:
        m.load_state_dict(sd)
    for w in words:
        assert w in str(err.value)
    _assert_state(m, before)


def test_size_mismatch_is_refused_also_without_strict_and_changes_nothing():
    m = _model()
    before = _snapshot(m)
    sd = _other_state_dict()
    sd.pop("2.bias")
    sd["2.weight"] = fk.zeros(3, 4)
    with pytest.raises(fk.StateDictError, match="size mismatch for 2.weight"):
        m.load_state_dict(sd, strict=False)
    _assert_state(m, before)


def test_non_strict_load_copies_what_matches_and_reports_missing_and_unexpected():
    m = _model()
    before = _snapshot(m)
    sd = _other_state_dict()
    new = {k: v.numpy() for k, v in sd.items()}
    sd.pop("2.bias")
    sd.pop("0.bn.running_mean")
    sd["other"] = fk.zeros(1)
    sd["0.fc.extra"] = fk.zeros(2)
    result = m.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["0.bn.running_mean", "2.bias"]
    assert result.unexpected_keys == ["other", "0.fc.extra"]
    expected = {k: before[k] if k in ("2.bias", "0.bn.running_mean") else new[k] for k in before}
    _assert_state(m, expected)
    # the lists and their order are torch's: the module's order (missing), the dict's (unexpected)
    theirs = torch.nn.Sequential(TorchBlock(), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    tsd = {k: torch.from_numpy(v.numpy().copy()) for k, v in sd.items()}
    tresult = theirs.load_state_dict(tsd, strict=False)
    assert result.missing_keys == tresult.missing_keys and result.unexpected_keys == tresult.unexpected_keys


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


def test_values_of_another_numeric_dtype_are_cast_as_torch_copy_does():
    state = {k: v.double() for k, v in _other_state_dict().items()}  # num_batches_tracked becomes float64
    ours = _model()
    theirs = torch.nn.Sequential(TorchBlock(), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    ours.load_state_dict(state)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in state.items()})
    for key, value in theirs.state_dict().items():
        assert ours.state_dict()[key].dtype == getattr(fk, str(value.dtype).removeprefix("torch."))
        np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy())
    with pytest.raises(fk.StateDictError, match="not numeric"):
        ours.load_state_dict({**state, "0.scale": np.array(["a", "b", "c", "d"])})
