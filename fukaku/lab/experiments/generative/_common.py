"""What the autoencoder and VAE experiments share: the images (scikit-learn's 8×8 digits in the quick run; MNIST
in the full run when its files are found, else the digits again, saying why) and the training loops (full-batch
L-BFGS for the linear autoencoders, whose loss is a smooth least-squares problem; Adam on shuffled mini-batches
for the others)."""
from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

import fukaku as fk
from fukaku import datasets, nn, optim

from ...registry import Context

DIGITS_TEST = 360   # the 8×8 digits' held-out part (a random fifth of 1,797)


class Images(NamedTuple):
    """Flattened images with pixels in [0, 1]: ``train`` ``(N, side²)``, ``test`` ``(M, side²)`` (float32), and the
    test images' digit labels ``(M,)``."""

    description: str
    train: np.ndarray
    test: np.ndarray
    side: int
    test_labels: np.ndarray


def digits(seed: int = 0) -> Images:
    """The 8×8 digits, a random fifth held out (``seed``)."""
    x, y = datasets.digits(return_tensors=False)
    order = np.random.default_rng(seed).permutation(len(x))
    return Images(f"8×8 digits: {len(x) - DIGITS_TEST} train / {DIGITS_TEST} test (random split, seed {seed})",
                  x[order[DIGITS_TEST:]], x[order[:DIGITS_TEST]], 8, y[order[:DIGITS_TEST]])


def images(ctx: Context) -> Images:
    """The digits in the quick run; in the full run MNIST's t10k images split 8,000 train / 2,000 test when the
    files are found (``../shared/data/mnist`` or ``$FUKAKU_DATA``), else the digits, the description saying so."""
    if ctx.quick:
        return digits(ctx.seed)
    try:
        x_train, _, x_test, y_test = datasets.mnist_split(return_tensors=False)
    except FileNotFoundError as exc:
        data = digits(ctx.seed)
        return data._replace(description=f"{data.description}; MNIST skipped: {exc}")
    return Images("MNIST t10k, first 8,000 train / last 2,000 test", x_train.astype(np.float32),
                  x_test.astype(np.float32), 28, y_test)


def fit_lbfgs(model: nn.Module, x: fk.Tensor, iterations: int) -> float:
    """Minimise ``model.loss(x)`` over the whole batch by L-BFGS (strong Wolfe line search) for at most
    ``iterations`` iterations; returns the final loss."""
    optimizer = optim.LBFGS(model.parameters(), lr=1, max_iter=iterations, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-12, tolerance_change=1e-15)

    def closure():
        optimizer.zero_grad()
        loss = model.loss(x)
        loss.backward()
        return loss

    optimizer.step(closure)
    with fk.no_grad():
        return model.loss(x).item()


def fit_adam(model: nn.Module, x: np.ndarray, steps: int, lr: float, batch: int, seed: int,
             loss: Callable[[nn.Module, fk.Tensor], fk.Tensor] | None = None) -> np.ndarray:
    """``steps`` Adam updates of ``model.loss`` (or ``loss(model, batch)``) on mini-batches of ``x``, drawn by
    reshuffling every epoch (``seed``), the rate annealed to 0 along a cosine. Returns the training losses."""
    rng = np.random.default_rng(seed)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, steps)
    data, order, at = fk.tensor(x), rng.permutation(len(x)), 0
    losses = np.empty(steps)
    model.train()
    for step in range(steps):
        if at + batch > len(x):
            order, at = rng.permutation(len(x)), 0
        xb = data[fk.tensor(order[at:at + batch])]
        at += batch
        value = model.loss(xb) if loss is None else loss(model, xb)
        optimizer.zero_grad()
        value.backward()
        optimizer.step()
        scheduler.step()
        losses[step] = value.item()
    model.eval()
    return losses


def relative_error(x: np.ndarray, reconstruction: np.ndarray, reference: np.ndarray) -> float:
    """Σ‖x − x̂‖² / Σ‖x − mean(reference)‖²: the share of the inputs' variance around the training mean that the
    reconstruction misses (0 for a perfect copy; about 1 for one that outputs the mean)."""
    return float(((x - reconstruction) ** 2).sum() / ((x - reference.mean(0)) ** 2).sum())
