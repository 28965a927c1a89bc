"""fukaku.nn.parallel: DataParallel and data_parallel as PyTorch's behave on a machine without GPUs."""
import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.nn.parallel import DataParallel, data_parallel


def twin_models():
    """The same MLP in fukaku and in torch (torch's initial weights copied into fukaku's)."""
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    model.load_state_dict({k: fk.tensor(v.numpy()) for k, v in tmodel.state_dict().items()})
    return model, tmodel


@pytest.mark.parametrize("device_ids", [None, [0], [0, 1]])
def test_data_parallel_runs_the_module_as_torch_does_without_gpus(device_ids):
    model, tmodel = twin_models()
    dp = DataParallel(model, device_ids=device_ids, output_device=0 if device_ids else None)
    tdp = torch.nn.DataParallel(tmodel, device_ids=device_ids, output_device=0 if device_ids else None)
    assert dp.module is model and tdp.module is tmodel
    assert dp.device_ids == tdp.device_ids == []
    assert list(dp.state_dict()) == list(tdp.state_dict()) == [f"module.{k}" for k in tmodel.state_dict()]
    assert [n for n, _ in dp.named_parameters()] == [n for n, _ in tdp.named_parameters()]
    x = np.random.default_rng(1).standard_normal((6, 4)).astype(np.float32)
    out, tout = dp(fk.tensor(x)), tdp(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-5, atol=1e-6)
    out.sum().backward()
    tout.sum().backward()
    for p, tp in zip(dp.parameters(), tdp.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_state_dicts_move_between_torch_and_fukaku_data_parallel():
    model, tmodel = twin_models()
    tdp = torch.nn.DataParallel(tmodel)
    dp = DataParallel(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)))
    dp.load_state_dict({k: fk.tensor(v.numpy()) for k, v in tdp.state_dict().items()})  # strict: same keys
    x = np.random.default_rng(2).standard_normal((3, 4)).astype(np.float32)
    np.testing.assert_allclose(dp(fk.tensor(x)).detach().numpy(), tdp(torch.from_numpy(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    plain = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3))
    plain.load_state_dict(dp.module.state_dict())  # unwrapped, the keys lose their prefix
    assert repr(dp).startswith("DataParallel(\n  (module): Sequential(")


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)

    def forward(self, a, b, scale=1.0):
        return self.lin(a) * scale + b


def test_positional_and_keyword_inputs_reach_the_module():
    module = TwoInputs()
    a, b = fk.randn(3, 2), fk.randn(3, 2)
    expected = module(a, b, scale=2.0).detach().numpy()
    np.testing.assert_array_equal(DataParallel(module)(a, b, scale=2.0).detach().numpy(), expected)
    np.testing.assert_array_equal(data_parallel(module, (a, b), module_kwargs={"scale": 2.0}).detach().numpy(),
                                  expected)


def test_functional_data_parallel_evaluates_the_module():
    model, tmodel = twin_models()
    x = np.random.default_rng(3).standard_normal((5, 4)).astype(np.float32)
    out = data_parallel(model, fk.tensor(x), device_ids=[0, 1], output_device=0)
    # torch's data_parallel raises "device type could not be determined" without an accelerator;
    # what it computes where it runs is module(input)
    np.testing.assert_allclose(out.detach().numpy(), tmodel(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


class NoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(fk.ones(2))

    def forward(self):
        return self.w * 2


def test_inputs_none_calls_the_module_without_arguments():
    module = NoInputs()
    assert data_parallel(module, None).tolist() == [2.0, 2.0]
    assert DataParallel(module)().tolist() == [2.0, 2.0]


def test_a_wrapped_model_trains_and_switches_modes():
    model, _ = twin_models()
    dp = DataParallel(model)
    opt = fk.optim.SGD(dp.parameters(), lr=0.1)
    x, y = fk.randn(8, 4), fk.randint(0, 3, (8,))
    losses = []
    for _ in range(5):
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(dp(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    dp.eval()
    assert not model.training and not model[0].training


def test_module_must_be_a_module_and_the_package_is_reachable_as_in_torch():
    with pytest.raises(TypeError, match="DataParallel: module must be a fukaku.nn.Module"):
        DataParallel(lambda x: x)
    assert fk.nn.DataParallel is DataParallel and fk.nn.parallel.data_parallel is data_parallel
    from fukaku.nn.parallel.distributed import DistributedDataParallel  # torch.nn.parallel's too (docs/distributed.md)
    assert fk.nn.parallel.DistributedDataParallel is DistributedDataParallel
