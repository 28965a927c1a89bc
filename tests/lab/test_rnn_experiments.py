"""The measuring code of the recurrent lab experiments (memory, gradients through time, the LSTM's two forms, the
GRU's parameters) against independent oracles: PyTorch with the same weights, closed forms. (Each experiment's
quick run and its verdict are tested in test_experiments; the checks here also show that a broken measurement
turns a verdict.)"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import nn
from fukaku.ops._parallel import blas_threads
from fukaku.lab.experiments.recurrent import _memory, adding_copy_tasks, exploding_gradients, gradient_decay, \
    gru_vs_lstm, lstm_two_forms
from fukaku.lab.registry import Context

RECURRENT = ["adding-copy-tasks", "gradient-decay", "exploding-gradients", "gru-vs-lstm", "lstm-two-forms"]


def _seed004_weights(rng, inputs: int, hidden: int) -> tuple[dict, dict, dict]:
    draw = lambda *shape: fk.tensor(rng.uniform(-0.8, 0.8, shape), dtype=fk.float64)  # noqa: E731
    gates = lstm_two_forms.GATES
    return ({g: draw(hidden, inputs) for g in gates}, {g: draw(hidden, hidden) for g in gates},
            {g: draw(hidden) for g in gates})


def _torch_lstm(state: dict, inputs: int, hidden: int) -> torch.nn.LSTM:
    layer = torch.nn.LSTM(inputs, hidden, batch_first=True, dtype=torch.float64)
    layer.load_state_dict({key: torch.from_numpy(value.numpy()) for key, value in state.items()})
    return layer


# ------------------------------------------------------------------------------ the LSTM's two forms
def test_both_textbook_lstms_match_torch_lstm_with_the_mapped_weights():
    rng = np.random.default_rng(1)
    batch, steps, inputs, hidden = 3, 7, 4, 5
    W, U, b = _seed004_weights(rng, inputs, hidden)
    x = rng.standard_normal((batch, steps, inputs))
    h0, c0 = rng.standard_normal((2, batch, hidden))
    expected, (_, c_last) = _torch_lstm(lstm_two_forms.torch_layout(W, U, b), inputs, hidden)(
        torch.from_numpy(x), (torch.from_numpy(h0)[None], torch.from_numpy(c0)[None]))
    args = (fk.tensor(x), fk.tensor(h0), fk.tensor(c0))
    h004, c004 = lstm_two_forms.lstm_seed004(args[0], W, U, b, *args[1:])
    h001, c001 = lstm_two_forms.lstm_seed001(args[0], lstm_two_forms.concatenated(W, U), b, *args[1:])
    for h, c in ((h004, c004), (h001, c001)):
        np.testing.assert_allclose(h.numpy(), expected.detach().numpy(), rtol=0, atol=1e-13)
        np.testing.assert_allclose(c.numpy(), c_last[0].detach().numpy(), rtol=0, atol=1e-13)


def test_the_concatenated_weight_puts_h_before_x():
    rng = np.random.default_rng(2)
    W, U, _ = _seed004_weights(rng, 2, 3)
    joined = lstm_two_forms.concatenated(W, U)["f"].numpy()
    np.testing.assert_array_equal(joined[:, :3], U["f"].numpy())  # [h_{t−1}, x_t]: the recurrent block first
    np.testing.assert_array_equal(joined[:, 3:], W["f"].numpy())


def test_lstm_two_forms_fails_when_a_form_is_wrong(monkeypatch):
    def leaky(x, W, U, b, h, c):  # a forget gate that lets 1% more through: no longer the same function
        hs, c_last = right(x, W, U, b, h, c)
        return hs * 1.01, c_last

    right = lstm_two_forms.lstm_seed004
    monkeypatch.setattr(lstm_two_forms, "lstm_seed004", leaky)
    experiment = lstm_two_forms.LstmTwoForms()
    failed = [check.name for check in experiment.checks(experiment.measure(_context()).values) if not check.holds]
    assert failed and all("seed 004" in name for name in failed)
    assert any("seed 001" in name for name in failed) and any("nn.LSTM" in name for name in failed)


# ------------------------------------------------------------------------------ gradients through time
@pytest.mark.parametrize("cell", ["Elman", "LSTM", "GRU"])
def test_hidden_gradients_match_torch_stepped_one_step_at_a_time(cell):
    fk.manual_seed(3)
    model = _memory.LastStep(cell, 2, 6, 1).double()
    x, y = _memory.adding_batch(9, 4, 0)
    got = _memory.hidden_gradients(model, x.double(), y.double())

    layer = {"Elman": torch.nn.RNN, "LSTM": torch.nn.LSTM, "GRU": torch.nn.GRU}[cell](2, 6, batch_first=True,
                                                                                     dtype=torch.float64)
    layer.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.rnn.state_dict().items()})
    head = torch.nn.Linear(6, 1, dtype=torch.float64)
    head.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in model.head.state_dict().items()})
    xt, yt = torch.from_numpy(x.numpy()).double(), torch.from_numpy(y.numpy()).double()
    state, hs = None, []
    for t in range(9):
        _, state = layer(xt[:, t:t + 1], state)
        hs.append(state[0] if cell == "LSTM" else state)
    loss = torch.nn.functional.mse_loss(head(hs[-1][0]), yt)
    expected = [g.norm().item() for g in torch.autograd.grad(loss, hs)][::-1]
    np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_log_linear_fit_recovers_a_geometric_decay():
    factor, r2 = _memory.log_linear_fit(3.0 * 0.7 ** np.arange(40))
    assert factor == pytest.approx(0.7, rel=1e-12) and r2 == pytest.approx(1.0, abs=1e-12)
    noisy = 0.7 ** np.arange(40) * np.exp(np.random.default_rng(0).normal(0, 3, 40))
    assert _memory.log_linear_fit(noisy)[1] < 0.95


def test_gradient_decay_verdict_turns_when_the_lstm_decays_as_fast_as_elman():
    factor = {gradient_decay.ELMAN: 0.6, gradient_decay.LSTM: 0.55, gradient_decay.LSTM_DEFAULT: 0.6,
              gradient_decay.GRU: 0.6, gradient_decay.TRAINED_ELMAN: 1.0, gradient_decay.TRAINED_LSTM: 0.9}
    m = {"gradient factor per step back (fit of log ‖∂L/∂h_{T−k}‖)": factor,
         "R² of the log-linear fit": {name: 0.99 for name in factor}}
    failed = [check.name for check in gradient_decay.GradientDecay().checks(m) if not check.holds]
    assert failed == ["LSTM (forget bias 1) at init: factor per step, vs Elman's"]


# ------------------------------------------------------------------------------ training helpers
def test_forget_bias_sets_the_forget_gate_of_pytorchs_gate_order():
    lstm = nn.LSTM(1, 3).double()
    with fk.no_grad():
        for p in lstm.parameters():
            p.zero_()
    _memory.set_forget_bias(lstm, 1.0)
    c0 = fk.ones(1, 1, 3, dtype=fk.float64)
    _, (_, c1) = lstm(fk.zeros(1, 1, 1, dtype=fk.float64), (fk.zeros(1, 1, 3, dtype=fk.float64), c0))
    # c_1 = f ⊙ c_0 + i ⊙ tanh(0) = σ(1): only the forget gate sees the bias
    np.testing.assert_allclose(c1.detach().numpy(), np.full((1, 1, 3), 1 / (1 + math.exp(-1))), rtol=1e-14)


def test_chrono_init_spreads_the_forget_biases_up_to_the_lag_and_closes_the_input_gates_as_much():
    fk.manual_seed(0)
    lstm = nn.LSTM(2, 500)
    _memory.chrono_init(lstm, 50)
    bias_ih, bias_hh = lstm.bias_ih_l0.detach().numpy(), lstm.bias_hh_l0.detach().numpy()
    forget = bias_ih[500:1000]
    assert forget.min() >= 0 and forget.max() <= math.log(49) + 1e-6
    assert np.exp(forget).mean() == pytest.approx(25, rel=0.05)       # log of U(1, 49): its exp has mean 25
    np.testing.assert_array_equal(bias_ih[:500], -forget)
    assert (bias_hh[:1000] == 0).all()


def test_train_clips_the_update_and_records_the_norm_before_clipping():
    fk.manual_seed(0)
    model = nn.Linear(3, 1)
    before = [p.detach().clone() for p in model.parameters()]
    x = fk.randn(8, 3) * 100

    def batch_loss(rng):
        return (model(x) ** 2).mean()

    run = _memory.train(model, batch_loss, 1, fk.optim.SGD(model.parameters(), lr=0.5), seed=0, clip=1.0)
    step = math.sqrt(sum(float(((p - q) ** 2).sum()) for p, q in zip(model.parameters(), before)))
    assert run.grad_norms[0] > 100                      # the raw gradient is large
    assert step == pytest.approx(0.5 * 1.0, rel=1e-4)  # the update is lr × the clipped norm


def test_copy_batches_put_the_symbols_before_the_lag_and_recall_them_after_it():
    x, y = _memory.copy_batch(T=5, copied=2, size=3, seed=0)
    assert x.shape == (3, 2 + 5 + 1 + 2)
    np.testing.assert_array_equal(y.numpy()[:, -2:], x.numpy()[:, :2])
    assert (x.numpy()[:, 2:7] == 0).all() and (x.numpy()[:, 7] == _memory.SYMBOLS + 1).all()


# ------------------------------------------------------------------------------ exploding gradients, parameters
def test_large_recurrent_weights_have_the_stated_scale():
    weights = exploding_gradients.elman(3.0, 200, seed=0).rnn.weight_hh_l0.detach().numpy()
    assert weights.std() == pytest.approx(3.0 / math.sqrt(200), rel=0.02)
    with blas_threads(1):
        radius = np.abs(np.linalg.eigvals(weights)).max()  # circular law: the spectral radius is about σ_w
    assert radius == pytest.approx(3.0, rel=0.1)


@pytest.mark.parametrize("inputs, hidden", [(1, 1), (3, 7), (64, 16)])
def test_parameter_closed_forms_match_torch(inputs, hidden):
    for cell, layer in (("LSTM", torch.nn.LSTM), ("GRU", torch.nn.GRU), ("Elman", torch.nn.RNN)):
        expected = sum(p.numel() for p in layer(inputs, hidden).parameters())
        assert gru_vs_lstm.closed_form(cell, inputs, hidden) == expected
        assert gru_vs_lstm.counted(cell, inputs, hidden) == expected


@pytest.mark.parametrize("experiment, stated", [
    (adding_copy_tasks.AddingCopyTasks, [f"test MSE below {adding_copy_tasks.SOLVED_MSE}",
                                         f"below {adding_copy_tasks.LEARNS} of the baseline",
                                         f"above {adding_copy_tasks.NEAR_BASELINE} of it",
                                         f"at least {adding_copy_tasks.RECALLS:.0%}",
                                         f"at most {adding_copy_tasks.FORGETS:.0%}",
                                         f"σ({adding_copy_tasks.FORGET_BIAS:g})"]),
    (gradient_decay.GradientDecay, [f"R² ≥ {gradient_decay.EXPONENTIAL}"]),
    (exploding_gradients.ExplodingGradients, [f"σ_w = {exploding_gradients.SCALES[0]}",
                                              f"σ_w = {exploding_gradients.LARGE:g}", f"lr {exploding_gradients.LR}",
                                              f"at norm {_memory.CLIP:g}"]),
    (gru_vs_lstm.GruVsLstm, [f"{gru_vs_lstm.SOLVED:.0%} of the test sums within {gru_vs_lstm.CLOSE}",
                             f"within {gru_vs_lstm.SAME} of each other"]),
    (lstm_two_forms.LstmTwoForms, [f"within {lstm_two_forms.ROUNDING:g}", f"more than {lstm_two_forms.WRONG:g}"]),
])
def test_a_docstring_claim_states_the_constants_its_checks_use(experiment, stated):
    for text in stated:  # the claim is a docstring and cannot interpolate them: a change must edit both
        assert text in experiment.claim, (text, experiment.claim)


# ------------------------------------------------------------------------------ the quick runs
@pytest.mark.parametrize("exp_id", RECURRENT)
def test_quick_runs_measure_finite_numbers(exp_id, quick_runs):
    outcome = quick_runs(exp_id)
    assert outcome.status == "holds", (outcome.error, outcome.summary)
    numbers = [c["measured"] for c in outcome.checks]
    assert numbers and all(math.isfinite(float(v)) for v in numbers)


def _context() -> Context:
    return Context(out_dir=Path(tempfile.mkdtemp()), quick=True, seed=0)
