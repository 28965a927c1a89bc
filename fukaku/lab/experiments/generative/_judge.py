"""The judge of generated digits: a classifier trained on real 8×8 digits only, whose probabilities score
samples (confidence-weighted accuracy for conditional models, confidence and class coverage for the others)."""
from __future__ import annotations

import numpy as np

import fukaku as fk
from fukaku import nn, optim


def train_classifier(x: np.ndarray, y: np.ndarray, classes: int, epochs: int, seed: int) -> nn.Module:
    """An MLP (64 → 128 → classes) trained with Adam: the judge of the samples, trained on real digits only."""
    fk.manual_seed(seed)
    model = nn.Sequential(nn.Linear(x.shape[1], 128), nn.ReLU(), nn.Linear(128, classes))
    opt, rng = optim.Adam(model.parameters(), lr=1e-3), np.random.default_rng(seed)
    for _ in range(epochs):
        for batch in np.array_split(rng.permutation(len(x)), max(1, len(x) // 64)):
            loss = nn.functional.cross_entropy(model(fk.tensor(x[batch])), fk.tensor(y[batch]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def probabilities(model: nn.Module, x: np.ndarray) -> np.ndarray:
    """The judge's class probabilities for flattened images ``x`` (N, 64): (N, classes)."""
    with fk.no_grad():
        return fk.softmax(model(fk.tensor(x.astype(np.float32))), dim=1).numpy()
