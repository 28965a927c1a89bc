"""The measuring helpers of the model experiments of the transformer lab (CCA, CLIP, BERT-mini, ViT, parameter
counts), each against an independent oracle: closed forms, the data's own construction, PyTorch modules. (The
experiments themselves run in quick mode in test_experiments.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch.nn as tnn

import fukaku as fk
from fukaku.lab.experiments.transformer import bert_mlm, cca_planted, clip_zero_shot, parameter_counts, vit_vs_cnn
from fukaku.lab.experiments.cnn._images import digit_images


# ------------------------------------------------------------------------------ CCA
def test_planted_pairs_carry_the_planted_correlations():
    x, y, u = cca_planted.planted_pairs(200_000, seed=0)
    assert x.shape == (200_000, cca_planted.X_DIM) and y.shape == (200_000, cca_planted.Y_DIM)
    # the latents are recoverable: x is an invertible mix of [u, noise], so u is a linear function of x
    coefficients = np.linalg.lstsq(x, u, rcond=None)[0]
    np.testing.assert_allclose(x @ coefficients, u, atol=1e-8)
    np.testing.assert_allclose(cca_planted.qr_correlations(x, y)[:3], cca_planted.PLANTED, atol=0.005)


def test_qr_correlations_of_identical_data_are_one():
    x = np.random.default_rng(0).standard_normal((50, 3))
    np.testing.assert_allclose(cca_planted.qr_correlations(x, x @ np.diag([2.0, -1.0, 3.0]) + 1), 1.0, atol=1e-12)


# ------------------------------------------------------------------------------ CLIP
def test_paired_data_draws_the_named_shape_in_the_named_colour():
    rng = np.random.default_rng(0)
    old_noise, clip_zero_shot.NOISE = clip_zero_shot.NOISE, 0.0
    try:
        images, captions, labels = clip_zero_shot.paired_data(clip_zero_shot.CLASSES, 64, rng)
    finally:
        clip_zero_shot.NOISE = old_noise
    masks = clip_zero_shot.shape_masks()
    words = clip_zero_shot.WORDS
    for image, caption, label in zip(images.numpy().reshape(-1, 3, 8, 8), captions.numpy(), labels):
        colour, shape = clip_zero_shot.CLASSES[label]
        assert [words[i] for i in caption] == ["a", "photo", "of", "a", colour, shape]
        np.testing.assert_array_equal(image.max(0) > 0, image.max(0) == 1)  # a clean image is its mask, shifted
        assert (image.max(0) > 0).sum() == masks[shape].sum()                # (rolled: no pixel is lost)
        assert np.allclose(image[:, image.max(0) > 0].T, clip_zero_shot.COLOURS[colour])


def test_zero_shot_accuracies_from_scores():
    labels = np.array([1, 5, 5, 2])                        # classes 1, 2 seen in training; 5 (green square) held out
    assert clip_zero_shot.CLASSES[5] in clip_zero_shot.HELD_OUT and clip_zero_shot.CLASSES[1] not in \
        clip_zero_shot.HELD_OUT
    scores = np.zeros((4, 16))
    scores[0, 1] = scores[1, 5] = scores[3, 3] = 1.0       # rows 0 and 1 right; row 3 wrong
    scores[2, 1], scores[2, 5] = 2.0, 1.0                 # row 2: a seen class wins among 16, its own among held-out
    got = clip_zero_shot.accuracies(scores, labels)
    assert got["all 16 classes"] == 0.5
    assert got["seen combinations"] == 0.5 and got["held-out combinations (16 prompts)"] == 0.5
    assert got["held-out combinations (their 4 prompts)"] == 1.0


def test_loss_at_initialisation_with_tau_one_is_two_log_n():
    measured = clip_zero_shot.loss_at_initialisation(seed=0)
    assert abs(measured["τ = 1"] / (2 * math.log(clip_zero_shot.BATCH)) - 1) < 0.02
    assert measured["τ = 0.07"] > measured["τ = 1"]


# ------------------------------------------------------------------------------ BERT-mini
def test_sentences_follow_the_grammar():
    ids = bert_mlm.sentences(500, np.random.default_rng(0))
    words = np.array(bert_mlm.WORDS)[ids]
    assert (ids[:, 0] == bert_mlm.CLS).all() and (ids[:, -1] == bert_mlm.SEP).all()
    for row in words:
        _, _, the, adjective, noun, verb, the2, obj, stop, _ = ["", *row]
        plural = noun in bert_mlm.NOUNS["plural"]
        assert the == the2 == "the" and stop == "." and adjective in bert_mlm.ADJECTIVES
        assert verb.endswith("s") != plural                      # "cat eats", "cats eat"
        assert obj in bert_mlm.VERBS[verb.removesuffix("s") if not plural else verb]


def test_context_bound_counts_the_free_choices():
    labels = np.full((2, bert_mlm.LENGTH), -100)
    labels[0, 1], labels[0, 2], labels[1, 3], labels[1, 6] = 5, 5, 5, 5    # "the", adjective, noun, object
    assert bert_mlm.context_bound(labels) == pytest.approx((1 + 1 / 4 + 1 / 4 + 1 / 3) / 4)


def test_bert_checks_fail_when_the_model_is_no_better_than_the_baseline():
    measured = {"share chosen among maskable tokens": 0.15, "MLM accuracy on the [MASK] positions": 0.3,
                "frequency baseline accuracy (always the most frequent token)": 0.28,
                "bound set by the grammar (single mask)": 0.69}
    checks = bert_mlm.BertMLM().checks(measured)
    assert [c.holds for c in checks] == [True, False, True]


# ------------------------------------------------------------------------------ ViT and parameter counts
def test_vit_for_cuts_digits_and_mnist_into_patches():
    digits = digit_images(0)
    model = vit_vs_cnn.vit_for(digits)
    assert model.num_patches == 4 and tuple(model(digits.x_test[:2]).shape) == (2, 10)
    mnist = digits._replace(x_train=fk.zeros(1, 1, 28, 28))
    assert vit_vs_cnn.vit_for(mnist).num_patches == 16
    assert tuple(vit_vs_cnn.small_cnn_28()(fk.zeros(2, 1, 28, 28)).shape) == (2, 10)


def test_module_counts_agree_with_pytorch_transformer():
    counts = parameter_counts.module_counts(50, 16, 2, 4)
    torch_count = sum(p.numel() for p in tnn.Transformer(16, 4, 2, 2, 64, batch_first=True).parameters())
    assert counts["nn.Transformer"] == (torch_count, torch_count)
    assert all(counted == closed for counted, closed in counts.values())
