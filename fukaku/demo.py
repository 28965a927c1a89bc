"""``make demo``: a 2-hidden-layer MLP written with raw tensors learns the two-class spiral.

No layers, no optimizer classes — only tensors, autograd and a hand-written update, so the whole
training loop of seed 000 §6.1.2 (forward pass → loss → backward pass → gradient step) is visible.
The spiral is TensorFlow Playground's (seed 003): r = 5i/n, t = 1.75·2π·i/n + Δ, Δ ∈ {0, π}.
"""
from __future__ import annotations

import argparse
import math
import time

import numpy as np

import fukaku as fk


def two_spirals(n_per_class: int = 250, noise: float = 0.0, seed: int = 0) -> tuple[fk.Tensor, fk.Tensor]:
    """Points ``(2n, 2)`` and int64 labels ``(2n,)`` of two interleaved spirals."""
    rng = np.random.default_rng(seed)
    i = np.arange(n_per_class)
    r = 5.0 * i / n_per_class
    points, labels = [], []
    for label, delta in ((0, 0.0), (1, math.pi)):
        t = 1.75 * 2 * math.pi * i / n_per_class + delta
        xy = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        points.append(xy + rng.uniform(-1, 1, xy.shape) * noise)
        labels.append(np.full(n_per_class, label))
    return fk.tensor(np.concatenate(points).astype(np.float32)), fk.tensor(np.concatenate(labels))


def init_mlp(sizes: list[int]) -> list[fk.Tensor]:
    """Weights with He-uniform scale (for ReLU), biases zero."""
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = math.sqrt(6.0 / fan_in)
        params.append((fk.rand(fan_in, fan_out) * 2 * bound - bound).requires_grad_())
        params.append(fk.zeros(fan_out, requires_grad=True))
    return params


def forward(params: list[fk.Tensor], x: fk.Tensor) -> fk.Tensor:
    """h⁽ˡ⁾ = ReLU(h⁽ˡ⁻¹⁾W⁽ˡ⁾ + b⁽ˡ⁾), identity on the last layer (logits) — seed 000 §6.1.2."""
    h = x
    for k in range(0, len(params) - 2, 2):
        h = (h @ params[k] + params[k + 1]).relu()
    return h @ params[-2] + params[-1]


def cross_entropy(logits: fk.Tensor, labels: fk.Tensor) -> fk.Tensor:
    """Mean of −log softmax(logits)[label] (softmax + cross-entropy, seed 003)."""
    logp = logits.log_softmax(dim=1)
    return -logp[fk.arange(len(labels)), labels].mean()


def accuracy(params: list[fk.Tensor], x: fk.Tensor, y: fk.Tensor) -> float:
    with fk.no_grad():
        return (forward(params, x).argmax(dim=1) == y).float().mean().item()


def train(epochs: int = 300, hidden: int = 64, lr: float = 0.01, batch_size: int = 50, noise: float = 0.2,
          seed: int = 0, quiet: bool = False) -> tuple[float, float]:
    """Adam on mini-batches; prints the loss as it falls; returns (train, held-out) accuracy."""
    fk.manual_seed(seed)
    x, y = two_spirals(noise=noise, seed=seed)
    x_test, y_test = two_spirals(noise=noise, seed=seed + 1)  # fresh noise: a held-out set
    params = init_mlp([2, hidden, hidden, 2])
    m = [fk.zeros_like(p) for p in params]
    v = [fk.zeros_like(p) for p in params]
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    rng = np.random.default_rng(seed)
    step = 0
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        order = rng.permutation(len(y))
        for s in range(0, len(y), batch_size):
            idx = fk.tensor(order[s:s + batch_size])
            loss = cross_entropy(forward(params, x[idx]), y[idx])
            for p in params:
                p.grad = None
            loss.backward()
            step += 1
            with fk.no_grad():  # Adam, written out (Kingma & Ba 2015)
                for p, mk, vk in zip(params, m, v):
                    mk.mul_(beta1).add_(p.grad * (1 - beta1))
                    vk.mul_(beta2).add_(p.grad * p.grad * (1 - beta2))
                    m_hat = mk / (1 - beta1 ** step)
                    v_hat = vk / (1 - beta2 ** step)
                    p.sub_(lr * m_hat / (v_hat.sqrt() + eps))
        if not quiet and (epoch == 1 or epoch % max(1, epochs // 10) == 0):
            with fk.no_grad():
                full_loss = cross_entropy(forward(params, x), y).item()
            print(f"epoch {epoch:4d}  loss {full_loss:.4f}")
    train_acc, test_acc = accuracy(params, x, y), accuracy(params, x_test, y_test)
    if not quiet:
        print(f"accuracy {train_acc:.1%} on the {len(y)} training points, {test_acc:.1%} on {len(y_test)} held-out "
              f"points, after {epochs} epochs ({time.perf_counter() - start:.1f} s)")
    return train_acc, test_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--noise", type=float, default=0.2, help="uniform noise added to each coordinate")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    train(args.epochs, args.hidden, args.lr, noise=args.noise, seed=args.seed)


if __name__ == "__main__":
    main()
