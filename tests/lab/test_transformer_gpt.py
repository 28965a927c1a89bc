"""The measuring code of the GPT experiments (gpt-char-language-model, kv-cache-decoding) against independent
oracles — the cross-entropy written out in NumPy, a text whose entropy is known, a cache broken on purpose —
and what their quick runs (shared with test_experiments through the quick_runs fixture) report."""
from __future__ import annotations

import math

import numpy as np
import pytest

import fukaku as fk
from fukaku import nn
from fukaku.lab.experiments.transformer import gpt_char_lm, gpt_prompt_copy, kv_cache_decoding
from fukaku.models.transformer import GPT
from fukaku.ops._parallel import blas_threads


def test_held_out_loss_is_the_mean_next_character_cross_entropy():
    fk.manual_seed(0)
    model = GPT(vocab_size=7, context_length=8, n_layer=1, n_head=2, d_model=8)
    windows = fk.tensor(np.random.default_rng(0).integers(0, 7, (5, 9)))
    with fk.no_grad():
        logits = model(windows[:, :-1]).numpy().astype(np.float64)
    log_p = logits - logits.max(-1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(-1, keepdims=True))
    targets = windows[:, 1:].numpy()
    want = -np.take_along_axis(log_p, targets[..., None], -1).mean()
    assert gpt_char_lm.held_out_loss(model, windows) == pytest.approx(want, rel=1e-5)
    assert model.training  # left in training mode


def test_train_gpt_learns_a_text_whose_next_character_is_determined():
    """On a periodic text every next character follows from the previous ones: the held-out loss must fall far
    below the unigram entropy (ln 5, five equally frequent characters) — and the curves have their lengths."""
    config = dict(gpt_char_lm.QUICK, steps=40, evaluate_every=20, slice=None, validation_windows=8, context=16,
                  d_model=16, layers=1, batch=8, lr=1e-2)
    run = gpt_char_lm.train_gpt("abcde" * 2000, config, "ab", seed=0)
    assert run["baselines"][gpt_char_lm.UNIGRAM] == pytest.approx(math.log(5), abs=1e-3)
    assert run["validation"] < 0.2 < math.log(5)
    assert len(run["curve"]) == 40 and [s for s, _ in run["checkpoints"]] == [0, 20, 40]
    assert run["sample"].startswith("ab") and len(run["sample"]) == 2 + gpt_char_lm.SAMPLE_CHARS


def test_logit_gap_is_zero_for_the_cache_and_catches_a_broken_one(monkeypatch):
    fk.manual_seed(0)
    model = GPT(vocab_size=11, context_length=24, n_layer=2, n_head=2, d_model=16).eval()
    ids = fk.tensor(np.random.default_rng(1).integers(0, 11, (2, 20)))
    assert kv_cache_decoding.logit_gap(model, ids) < 1e-5

    def forgetful(self, layer, key, value):  # a cache that keeps nothing: each step sees itself only
        self._lengths[layer] += key.shape[2]
        return key, value

    monkeypatch.setattr(nn.KVCache, "update", forgetful)
    assert kv_cache_decoding.logit_gap(model, ids) > 1e-2


def test_decoding_seconds_times_both_ways():
    fk.manual_seed(0)
    model = GPT(vocab_size=11, context_length=24, n_layer=1, n_head=2, d_model=8).eval()
    seconds = kv_cache_decoding.decoding_seconds(model, fk.tensor([[1, 2, 3]]), 5, repeats=2)
    assert set(seconds) == {"cache", "recompute"} and all(s > 0 for s in seconds.values())


def test_gpt_quick_run_beats_the_unigram_entropy_and_samples_from_the_prompt(quick_runs):
    outcome = quick_runs("gpt-char-language-model")
    m = outcome.measured
    for name in m["corpora"]:
        assert m["held-out loss (nats/char)"][name] < m["initial held-out loss (≈ ln V)"][name]
        curve = m["held-out curve (step, nats/char)"][name]
        assert curve[0][0] == 0 and curve[-1][0] == gpt_char_lm.QUICK["steps"]
    samples = next(v for k, v in m.items() if k.startswith("sample"))
    prompts = {"tiny-shakespeare": "ROMEO:", "neko": "吾輩は"}
    assert all(text.startswith(prompts.get(name, "")) for name, text in samples.items())
    assert outcome.status == "holds"


def test_kv_cache_quick_run_reports_equal_outputs_and_a_speed_up(quick_runs):
    outcome = quick_runs("kv-cache-decoding")
    m = outcome.measured
    assert m["greedy tokens identical"] is True and m["max |cached − full| logit"] < 1e-4
    per_token = m["ms per generated token (recompute)"]
    assert list(per_token) == [str(n) for n in kv_cache_decoding.QUICK["lengths"]] or \
        list(per_token) == list(kv_cache_decoding.QUICK["lengths"])
    assert outcome.status == "holds"


def test_episodes_repeat_the_tokens_after_the_separator():
    x = gpt_prompt_copy.episodes(np.random.default_rng(0), 50, 6, 7)
    assert x.shape == (50, 13) and (x[:, 6] == 7).all() and (x[:, :6] == x[:, 7:]).all() and x[:, :6].max() < 7


def test_the_prompt_alone_tells_what_to_copy():
    """The trained model reproduces fresh prompts (so it reads them: no x repeats between training and test),
    and the accuracy measure is that of the outputs — a model that always answers 0 scores about chance."""
    config = gpt_prompt_copy.QUICK
    with blas_threads(1):  # small GEMMs: as the experiment runs them
        model, losses = gpt_prompt_copy.train_copier(config, seed=0)
    assert losses[-10:].mean() < 0.1 * losses[:10].mean()
    assert gpt_prompt_copy.copy_accuracy(model, config, seed=1) > 0.95

    class Zeros(GPT):
        def forward(self, idx, cache=None):
            out = fk.zeros(idx.shape[0], idx.shape[1], self.config.vocab_size)
            out[..., 0] = 1.0
            return out

        def _last_logits(self, idx, cache):
            return self(idx)[:, -1]

    zeros = Zeros(vocab_size=config["vocab"] + 1, context_length=2 * config["length"] + 1, n_layer=1, n_head=1,
                  d_model=4)
    assert abs(gpt_prompt_copy.copy_accuracy(zeros, config, seed=1) - 1 / config["vocab"]) < 0.03
