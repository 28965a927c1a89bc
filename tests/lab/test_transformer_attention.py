"""The attention experiments (fukaku/lab/experiments/transformer/: attention_rows, scaled_logits,
permutation_equivariance, causal_mask, pre_ln_vs_post_ln, attention_maps): their measuring helpers against
independent oracles (PyTorch, closed forms, the task definitions), their quick runs (shared with test_experiments
through the quick_runs fixture) for the numbers they report, and a broken component turning a verdict."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
import fukaku.nn.functional as F
from fukaku.lab import registry, runner
from fukaku.lab.experiments.transformer import attention_maps, attention_rows, causal_mask, permutation_equivariance
from fukaku.lab.experiments.transformer import pre_ln_vs_post_ln as preln
from fukaku.lab.experiments.transformer import scaled_logits
from fukaku.lab.registry import Context
from lab.test_experiments import _numbers

IDS = ["attention-rows-sum-to-one", "attention-scaling-variance", "self-attention-permutation-equivariant",
       "causal-mask-hides-future", "pre-ln-vs-post-ln", "attention-maps"]


@pytest.mark.parametrize("exp_id", IDS)
def test_quick_runs_hold_and_report_finite_numbers(exp_id, quick_runs):
    outcome = quick_runs(exp_id)
    assert outcome.error is None, outcome.error
    assert outcome.status == "holds", [c for c in outcome.checks if not c["holds"]]
    assert all(math.isfinite(x) for x in _numbers(outcome.measured))


def test_weights_read_out_is_torchs_softmax():
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal((2, 3, 5, 4)), rng.standard_normal((2, 3, 7, 4))
    keep = rng.random((5, 7)) > 0.4
    keep[:, 0] = True
    got = attention_rows.weights(fk.tensor(q), fk.tensor(k), attn_mask=fk.tensor(keep))
    logits = torch.tensor(q) @ torch.tensor(k).mT / 2.0 + torch.where(torch.tensor(keep), 0.0, -torch.inf)
    np.testing.assert_allclose(got, torch.softmax(logits, -1).numpy(), rtol=1e-12, atol=1e-15)


def test_logit_statistics_match_closed_forms():
    stats = scaled_logits.logit_statistics(64, 2000, np.random.default_rng(1))
    assert stats["var unscaled"] == pytest.approx(64, rel=0.1)          # Var(q·k) = d for unit normals
    assert stats["var scaled"] == pytest.approx(stats["var unscaled"] / 64)
    assert 1 / scaled_logits.KEYS < stats["max weight scaled"] < stats["max weight unscaled"] <= 1


def test_an_unscaled_attention_breaks_the_scaling_check(monkeypatch, tmp_path):
    real = F.scaled_dot_product_attention
    monkeypatch.setattr(scaled_logits.F, "scaled_dot_product_attention",
                        lambda q, k, v, **kw: real(q, k, v, scale=1.0, **kw))
    outcome = runner.run_one(registry.discover()["attention-scaling-variance"], Context(tmp_path, quick=True))
    failed = [c["name"] for c in outcome.checks if not c["holds"]]
    assert failed == ["scaled softmax at d_k = 1024: mean largest weight"]


def test_deviation_sees_order_dependence():
    rng = np.random.default_rng(2)
    x, perm = rng.standard_normal((2, 6, 4)), rng.permutation(6)
    assert permutation_equivariance.deviation(lambda t: t * 2, x, perm) == 0.0        # equivariant
    assert permutation_equivariance.deviation(lambda t: t.cumsum(1), x, perm) > 0.1   # order matters
    mha = fk.nn.MultiheadAttention(4, 2, batch_first=True).double()
    causal = fk.nn.Transformer.generate_square_subsequent_mask(6, dtype=fk.float64)
    assert permutation_equivariance.deviation(lambda t: mha(t, t, t, attn_mask=causal)[0], x, perm) > 1e-3


def test_a_missing_causal_mask_turns_the_verdict(monkeypatch, tmp_path):
    monkeypatch.setattr(causal_mask.nn.Transformer, "generate_square_subsequent_mask",
                        staticmethod(lambda sz, device=None, dtype=None: fk.zeros(sz, sz, dtype=dtype)))
    outcome = runner.run_one(registry.discover()["causal-mask-hides-future"], Context(tmp_path, quick=True))
    failed = {c["name"] for c in outcome.checks if not c["holds"]}
    assert outcome.status != "holds"
    assert {"max |Δ earlier outputs| over the cuts", "largest ‖∂ output t / ∂ later token‖"} <= failed


def test_lag_task_and_models():
    x, y = preln.lag_batch(np.random.default_rng(0))
    x, y = x.numpy(), y.numpy()
    np.testing.assert_array_equal(y[:, preln.LAG:], x[:, :-preln.LAG])
    assert not y[:, :preln.LAG].any()
    for norm_first in (False, True):
        model = preln.LagLM(2, norm_first)
        assert model(fk.tensor(x)).shape == (preln.BATCH, preln.LENGTH, preln.VOCAB)
        assert model.stack.layers[0].norm_first is norm_first and (model.stack.norm is not None) is norm_first
    assert preln.final([1.0] * 30) == 1.0 and preln.final([1.0, math.nan]) == math.inf
    losses = preln.train(1, True, 5, seed=0)
    assert len(losses) == 5 and losses[0] == pytest.approx(math.log(preln.VOCAB), rel=0.2)


def test_pre_ln_quick_run_reports_each_depth(quick_runs):
    m = quick_runs("pre-ln-vs-post-ln").measured
    finals = m[f"final training loss (mean of the last {preln.TAIL} steps)"]
    assert m["depths"] == list(preln.QUICK["depths"]) and set(finals) == {"post-LN", "pre-LN"}
    assert all(set(map(str, v)) == set(map(str, m["depths"])) for v in finals.values())  # JSON keys: strings


def test_reverser_maps_and_quick_run(quick_runs):
    fk.manual_seed(0)
    logits, weights = attention_maps.Reverser()(fk.randint(0, attention_maps.VOCAB, (3, attention_maps.LENGTH)))
    assert logits.shape == (3, attention_maps.LENGTH, attention_maps.VOCAB)
    assert weights.shape == (3, attention_maps.LENGTH, attention_maps.LENGTH)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1, rtol=1e-5)
    m = quick_runs("attention-maps").measured
    before, after = (m[f"mean weight on the mirrored key, {when}"] for when in ("at initialisation", "after training"))
    assert before < 0.3 < after
