"""The deep belief network of seed 000 §6.1.5: a stack of RBMs pretrained greedily, layer by layer, with a softmax
head on top, then fine-tuned as a feed-forward network by backpropagation.

Pretraining trains the first RBM on the data, then each next RBM on the hidden probabilities P(h = 1 | v) the
layer below produces for the data, by contrastive divergence. Read as a network, layer l computes
σ(x W_l + c_l) — the RBM's P(h = 1 | v) — so the pretrained weights and hidden biases initialise a sigmoid MLP
whose softmax head and every layer are then fine-tuned with fukaku's autograd.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..._checks import check_int
from ..._generator import resolve_generator
from ...nn.modules.container import ModuleList
from ...nn.modules.linear import Linear
from ...nn.modules.module import Module
from ...tensor import Tensor, tensor
from .rbm import RBM

__all__ = ["DBN"]


class DBN(Module):
    """A deep belief network: RBMs of sizes ``layer_sizes`` stacked, and a linear softmax head (seed 000 §6.1.5).

    Args:
        layer_sizes: ``[visible, hidden_1, …, hidden_L]``; RBM l has ``layer_sizes[l]`` visible and
            ``layer_sizes[l + 1]`` hidden units.
        num_classes: outputs of the softmax head (its logits; use ``nn.CrossEntropyLoss``).
        init_std: standard deviation of the RBMs' initial weights.
        generator: the random generator of the initial weights.

    Shape:
        input (batch, layer_sizes[0]) with values in [0, 1]; output logits (batch, num_classes).

    Examples:
        >>> dbn = DBN([64, 32, 16], num_classes=10)
        >>> errors = dbn.pretrain(x, epochs=5)          # greedy, layer by layer (CD-1)
        >>> loss = nn.CrossEntropyLoss()(dbn(x), y)     # then fine-tune every layer with autograd
    """

    def __init__(self, layer_sizes: Sequence[int], num_classes: int, init_std: float = 0.01,
                 generator=None) -> None:
        super().__init__()
        sizes = list(layer_sizes)
        if len(sizes) < 2 or any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ValueError(f"DBN: layer_sizes must be at least [visible, hidden] of positive integers, got {sizes!r}")
        check_int(num_classes, "num_classes", "DBN")
        self.layer_sizes = sizes
        rng = resolve_generator(generator, "DBN")
        self.rbms = ModuleList([RBM(a, b, init_std=init_std, generator=rng) for a, b in zip(sizes[:-1], sizes[1:])])
        self.head = Linear(sizes[-1], num_classes)

    def extra_repr(self) -> str:
        return f"layer_sizes={self.layer_sizes}"

    def features(self, x: Tensor) -> Tensor:
        """The top layer's activations σ(… σ(x W_1 + c_1) … W_L + c_L), (batch, layer_sizes[-1]); differentiable."""
        for rbm in self.rbms:
            x = rbm.hidden_probs(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))

    def pretrain(self, data: Tensor, epochs: int = 10, lr: float = 0.05, batch_size: int = 20, k: int = 1,
                 persistent: bool = False, generator=None) -> list[list[float]]:
        """Greedy layer-wise pretraining: RBM l is trained by CD-k (or persistent CD) on the hidden probabilities
        of the layers below for ``data``, for ``epochs`` epochs of shuffled mini-batches.

        Returns each layer's mean reconstruction error per epoch ``[[layer 1's epochs…], …]``."""
        check_int(epochs, "epochs", "DBN.pretrain")
        check_int(batch_size, "batch_size", "DBN.pretrain")
        rng = resolve_generator(generator, "DBN.pretrain")
        x = data.detach() if isinstance(data, Tensor) else tensor(np.asarray(data, dtype=np.float32))
        if x.ndim != 2 or x.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"DBN.pretrain: data must have shape (batch, {self.layer_sizes[0]}), got {tuple(x.shape)}")
        history = []
        for rbm in self.rbms:
            errors = []
            for _ in range(int(epochs)):
                order = rng.permutation(len(x))
                errors.append(float(np.mean([rbm.cd_step(x[tensor(order[i:i + batch_size])], lr=lr, k=k,
                                                         persistent=persistent, generator=rng)
                                             for i in range(0, len(x), batch_size)])))
            history.append(errors)
            x = rbm.hidden_probs(x).detach()          # the next layer's data
        return history
