"""What the CNN experiments that train on images share: the data (MNIST when its files are there, the
8×8 digits otherwise), LeNet-5 trained the PyTorch way, and measures of how edge-like a filter is (the best
fitting Gabor function, the coherence of its gradient orientations)."""
from __future__ import annotations

import functools
import math
import time
from typing import NamedTuple

import numpy as np

import fukaku as fk
import fukaku.nn.functional as F
from fukaku import datasets, nn, optim
from fukaku.models.cnn import LeNet5, gabor_kernel
from fukaku.train import accuracy, fit
from fukaku.utils.data import DataLoader, TensorDataset

from .neocognitron_digits import tile

DIGITS_TEST = 540      # the 8×8 digits' held-out part (30 %)
DIGITS_UPSAMPLE = 4    # 8×8 digits → 32×32 (bilinear), the size LeNet-5 takes without padding
# LeNet-5's training: SGD with momentum, the rate annealed to 0 (cosine). The weight decay shrinks what the data
# never push on — most of the random initialisation — so the first-layer filters show what was learned.
LR, MOMENTUM, WEIGHT_DECAY, BATCH = 0.05, 0.9, 1e-2, 64


class ImageSplit(NamedTuple):
    """Images ``(N, 1, S, S)`` standardised with the training set's mean and standard deviation, int64 labels."""

    description: str
    x_train: fk.Tensor
    y_train: fk.Tensor
    x_test: fk.Tensor
    y_test: fk.Tensor


def digit_images(seed: int = 0, upsample: int = 1) -> ImageSplit:
    """The 8×8 digits, a random 30 % held out (``seed``), optionally enlarged ``upsample`` times (bilinear)."""
    images, labels = datasets.digits(flatten=False)
    order = fk.tensor(np.random.default_rng(seed).permutation(len(labels)))
    images = images.unsqueeze(1)
    if upsample > 1:
        images = F.interpolate(images, scale_factor=upsample, mode="bilinear", align_corners=False)
    test, train = order[:DIGITS_TEST], order[DIGITS_TEST:]
    size = images.shape[-1]
    where = "" if upsample == 1 else f", enlarged to {size}×{size} (bilinear)"
    return _standardised(f"8×8 digits{where}: {len(train)} train / {len(test)} test (random split, seed {seed})",
                         images[train], labels[train], images[test], labels[test])


def mnist_or_digits(seed: int = 0, prefer_mnist: bool = True) -> ImageSplit:
    """MNIST's t10k images split 8,000 train / 2,000 test when the files are found (``../shared/data/mnist`` or
    ``$FUKAKU_DATA``), else the 8×8 digits enlarged to 32×32."""
    if prefer_mnist:
        try:
            x_train, y_train, x_test, y_test = datasets.mnist_split(flatten=False)
        except FileNotFoundError:
            pass
        else:
            return _standardised("MNIST t10k, first 8,000 train / last 2,000 test", x_train.unsqueeze(1), y_train,
                                 x_test.unsqueeze(1), y_test)
    return digit_images(seed, DIGITS_UPSAMPLE)


def _standardised(description: str, x_train, y_train, x_test, y_test) -> ImageSplit:
    mean, std = x_train.mean(), x_train.std()  # as transforms.Normalize with the training set's statistics
    return ImageSplit(description, (x_train - mean) / std, y_train, (x_test - mean) / std, y_test)


def train_lenet(data: ImageSplit, steps: int, seed: int,
                weight_decay: float = WEIGHT_DECAY) -> tuple[LeNet5, np.ndarray, float]:
    """LeNet-5 trained on ``data`` by SGD (momentum, weight decay, cosine schedule) for the whole epochs that
    make at least ``steps`` mini-batches.

    Returns the model in eval mode, its first-layer filters before training ``(6, 5, 5)``, and the seconds the
    training took."""
    epochs = -(-steps // -(-len(data.y_train) // BATCH))
    fk.manual_seed(seed)
    model = LeNet5(input_size=data.x_train.shape[-1])
    initial = model.features[0].weight.detach().numpy()[:, 0].copy()
    optimizer = optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM, weight_decay=weight_decay)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=BATCH, shuffle=True,
                        generator=fk.Generator().manual_seed(seed))
    start = time.perf_counter()
    fit(model, nn.CrossEntropyLoss(), optimizer, loader, epochs=epochs, quiet=True,
        scheduler=optim.lr_scheduler.CosineAnnealingLR(optimizer, epochs))
    seconds = time.perf_counter() - start
    model.eval()
    return model, initial, seconds


def train_steps(model: nn.Module, loss_fn, optimizer, scheduler, loader: DataLoader, steps: int) -> np.ndarray:
    """``steps`` optimizer steps over ``loader`` (as many epochs as that takes), the scheduler stepped after each;
    returns the mini-batch losses. The model is left in training mode."""
    losses: list[float] = []
    model.train()
    while len(losses) < steps:
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            if len(losses) == steps:
                break
    return np.array(losses)


def test_accuracy(model: nn.Module, data: ImageSplit) -> float:
    """The model's accuracy on the held-out images."""
    with fk.no_grad():
        return accuracy(model(data.x_test), data.y_test)


# The Gabor functions a filter is compared with (gabor_kernel's parameters): 12 orientations, 4 phases (with
# the sign free they cover the other 4: even bars, odd edges and between), 4 wavelengths, 2 envelope widths
# (in wavelengths) and 2 aspect ratios; each centred on any pixel within one of the filter's centre.
ORIENTATIONS, PHASES = 12, 4
WAVELENGTHS, SIGMAS, ASPECTS = (4.0, 6.0, 8.0, 12.0), (0.35, 0.56), (0.5, 1.0)
SHIFT = 1


@functools.lru_cache(maxsize=4)
def gabor_atoms(size: int, shift: int = SHIFT) -> np.ndarray:
    """The Gabor functions of the comparison as ``(count, size²)`` rows, each with its mean removed and unit norm;
    centred on the patch's centre pixel or on any pixel within ``shift`` of it."""
    big = size + 2 * shift
    patches = np.stack([gabor_kernel(big, math.pi * k / ORIENTATIONS, wavelength, sigma=width * wavelength,
                                     phase=math.pi * p / PHASES, aspect=aspect, dtype=fk.float64).numpy()
                        for wavelength in WAVELENGTHS for width in SIGMAS for aspect in ASPECTS
                        for p in range(PHASES) for k in range(ORIENTATIONS)])
    crops = np.stack([patches[:, i:i + size, j:j + size] for i in range(2 * shift + 1) for j in range(2 * shift + 1)])
    return _unit_rows(crops.reshape(-1, size * size))


def _unit_rows(rows: np.ndarray) -> np.ndarray:
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return rows / np.where(norms > 0, norms, 1.0)


def gabor_fit(filters: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much of each square filter ``(K, s, s)`` one Gabor function explains: r², the squared correlation with
    the best fitting one of :func:`gabor_atoms` (1 for a Gabor filter, about 0.3 for white noise on 5×5), and that
    Gabor function scaled to the filter, ``(K, s, s)``."""
    filters = np.asarray(filters, dtype=np.float64)
    size = filters.shape[-1]
    atoms = gabor_atoms(size)
    rows = _unit_rows(filters.reshape(len(filters), -1))
    corr = rows @ atoms.T
    best = np.abs(corr).argmax(axis=1)
    r = corr[np.arange(len(rows)), best]
    flat = filters.reshape(len(filters), -1)
    scale = np.linalg.norm(flat - flat.mean(axis=1, keepdims=True), axis=1)
    fitted = (r * scale)[:, None] * atoms[best] + flat.mean(axis=1, keepdims=True)
    return r ** 2, fitted.reshape(filters.shape)


def single_edge_share(patterns: np.ndarray, size: int = 5) -> np.ndarray:
    """The share of each pattern's energy ``(N, H, W)`` that its best single ``size × size`` Gabor function (an edge
    or bar of any orientation, phase and scale of :func:`gabor_atoms`, placed anywhere) captures: ⟨x, g⟩² / ‖x‖²
    for the best unit-norm g. Near 1 for one edge; small for a pattern made of many."""
    atoms = fk.tensor(gabor_atoms(size, shift=0).reshape(-1, 1, size, size))
    with fk.no_grad():
        response = F.conv2d(fk.tensor(np.asarray(patterns, dtype=np.float64)[:, None]), atoms, padding=size // 2)
    best = (response.numpy() ** 2).reshape(len(patterns), -1).max(axis=1)
    return best / (np.asarray(patterns, dtype=np.float64) ** 2).sum(axis=(1, 2))


def orientation_coherence(filters: np.ndarray) -> np.ndarray:
    """The coherence of each filter's gradient orientations, from its structure tensor J = Σ ∇f ∇fᵀ:
    (λ₁ − λ₂)/(λ₁ + λ₂), 1 when every gradient has the same orientation (an edge or a bar), near 0 when all
    orientations are equally present (noise, a blob)."""
    gy, gx = np.gradient(np.asarray(filters, dtype=np.float64), axis=(-2, -1))
    jxx, jyy, jxy = (gx * gx).sum(axis=(-2, -1)), (gy * gy).sum(axis=(-2, -1)), (gx * gy).sum(axis=(-2, -1))
    trace = jxx + jyy
    return np.sqrt((jxx - jyy) ** 2 + 4 * jxy ** 2) / np.where(trace > 0, trace, 1.0)


def random_filters(count: int, kernel_size: int, seed: int) -> np.ndarray:
    """``count`` single-channel filters as ``nn.Conv2d`` initialises them (PyTorch's default), ``(count, k, k)``:
    what an untrained first layer holds, the null distribution of the measures above."""
    fk.manual_seed(seed)
    return nn.Conv2d(1, count, kernel_size, bias=False).weight.detach().numpy()[:, 0]


def scaled_tiles(images: np.ndarray, cols: int) -> np.ndarray:
    """Square images ``(K, s, s)`` in a grid (:func:`tile`), each scaled to [−1, 1] by its largest magnitude."""
    peaks = np.abs(images).reshape(len(images), -1).max(axis=1)
    return tile(images / np.where(peaks > 0, peaks, 1.0)[:, None, None], cols)
