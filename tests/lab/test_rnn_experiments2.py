"""The measuring helpers of the seq2seq-attention, clockwork-vs-elman and char-language-model experiments, each
against an independent oracle (closed forms, loops written out, the data generators' definitions); their quick
runs (shared with test_experiments through the quick_runs fixture) are checked for the numbers they report. The
parts that need the shared texts skip without them; the experiments themselves run without them."""
from __future__ import annotations

import copy
import math
from collections import Counter

import numpy as np
import pytest

import fukaku as fk
from fukaku import datasets
from fukaku.lab.experiments.recurrent import char_language_model as lm
from fukaku.lab.experiments.recurrent import clockwork_vs_elman as cw
from fukaku.lab.experiments.recurrent import seq2seq_attention as s2s
from fukaku.lab.experiments.recurrent._training import adam_steps
from fukaku.lab.registry import Context
from fukaku.models.rnn import Seq2Seq, Seq2SeqAttention
from lab.test_experiments import _numbers


# ------------------------------------------------------------------------------ the shared training loop
def test_adam_steps_uses_one_batch_per_step_clips_and_reports_each_step():
    fk.manual_seed(0)
    model = fk.nn.Linear(3, 1)
    x = fk.randn(64, 3)
    y = x @ fk.tensor([[1.0], [-2.0], [0.5]]) + 0.3
    seen, called = [], []

    def batch_loss(step):
        seen.append(step)
        rows = slice(16 * (step % 4), 16 * (step % 4 + 1))
        return ((model(x[rows]) - y[rows]) ** 2).mean()

    losses = adam_steps(model, batch_loss, 40, 0.1, clip=1.0, after_step=called.append)
    assert seen == list(range(40)) and called == list(range(1, 41)) and losses.shape == (40,)
    assert losses[-4:].mean() < 0.05 * losses[:4].mean()
    adam_steps(model, lambda step: 1e6 * model(x).sum(), 1, 0.1, clip=1.0)
    norm = math.sqrt(sum(float((p.grad ** 2).sum()) for p in model.parameters()))   # the gradient left clipped
    assert norm == pytest.approx(1.0, rel=1e-4)


# ------------------------------------------------------------------------------ seq2seq-attention
def test_reversal_targets_are_the_reversed_sources_and_the_decoder_reads_them_shifted():
    source, decoder_in, target = s2s.reversal(50, 7, seed=3)
    src, dec, tgt = source.numpy(), decoder_in.numpy(), target.numpy()
    assert src.shape == dec.shape == tgt.shape == (50, 7)
    assert src.min() >= 1 and src.max() <= s2s.SYMBOLS                # data symbols only, no blank or go
    np.testing.assert_array_equal(tgt, src[:, ::-1])
    np.testing.assert_array_equal(dec[:, 0], s2s.GO)
    np.testing.assert_array_equal(dec[:, 1:], tgt[:, :-1])
    np.testing.assert_array_equal(s2s.reversal(50, 7, seed=3)[0].numpy(), src)   # the seed decides
    assert not np.array_equal(s2s.reversal(50, 7, seed=4)[0].numpy(), src)


def _aligned(length: int, shift: int) -> np.ndarray:
    """One-hot attention of output i on source position (length − 1 − i + shift) mod length, (1, length, length)."""
    weights = np.zeros((1, length, length))
    for i in range(length):
        weights[0, i, (length - 1 - i + shift) % length] = 1.0
    return weights


def test_mirror_mass_is_one_on_the_alignment_and_its_closed_form_for_uniform_attention():
    length = 9
    assert s2s.mirror_mass(_aligned(length, 0)) == pytest.approx(1.0)
    # one position off still counts, except the one output whose cyclic shift wraps to the far end
    assert s2s.mirror_mass(_aligned(length, 1)) == pytest.approx((length - 1) / length)
    assert s2s.mirror_mass(_aligned(length, -1)) == pytest.approx((length - 1) / length)
    assert s2s.mirror_mass(_aligned(length, 3)) == pytest.approx(0.0)   # (cyclic shift of 3 stays ≥ 3 away here)
    uniform = np.full((2, length, length), 1 / length)
    band = sum(abs(j - (length - 1 - i)) <= 1 for i in range(length) for j in range(length))  # counted out
    assert s2s.mirror_mass(uniform) == pytest.approx(band / length ** 2)
    assert s2s.uniform_mirror_mass(length) == pytest.approx(band / length ** 2)


def test_the_two_models_differ_only_by_attention_and_evaluate_decodes_greedily():
    plain, attended = s2s.build(False, 8), s2s.build(True, 8)
    assert type(plain) is Seq2Seq and isinstance(attended, Seq2SeqAttention)
    shared = {k: v.shape for k, v in plain.state_dict().items()}
    extra = {k: v.shape for k, v in attended.state_dict().items() if k not in shared}
    assert all(attended.state_dict()[k].shape == shape for k, shape in shared.items())
    assert extra and all(k.startswith(("attention.", "combine.")) for k in extra)
    source, _, target = s2s.reversal(6, 4, seed=0)
    right, weights = s2s.evaluate(attended, source, target)
    tokens = attended.greedy_decode(source, 4).numpy()
    np.testing.assert_array_equal(right, tokens == target.numpy())
    assert weights.shape == (6, 4, 4)
    np.testing.assert_allclose(weights.sum(axis=2), 1.0, atol=1e-5)    # each output's weights are a distribution
    assert s2s.evaluate(plain, source, target)[1] is None


def test_seq2seq_quick_run_reports_accuracies_for_both_models_at_every_length(quick_runs):
    m = quick_runs("seq2seq-attention").measured
    for name in s2s.MODELS:
        accuracy = m["held-out per-symbol accuracy"][name]
        assert list(accuracy) == [str(n) for n in m["lengths"]]
        assert all(0 <= a <= 1 for a in accuracy.values())
        assert all(s <= a for s, a in zip(m["held-out whole-sequence accuracy"][name].values(), accuracy.values()))
    assert all(math.isfinite(x) for x in _numbers(m["final training loss (mean of the last 20 steps)"]))


# ------------------------------------------------------------------------------ clockwork-vs-elman
def test_long_period_signal_spans_one_period_with_its_peak_scaled():
    y = cw.long_period_signal(64, np.random.default_rng(0))
    assert y.shape == (64,) and y.dtype == np.float32
    assert np.abs(y).max() == pytest.approx(cw.PEAK, rel=1e-6)
    spectrum = np.abs(np.fft.rfft(y))                                  # harmonics 1, 2, 4, 8 only
    assert set(np.flatnonzero(spectrum > 1e-3 * spectrum.max())) == {1, 2, 4, 8}


def test_elman_hidden_for_is_the_smallest_size_with_as_many_parameters():
    for parameters in (10, 99, 2561, 2598, 10_000):
        h = cw.elman_hidden_for(parameters)
        count = lambda n: sum(p.numel() for p in cw.elman(n, 0).parameters())   # noqa: E731 (counted, not formula)
        assert count(h) >= parameters > count(h - 1)


def test_effective_parameters_leave_out_the_masked_recurrent_weights():
    model = cw.clockwork(0)
    g, k = cw.MODULES, cw.UNITS
    h = g * k
    # block-upper-triangular W_h: module i reads modules j ≥ i (as slow or slower), g(g+1)/2 blocks of k × k
    expected = g * (g + 1) // 2 * k * k + h * 1 + 2 * h + (h + 1)     # W_h blocks, W_x, two biases, read-out
    assert cw.effective_parameters(model) == expected
    assert cw.effective_parameters(cw.elman(5, 0)) == 5 * 5 + 4 * 5 + 1


def test_train_lowers_the_normalised_mse_and_reports_it_per_step():
    target = cw.long_period_signal(24, np.random.default_rng(1))
    model = cw.elman(6, 0)
    with fk.no_grad():
        before = cw.normalised_mse(model(fk.zeros(1, 24, 1)).reshape(-1).numpy(), target)
    curve, output, seconds = cw.train(model, target, 30, 1e-2)
    assert curve.shape == (30,) and seconds >= 0
    assert cw.normalised_mse(output, target) < before
    assert cw.normalised_mse(target, target) == 0.0
    assert cw.normalised_mse(np.full_like(target, target.mean()), target) == pytest.approx(1.0, rel=1e-5)


def test_clockwork_quick_run_compares_equal_budgets(quick_runs):
    m = quick_runs("clockwork-vs-elman").measured
    nmse = m["normalised MSE (MSE / signal variance)"]
    assert nmse["Elman (best learning rate)"] == min(m["Elman normalised MSE by learning rate"].values())
    variance = m["signal variance (MSE of predicting the mean)"]
    assert m["MSE"]["Clockwork RNN"] == pytest.approx(nmse["Clockwork RNN"] * variance, rel=1e-6)
    assert 0 < m["Clockwork RNN: units updated per step (mean fraction)"] < 1


# ------------------------------------------------------------------------------ char-language-model
def test_entropy_and_baselines_match_counts_done_by_hand():
    assert lm.entropy(np.array([1, 1, 2, 0])) == pytest.approx(-(2 * 0.25 * math.log(0.25) + 0.5 * math.log(0.5)))
    rng = np.random.default_rng(0)
    vocab = 5
    train, valid = rng.integers(0, vocab, 400), rng.integers(0, vocab, 100)
    train[train == 4] = 3                                              # symbol 4 never seen in training
    got = lm.baselines(train, valid, vocab)
    unigram = Counter(train.tolist())
    assert got[lm.UNIGRAM] == pytest.approx(-sum(c / 400 * math.log(c / 400) for c in unigram.values()))
    pairs, rows = Counter(zip(train[:-1].tolist(), train[1:].tolist())), Counter(train[:-1].tolist())
    nats = []
    for a, b in zip(valid[:-1].tolist(), valid[1:].tolist()):
        p = lm.BIGRAM_WEIGHT * (pairs[a, b] / rows[a] if rows[a] else 0.0) + \
            (1 - lm.BIGRAM_WEIGHT) * (unigram[b] + 1) / (400 + vocab)
        nats.append(-math.log(p))
    assert got[lm.BIGRAM] == pytest.approx(sum(nats) / len(nats))


def test_windows_are_contiguous_slices():
    ids = np.arange(100)
    batch = lm.windows(ids, np.array([0, 17, 90]), 9).numpy()
    np.testing.assert_array_equal(batch, [np.arange(s, s + 10) for s in (0, 17, 90)])


def test_find_corpora_uses_the_shared_texts_or_says_what_it_skipped(monkeypatch, tmp_path):
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "neko.txt").write_text("吾輩は猫である。", encoding="utf-8")
    monkeypatch.setattr(datasets, "shared_data_dir", lambda: tmp_path)
    texts, skipped = lm.find_corpora()
    assert texts["neko"] == "吾輩は猫である。"
    assert lm.FALLBACK in texts and "tinyshakespeare.txt" in skipped["tiny-shakespeare"]
    monkeypatch.setattr(datasets, "shared_data_dir", lambda: None)
    texts, skipped = lm.find_corpora()
    assert list(texts) == [lm.FALLBACK] and len(texts[lm.FALLBACK]) > 100_000
    assert set(skipped) == {"tiny-shakespeare", "neko"} and "skipped" in skipped["neko"]


def test_without_the_shared_data_the_experiment_measures_on_the_fallback_text(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "shared_data_dir", lambda: None)
    monkeypatch.setattr(lm, "QUICK", dict(lm.QUICK, steps=4, evaluate_every=2, validation_windows=4))
    experiment = lm.CharLanguageModel()
    measurement = experiment.measure(Context(tmp_path, quick=True, seed=0))
    m = measurement.values
    assert m["corpora"] == [lm.FALLBACK] and set(m["skipped"]) == {"tiny-shakespeare", "neko"}
    assert [c.name for c in experiment.checks(m)] == [f"{lm.FALLBACK}: held-out loss, vs the {lm.UNIGRAM}"]
    assert "neko: no shared data directory" in experiment.summary(m)
    checkpoints = measurement.plot_data["runs"][lm.FALLBACK]["checkpoints"]
    assert [step for step, _ in checkpoints] == [0, 2, 4]
    sample = m[f"sample ({lm.SAMPLE_CHARS} characters, temperature {lm.TEMPERATURE})"][lm.FALLBACK]
    assert sample.startswith("The ") and len(sample) >= 4 + lm.SAMPLE_CHARS   # longer where <unk> is drawn


def test_the_model_starts_near_a_uniform_guess_and_the_full_run_claims_the_bigram_too(monkeypatch):
    monkeypatch.setattr(lm, "SAMPLE_CHARS", 5)
    text = "abcab" * 400
    config = dict(lm.QUICK, steps=2, evaluate_every=1, validation_windows=2, hidden=8, embedding=4, seq_len=8)
    run = lm.train_char_lm(text, config, "ab", 0)
    assert [step for step, _ in run["checkpoints"]] == [0, 1, 2] and run["curve"].shape == (2,)
    assert len(run["sample"]) == 2 + 5
    assert run["checkpoints"][0][1] == pytest.approx(math.log(run["vocabulary"]), abs=0.3)
    assert run["vocabulary"] == 4 and run["unknown"] == 0.0              # a, b, c and the unused <unk>
    m = {"corpora": ["x"], "held-out loss (nats/char)": {"x": 1.0},
         "baselines (nats/char)": {"x": {lm.UNIGRAM: 2.0, lm.BIGRAM: 0.5}}}
    quick = lm.CharLanguageModel().checks(dict(m, **{"baselines claimed beaten": [lm.UNIGRAM]}))
    full = lm.CharLanguageModel().checks(dict(m, **{"baselines claimed beaten": [lm.UNIGRAM, lm.BIGRAM]}))
    assert [c.holds for c in quick] == [True] and [c.holds for c in full] == [True, False]


def test_char_lm_quick_run_on_the_shared_texts(quick_runs):
    root = datasets.shared_data_dir()
    if root is None or not all((root / "text" / f).is_file() for f, _ in lm.CORPORA.values()):
        pytest.skip("tinyshakespeare.txt and neko.txt are not in the shared data ($FUKAKU_DATA or ../shared/data)")
    m = quick_runs("char-language-model").measured
    assert m["corpora"] == ["tiny-shakespeare", "neko"] and m["skipped"] == {}
    assert m["vocabulary"]["tiny-shakespeare"] == 66                  # 65 characters and <unk>
    assert m["vocabulary"]["neko"] == lm.QUICK["max_vocab"]
    for name in m["corpora"]:
        assert m["held-out loss (nats/char)"][name] < m["initial held-out loss (≈ ln V, a uniform guess)"][name]
    samples = m[f"sample ({lm.SAMPLE_CHARS} characters, temperature {lm.TEMPERATURE})"]
    assert samples["tiny-shakespeare"].startswith("ROMEO:") and samples["neko"].startswith("吾輩は")


# ------------------------------------------------------------------------------ the verdicts follow the measurements
def _failed(experiment, measured: dict) -> list[str]:
    return [c.name for c in experiment.checks(measured) if not c.holds]


def test_seq2seq_verdict_turns_when_attention_stops_helping(quick_runs):
    m = copy.deepcopy(quick_runs("seq2seq-attention").measured)
    experiment = s2s.Seq2SeqAttentionVsLength()
    assert _failed(experiment, m) == []
    longest = str(m["lengths"][-1])
    m["held-out per-symbol accuracy"]["with attention"][longest] = 0.2       # attention that fails at length
    m["attention weight within one position of the mirrored source position (mean)"][longest] = 0.15
    assert set(_failed(experiment, m)) == {
        f"with attention: accuracy at length {longest}",
        f"at length {longest}: accuracy with attention, vs without",
        f"with attention at length {longest}: weight within one position of the mirrored one"}
    plain = m["held-out per-symbol accuracy"]["without attention"]
    plain[longest] = plain[str(m["lengths"][-2])] + 0.01                   # a rise with length without it
    assert f"without attention: accuracy at length {longest}, vs at length {m['lengths'][-2]}" in \
        _failed(experiment, m)
    for n in m["lengths"]:                                                  # a tie everywhere: no fall at all
        plain[str(n)] = 1.0
    assert f"without attention: accuracy at length {longest}, vs at length {m['lengths'][0]}" in \
        _failed(experiment, m)


def test_clockwork_verdict_turns_when_elman_does_as_well(quick_runs):
    m = copy.deepcopy(quick_runs("clockwork-vs-elman").measured)
    experiment = cw.ClockworkVsElman()
    assert _failed(experiment, m) == []
    nmse = m["normalised MSE (MSE / signal variance)"]
    nmse["Elman (best learning rate)"] = nmse["Clockwork RNN"] / 2
    m["parameters"]["Clockwork RNN"] = m["parameters"]["Elman"] + 1
    assert _failed(experiment, m) == ["Clockwork RNN normalised MSE, vs the best Elman network's",
                                      "Clockwork RNN parameters, vs Elman's"]
