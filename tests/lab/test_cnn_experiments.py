"""The measuring helpers of the CNN lab experiments that train on images, each against an independent oracle:
closed forms, autograd, hand-made patterns. (The experiments themselves run in quick mode in test_experiments.)"""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import fukaku as fk
from fukaku import datasets, nn
from fukaku.lab.experiments.cnn import _images, activation_maximisation, cnn_vs_mlp, resnet_vs_plain, \
    unet_segmentation
from fukaku.models import MLP
from fukaku.models.cnn import gabor_kernel


def _gabor(size: int, theta: float, wavelength: float, phase: float = 0.0) -> np.ndarray:
    return gabor_kernel(size, theta, wavelength, phase=phase, dtype=fk.float64).numpy()


# ------------------------------------------------------------------------------ edge measures
def test_gabor_fit_is_one_for_a_gabor_filter_and_low_for_noise():
    in_bank = _gabor(7, math.pi / 6, 6.0)[1:6, 1:6]                 # a member of the bank, shifted one pixel
    off_bank = _gabor(5, math.radians(7), 5.0, phase=0.3)           # orientation, wavelength, phase between the bank's
    noise = np.random.default_rng(0).standard_normal((200, 5, 5))
    r2, fitted = _images.gabor_fit(np.stack([in_bank, off_bank, 3 * in_bank + 2]))
    assert r2[0] == pytest.approx(1.0, abs=1e-9) and r2[2] == pytest.approx(1.0, abs=1e-9)  # scale and offset free
    np.testing.assert_allclose(fitted[2], 3 * in_bank + 2, atol=1e-9)
    assert r2[1] > 0.9
    assert np.median(_images.gabor_fit(noise)[0]) < 0.4


def test_orientation_coherence_of_an_edge_and_of_an_isotropic_blob():
    x = np.arange(9) - 4.0
    edge = np.tanh(x[None, :] * np.cos(0.4) + x[:, None] * np.sin(0.4)) * np.ones((9, 9))
    blob = np.exp(-(x[None, :] ** 2 + x[:, None] ** 2) / 8)
    coherence = _images.orientation_coherence(np.stack([edge, blob]))
    assert coherence[0] > 0.99
    assert coherence[1] < 1e-9


def test_single_edge_share_counts_the_edges_a_pattern_is_made_of():
    atom = _images.gabor_atoms(5, shift=0)[37].reshape(5, 5)       # one unit-norm, zero-mean atom of the bank
    one, two = np.zeros((28, 28)), np.zeros((28, 28))
    one[3:8, 10:15] = atom
    two[3:8, 3:8] = atom
    two[20:25, 20:25] = atom.T                                       # the same edge turned, far away: no overlap
    share = _images.single_edge_share(np.stack([one, two]))
    np.testing.assert_allclose(share, [1.0, 0.5], atol=1e-6)


# ------------------------------------------------------------------------------ data
def test_mnist_or_digits_falls_back_to_the_digits_and_standardises(monkeypatch):
    def missing(*args, **kwargs):
        raise FileNotFoundError("no MNIST here")

    monkeypatch.setattr(datasets, "mnist_split", missing)
    data = _images.mnist_or_digits(seed=3)
    assert data.description.startswith("8×8 digits, enlarged to 32×32")
    assert tuple(data.x_train.shape) == (1797 - 540, 1, 32, 32) and tuple(data.x_test.shape) == (540, 1, 32, 32)
    train = data.x_train.numpy().astype(np.float64)
    assert abs(train.mean()) < 1e-5 and train.std(ddof=1) == pytest.approx(1.0, abs=1e-5)
    again = _images.digit_images(seed=3, upsample=4)
    np.testing.assert_array_equal(again.y_test.numpy(), data.y_test.numpy())  # the split follows the seed
    assert sorted(np.concatenate([data.y_train.numpy(), data.y_test.numpy()]).tolist()) == sorted(
        datasets.digits(return_tensors=False)[1].tolist())


def test_train_steps_takes_exactly_that_many_steps_across_epochs():
    fk.manual_seed(0)
    model = nn.Linear(3, 2)
    optimizer = fk.optim.SGD(model.parameters(), lr=0.1)
    scheduler = fk.optim.lr_scheduler.StepLR(optimizer, step_size=1000)
    loader = fk.utils.data.DataLoader(fk.utils.data.TensorDataset(fk.randn(10, 3), fk.randint(0, 2, (10,))),
                                      batch_size=4)  # 3 batches an epoch
    losses = _images.train_steps(model, nn.CrossEntropyLoss(), optimizer, scheduler, loader, 7)
    assert losses.shape == (7,) and scheduler.last_epoch == 7


# ------------------------------------------------------------------------------ activation maximisation
def test_receptive_field_matches_the_support_of_the_gradient():
    """Through a stack with positive weights and average pooling, the gradient of one output with respect to the
    input is nonzero exactly on that output's receptive field."""
    stack = nn.Sequential(nn.Conv2d(1, 1, 5, padding=2), nn.AvgPool2d(2), nn.Conv2d(1, 1, 3, stride=2, padding=1))
    for layer in (stack[0], stack[2]):
        nn.init.uniform_(layer.weight, 0.5, 1.0)
    x = fk.zeros(1, 1, 40, 40, requires_grad=True)
    stack(x)[0, 0, 4, 4].backward()
    rows = np.flatnonzero(x.grad.numpy()[0, 0].any(axis=1))
    first, last = activation_maximisation.receptive_field(list(stack), 4)
    assert (rows.min(), rows.max()) == (first, last) == (12, 21)  # by hand: 4 → 7…9 → 14…19 → 12…21


def test_maximise_finds_the_closed_form_optimum_of_linear_units():
    """For S_k(x) = w_k·x the optimum of S_k(x) − λ‖x‖² is w_k / (2λ): the unit's own weights."""
    fk.manual_seed(1)
    weights = fk.randn(3, 36) * 0.02
    optimum = activation_maximisation.maximise(lambda x: x.flatten(1) @ weights.T, 3, 6, 800, seed=0)
    expected = weights.numpy().reshape(3, 6, 6) / (2 * activation_maximisation.PENALTY)
    np.testing.assert_allclose(optimum, expected, atol=2e-3 * np.abs(expected).max())


def test_extent_counts_the_pixels_holding_ninety_percent_of_the_energy():
    pattern = np.zeros((1, 4, 4))
    pattern[0, 0, :3] = [3.0, 2.0, 1.0]  # energies 9, 4, 1 of 14: two pixels hold 13/14 ≥ 0.9, one holds 9/14
    assert activation_maximisation.extent(pattern).tolist() == [2]


# ------------------------------------------------------------------------------ U-Net
def test_iou_against_counted_overlaps():
    a, b = np.zeros((2, 6, 6), dtype=bool), np.zeros((2, 6, 6), dtype=bool)
    a[0, :2, :3], b[0, 1:3, :3] = True, True   # 3 shared of 9 pixels
    np.testing.assert_allclose(unet_segmentation.iou(a, b), [3 / 9, 1.0])  # two empty masks agree


def test_generated_shapes_are_brighter_than_their_background_and_sized_as_stated():
    rng = np.random.default_rng(0)
    images, masks, kinds = unet_segmentation.shapes(400, rng)
    assert images.shape == masks.shape == (400, 1, 32, 32) and set(np.unique(masks)) == {0.0, 1.0}
    assert set(np.unique(kinds)) == {-1, 0, 1, 2} and 0.4 < (kinds == -1).mean() < 0.6
    area = masks.sum(axis=(1, 2, 3))
    circles = area[kinds == 0] / (32 * 32)
    low, high = unet_segmentation.RADIUS
    assert np.all(circles > 0.9 * math.pi * low ** 2) and np.all(circles < 1.1 * math.pi * high ** 2)
    inside, outside = images[masks > 0], images[masks == 0]
    assert inside.mean() - outside.mean() == pytest.approx(np.mean(unet_segmentation.CONTRAST), abs=0.1)
    again = unet_segmentation.shapes(400, np.random.default_rng(0))
    np.testing.assert_array_equal(again[0], images)


# ------------------------------------------------------------------------------ ResNet vs plain, CNN vs MLP
def test_the_schedule_warms_up_then_follows_a_cosine_to_zero():
    steps = 200
    warmup = int(resnet_vs_plain.WARMUP * steps)
    factors = [resnet_vs_plain.schedule(step, steps) for step in range(steps + 1)]
    assert factors[0] == pytest.approx(0.1) and factors[warmup] == pytest.approx(1.0) and factors[-1] == pytest.approx(0)
    middle = warmup + (steps - warmup) // 2
    assert factors[middle] == pytest.approx(0.5)
    assert np.all(np.diff(factors[:warmup + 1]) > 0) and np.all(np.diff(factors[warmup:]) < 0)


def test_the_small_cnn_matches_torch_and_has_fewer_parameters_than_every_mlp():
    fk.manual_seed(0)
    ours = cnn_vs_mlp.small_cnn()
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.BatchNorm2d(16), torch.nn.ReLU(),
                                 torch.nn.MaxPool2d(2), torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.BatchNorm2d(32),
                                 torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(), torch.nn.Linear(128, 10))
    theirs.load_state_dict({k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()})
    x = fk.randn(5, 1, 8, 8)
    np.testing.assert_allclose(ours(x).detach().numpy(), theirs(torch.from_numpy(x.numpy())).detach().numpy(),
                               atol=1e-5)  # training mode: batch statistics
    count = cnn_vs_mlp.parameters(ours)
    assert count == sum(p.numel() for p in theirs.parameters()) == 6186
    assert all(count < cnn_vs_mlp.parameters(build()) for build in cnn_vs_mlp.mlps(64, batchnorm=True).values())
    assert [cnn_vs_mlp.parameters(build()) for build in cnn_vs_mlp.mlps(64, batchnorm=True).values()] == [
        7710, 23110, 77010]
    assert [cnn_vs_mlp.parameters(MLP([784, h, 10])) for h in cnn_vs_mlp.HIDDEN] == [79510, 238510, 795010]
