"""Every discovered experiment runs in quick mode and its claim holds, each check with it (a new experiment is
tested here without editing anything); some are tested more deeply: their measuring code agrees with
PyTorch, and a broken component turns the verdict to "does not hold" through the check it breaks (the
verdicts are computed, not written in)."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import datasets, nn, train
from fukaku.lab import plotting, registry, runner
from fukaku.lab.experiments.deep_nets import dead_relu, vanishing_gradients
from fukaku.lab.experiments.playground import exercise as playground
from fukaku.lab.registry import Context


@pytest.mark.parametrize("exp_id", list(registry.discover()))
def test_experiment_holds_in_quick_mode(exp_id, quick_runs):
    outcome = quick_runs(exp_id)
    if outcome.status == "error" and outcome.error.rstrip().splitlines()[-1].startswith("ImportError"):
        pytest.skip(f"{exp_id} needs an optional package: {outcome.headline}")  # e.g. scikit-learn as its oracle
    assert outcome.error is None, outcome.error
    failed = [runner.describe_check(c) for c in outcome.checks if not c["holds"]]
    assert outcome.status == "holds" and outcome.checks and not failed, (failed, outcome.summary)
    assert outcome.measured and outcome.summary and outcome.headline
    assert not outcome.headline.endswith("…"), f"the summary's first sentence is over 90 characters: {outcome.summary}"
    assert outcome.warnings == []
    for figure in outcome.figures:
        assert (quick_runs.out_dir / figure).stat().st_size > 1000
    if plotting.available():
        assert outcome.figures


def _numbers(value) -> list[float]:
    """Every number inside a measured value (nested dicts/lists)."""
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    if isinstance(value, (list, tuple)):
        return [x for v in value for x in _numbers(v)]
    if isinstance(value, (bool, str)) or value is None:
        return []
    return [float(value)]


# id -> measured values that must be finite numbers (the numbers the checks compare come from them)
KEY_MEASUREMENTS = {
    "vanishing-gradients": ["first/last layer gradient norm", "per-layer factor toward the input",
                            "max/min across layers", "min layer / output layer", "log10 gradient norm per layer"],
    "dead-relu": ["ReLU", "LeakyReLU(0.01)", "PReLU (per unit, a₀ = 0.25)"],
    "dropout-batchnorm-layernorm": ["dropout: max |z| of the mean over masks", "dropout eval: max |out − in|",
                                    "BatchNorm: max |batch mean|", "BatchNorm: max |batch var − 1|",
                                    "LayerNorm: max change of x₀'s output across batches",
                                    "BatchNorm (train): max change of x₀'s output across batches"],
    "weight-decay-early-stopping": ["parameter norm ‖θ‖", "test MSE", "validation MSE of the returned model",
                                    "minimum of the recorded validation curve", "best epoch"],
    "playground": ["best test loss over seeds", "median test loss over seeds", "test loss of every run",
                   "training loss (median over seeds)"],
}


@pytest.mark.parametrize("exp_id", list(KEY_MEASUREMENTS))
def test_key_measurements_are_finite_numbers(exp_id, quick_runs):
    measured = quick_runs(exp_id).measured
    for key in KEY_MEASUREMENTS[exp_id]:
        numbers = _numbers(measured[key])
        assert numbers and all(math.isfinite(x) for x in numbers), key


def _run(exp_id: str, tmp_path, seed: int = 0) -> runner.Outcome:
    return runner.run_one(registry.discover()[exp_id], Context(out_dir=tmp_path, quick=True, seed=seed))


def _failed(outcome: runner.Outcome) -> list[str]:
    return [c["name"] for c in outcome.checks if not c["holds"]]


# ------------------------------------------------------------------------------ measurements vs PyTorch
class _TorchResidual(torch.nn.Module):
    def __init__(self, fn: torch.nn.Module) -> None:
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return x + self.fn(x)


def _to_torch(module: nn.Module) -> torch.nn.Module:
    """The same network in PyTorch, float64, with fukaku's parameter values."""
    if isinstance(module, nn.Sequential):
        return torch.nn.Sequential(*(_to_torch(m) for m in module))
    if isinstance(module, nn.Residual):
        return _TorchResidual(_to_torch(module.fn))
    if isinstance(module, nn.Linear):
        layer = torch.nn.Linear(module.in_features, module.out_features, dtype=torch.float64)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(module.weight.detach().numpy().astype(np.float64)))
            layer.bias.copy_(torch.from_numpy(module.bias.detach().numpy().astype(np.float64)))
        return layer
    if isinstance(module, nn.BatchNorm1d):
        return torch.nn.BatchNorm1d(module.num_features, eps=module.eps, dtype=torch.float64)
    simple = {nn.Sigmoid: torch.nn.Sigmoid, nn.Tanh: torch.nn.Tanh, nn.ReLU: torch.nn.ReLU}
    return simple[type(module)]()


@pytest.mark.parametrize("experiment, stated", [
    (vanishing_gradients.VanishingGradients, [f"{vanishing_gradients.DEPTH}-layer MLP"]),
    (dead_relu.DeadRelu, [f"large negative bias ({dead_relu.DEAD_BIAS:g})".replace("-", "−")]),
    (playground.PlaygroundExercise, [f"lr {playground.LR}, batch {playground.BATCH}",
                                     f"test loss ≥ {playground.LINEAR_FLOOR}",
                                     f"test loss ≤ 1/{playground.NONLINEAR_FACTOR:g} of the best linear one",
                                     f"(≤ {playground.SPIRAL_LEVEL};"]),
])
def test_a_docstring_claim_states_the_constants_its_checks_use(experiment, stated):
    for text in stated:  # the claim is a docstring, so it cannot interpolate them: a change must edit both
        assert text in f"{experiment.title} {experiment.claim}", (text, experiment.claim)


@pytest.fixture
def float64_default():
    """float64 throughout: the large-init tanh net is chaotic and would amplify float32 rounding."""
    previous = fk.get_default_dtype()
    fk.set_default_dtype(fk.float64)
    yield
    fk.set_default_dtype(previous)


@pytest.mark.parametrize("name", [vanishing_gradients.SIGMOID, "ReLU + BatchNorm", "ReLU, residual",
                                  vanishing_gradients.LARGE])
def test_layer_gradient_norms_match_torch(name, float64_default):
    width, batch, seed = 12, 24, 3
    build = vanishing_gradients.NETWORKS[name]
    ours = vanishing_gradients.layer_gradient_norms(build, width, batch, seed)
    fk.manual_seed(seed)  # the same draws as inside layer_gradient_norms: the same weights and data
    model, _ = build(width)
    reference = _to_torch(model)
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((batch, width)))
    r = torch.from_numpy(rng.standard_normal((batch, width)))
    ((reference(x) * r).sum() / batch).backward()
    linears = [m for m in reference.modules() if isinstance(m, torch.nn.Linear)]
    theirs = np.array([m.weight.grad.norm().item() for m in linears])
    assert len(ours) == vanishing_gradients.DEPTH == len(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-8)


def test_zero_gradient_units_are_the_units_negative_on_all_data():
    x, y = datasets.classify_circle(100, seed=1)
    target = (y > 0).float().reshape(-1, 1)
    fk.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, dead_relu.HIDDEN), nn.ReLU(), nn.Linear(dead_relu.HIDDEN, 1))
    nn.init.constant_(model[0].bias, -2.0)  # some units dead, some alive
    grads = dead_relu.hidden_unit_gradients(model, nn.BCEWithLogitsLoss(), x, target)
    reference = _to_torch(model)
    xt = torch.from_numpy(x.numpy().astype(np.float64))
    torch.nn.functional.binary_cross_entropy_with_logits(reference(xt), torch.from_numpy(
        target.numpy().astype(np.float64))).backward()
    hidden = reference[0]
    torch_grads = hidden.weight.grad.abs().sum(1) + hidden.bias.grad.abs()
    negative_everywhere = ~(hidden(xt) > 0).any(0)
    assert 0 < (grads == 0).sum() < dead_relu.HIDDEN
    np.testing.assert_array_equal(grads == 0, (torch_grads == 0).numpy())
    np.testing.assert_array_equal(grads == 0, negative_everywhere.numpy())
    np.testing.assert_allclose(grads, torch_grads.numpy(), rtol=1e-4, atol=1e-7)


def test_playground_loss_and_network_match_torch():
    fk.manual_seed(5)
    model = playground.playground_net([4, 3], "tanh")
    for layer in model:
        if isinstance(layer, nn.Linear):  # the Playground's initialisation
            w = layer.weight.detach().numpy()
            assert np.all(np.abs(w) <= 0.5) and np.all(layer.bias.detach().numpy() == np.float32(0.1))
    x, y, _, _ = datasets.playground("circle", n=40, seed=2)
    out = model(x)
    loss = playground.half_squared_error(out, y.reshape(-1, 1))
    reference = torch.nn.Sequential(*(_to_torch(m) for m in model))
    xt = torch.from_numpy(x.numpy().astype(np.float64))
    expected = 0.5 * ((reference(xt)[:, 0] - torch.from_numpy(y.numpy().astype(np.float64))) ** 2).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    linear = playground.playground_net([4], "linear")
    assert not any(isinstance(m, (nn.Tanh, nn.ReLU, nn.Sigmoid)) for m in list(linear)[:-1])


# ------------------------------------------------------------------------------ verdicts follow the measurements
def test_a_softmax_off_by_a_little_fails_the_comparison_with_the_printed_values(tmp_path, monkeypatch):
    """Logits scaled by 1.001 must fail the 1e-8 comparison with seed 003's printed values."""
    import fukaku.nn.functional as F

    real = F.softmax
    monkeypatch.setattr(F, "softmax", lambda x, dim=None: real(x * 1.001, dim=dim))
    outcome = _run("softmax-demo", tmp_path)
    assert outcome.status == "does not hold"
    assert outcome.measured["max relative error vs printed"] > 1e-3
    assert _failed(outcome) == ["max relative error vs the printed values"]


class _DropoutWithoutRescaling(nn.Module):
    """A broken dropout: zeroes with probability p but does not scale the survivors by 1/(1 − p)."""

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training:
            return x
        keep = fk.rand(*x.shape) >= self.p
        return x * keep.float()


def test_dropout_without_rescaling_does_not_hold(tmp_path, monkeypatch):
    monkeypatch.setattr(nn, "Dropout", _DropoutWithoutRescaling)
    outcome = _run("dropout-batchnorm-layernorm", tmp_path)
    assert outcome.status == "does not hold"
    assert max(outcome.measured["dropout: max |z| of the mean over masks"].values()) > 5 * outcome.measured[
        "dropout: z bound (Bonferroni, false-alarm 1e-3)"]
    assert "dropout: max |z| of the mean over masks vs E[h̃] = h" in _failed(outcome)
    assert "dropout: max relative error of survivors vs h/(1 − p)" in _failed(outcome)


def test_a_moderate_init_does_not_explode(tmp_path, monkeypatch):
    monkeypatch.setattr(vanishing_gradients, "LARGE_INIT_STD", 1.0)  # the "large" init becomes LeCun's
    outcome = _run("vanishing-gradients", tmp_path)
    assert outcome.status == "does not hold"
    assert _failed(outcome) == ["large init: first/last layer gradient norm"]


def test_early_stopping_without_restoring_does_not_hold(tmp_path, monkeypatch):
    class KeepsTheLastWeights(train.EarlyStopping):
        def __init__(self, patience: int = 5, **kwargs) -> None:
            super().__init__(patience, **{**kwargs, "restore_best": False})

    monkeypatch.setattr(train, "EarlyStopping", KeepsTheLastWeights)
    outcome = _run("weight-decay-early-stopping", tmp_path)
    assert outcome.status == "does not hold"
    assert outcome.measured["validation MSE of the returned model"] > outcome.measured[
        "minimum of the recorded validation curve"]
    assert "|validation MSE of the returned model − the curve's minimum|" in _failed(outcome)
