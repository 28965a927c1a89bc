"""The Boltzmann-machine, RBM and DBN experiments (fukaku/lab/experiments/energy): the batched log Z helper against
the model's enumeration, the independent-pixel baseline against torch.distributions, and verdicts that follow
from the measurements — a broken component (Hopfield's bias sign in the energy, a wrong Gibbs conditional,
a missing hidden bias, CD that does not update, no pretraining) turns the check it breaks to "does not hold".
Their quick runs are tested in test_experiments."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku.lab.experiments.energy import (boltzmann_gibbs_moments, boltzmann_logz_gradient, dbn_pretraining,
                                          rbm_conditionals, rbm_digits)
from fukaku.lab.registry import Context
from fukaku.models.energy import DBN, RBM, BoltzmannMachine, boltzmann
from fukaku.models.energy.boltzmann import binary_states


def failed_checks(experiment, tmp_path) -> list[str]:
    result = experiment.run(Context(tmp_path, quick=True, seed=0))
    return [c.name for c in result.checks if not c.holds]


def test_batched_log_z_matches_the_models_enumeration():
    rng = np.random.default_rng(0)
    machines = [BoltzmannMachine(5, init_std=0.8, bias=rng.normal(0, 1, 5), generator=fk.Generator().manual_seed(s))
                for s in range(3)]
    w = np.stack([m.weight.detach().numpy() for m in machines])
    b = np.stack([m.bias.detach().numpy() for m in machines])
    got = boltzmann_logz_gradient.log_z_batch(w, b, binary_states(5))
    np.testing.assert_allclose(got, [m.log_partition().item() for m in machines], atol=1e-12)


def test_independent_pixels_is_the_bernoulli_log_likelihood_of_smoothed_means():
    rng = np.random.default_rng(1)
    train, test = (rng.random((50, 6)) < 0.3).astype(float), (rng.random((20, 6)) < 0.5).astype(float)
    p = torch.tensor((train.sum(0) + 1) / (len(train) + 2))
    want = torch.distributions.Bernoulli(probs=p).log_prob(torch.tensor(test)).sum(1).mean().item()
    assert rbm_digits.independent_pixels_log_likelihood(train, test) == pytest.approx(want, rel=1e-12)


def test_hopfield_bias_sign_breaks_the_logz_gradient_claim(monkeypatch, tmp_path):
    def hopfield_sign(self, x):                       # +Σ b x: erratum C18's other convention, misapplied
        x = self._check_states(x, "energy")
        return -0.5 * ((x @ self.weight) * x).sum(-1) + x @ self.bias

    monkeypatch.setattr(BoltzmannMachine, "energy", hopfield_sign)
    failed = failed_checks(boltzmann_logz_gradient.BoltzmannLogZGradient(), tmp_path)
    assert "log Z of the model = log Z of the textbook energy" in failed
    assert "autograd vs ⟨x_i⟩ (float64)" in failed


def test_a_wrong_gibbs_conditional_breaks_the_moment_claim(monkeypatch, tmp_path):
    monkeypatch.setattr(boltzmann, "_sigmoid", lambda z: 0.5 * (1.0 + np.tanh(z)))    # σ(2z): the wrong temperature
    failed = failed_checks(boltzmann_gibbs_moments.BoltzmannGibbsMoments(), tmp_path)
    assert "longest run: largest |sampled − exact| moment" in failed


def test_a_missing_hidden_bias_breaks_the_conditionals_claim(monkeypatch, tmp_path):
    monkeypatch.setattr(RBM, "hidden_probs", lambda self, v: fk.sigmoid(v.float() @ self.weight))
    failed = failed_checks(rbm_conditionals.RBMConditionals(), tmp_path)
    assert failed == ["P(h_j = 1 | v): sigmoid vs enumeration (float32 model)"]


def test_cd_that_does_not_learn_breaks_the_digits_claim(monkeypatch, tmp_path):
    real = RBM._cd_arrays
    monkeypatch.setattr(RBM, "_cd_arrays", lambda self, *a: (real(self, *a)[0], 0.0, 0.0, 0.0))  # no update
    failed = failed_checks(rbm_digits.RBMDigits(), tmp_path)
    assert "reconstruction error: last epoch / first epoch" in failed


def test_epochs_to_target_is_one_based_and_past_the_end_when_never_reached():
    assert dbn_pretraining.epochs_to([2.0, 0.6, 0.5, 0.1], 0.5) == 3
    assert dbn_pretraining.epochs_to([2.0, 0.6], 0.5) == 3


def test_skipping_pretraining_breaks_the_dbn_claim(monkeypatch, tmp_path):
    monkeypatch.setattr(DBN, "pretrain", lambda self, data, epochs=1, **kw: [[1.0] * epochs for _ in self.rbms])
    failed = failed_checks(dbn_pretraining.DBNPretraining(), tmp_path)
    assert "pretraining lowered the first RBM's reconstruction error (last / first epoch)" in failed
    assert "mean test accuracy: pretrained − random init" in failed
