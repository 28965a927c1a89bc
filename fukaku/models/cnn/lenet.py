"""LeNet-5 (LeCun, Bottou, Bengio & Haffner 1998) — the CNN of seed 002 ch. 3, written the PyTorch way.

Seed 002 ch. 3 tells how LeCun kept the Neocognitron's alternation of feature-extracting and
pooling layers and trained it with backpropagation; seed 004 §3.3 and seed 001 §9.2 give the
recipe every later CNN follows: convolution → activation (the detection stage) → pooling, repeated,
then flatten → fully connected layers → class scores (seed 000 §6.2).

Layers (input 1×32×32, or 1×28×28 with padding 2 so that the first feature map is still 28×28):

    C1 conv 5×5, 6 maps → activation → S2 pool 2×2 → C3 conv 5×5, 16 maps → activation → S4 pool 2×2
    → flatten (16·5·5 = 400) → F5 Linear 120 → activation → F6 Linear 84 → activation → Linear 10

Departures from the 1998 paper, as PyTorch tutorials make them: C3 connects every S2 map (the paper
wires 10 of the 16 maps to subsets), the pooling layers have no trainable coefficient, the output is a
Linear layer (logits, for ``nn.CrossEntropyLoss``) instead of Euclidean RBF units, and the activation
is ReLU by default (``activation='tanh'`` gives the paper's squashing function up to its scale).
"""
from __future__ import annotations

from ... import nn
from ...nn.modules.module import Module
from ...tensor import Tensor
from ._util import check_input, conv_output_size

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


class LeNet5(Module):
    """``LeNet5(num_classes=10, in_channels=1, input_size=28, activation='relu', pooling='max', padding=None)``.

    Args:
        num_classes: the width of the output layer (logits).
        in_channels: channels of the input image (1 for digits, 3 for colour).
        input_size: height = width of the input image (28 for MNIST, 32 for the paper's padded digits).
        activation: ``'relu'`` or ``'tanh'``, after every convolution and hidden Linear layer.
        pooling: ``'max'`` (``nn.MaxPool2d(2)``) or ``'avg'`` (``nn.AvgPool2d(2)``, the paper's subsampling).
        padding: zero padding of C1; ``None`` picks 2 for 28×28 inputs and 0 otherwise.

    Shape:
        ``(N, in_channels, input_size, input_size)`` → ``(N, num_classes)``.

    State-dict keys are those of ``features = nn.Sequential(conv, act, pool, conv, act, pool)`` and
    ``classifier = nn.Sequential(Linear, act, Linear, act, Linear)``: ``features.0.weight``,
    ``features.3.weight``, ``classifier.0.weight``, ``classifier.2.weight``, ``classifier.4.weight`` and
    their biases. With the defaults the model has 61,706 parameters.

    Examples:
        >>> model = LeNet5()
        >>> model(fk.randn(8, 1, 28, 28)).shape
        fukaku.Size([8, 10])
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, input_size: int = 28, activation: str = "relu",
                 pooling: str = "max", padding: int | None = None) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)}, got {activation!r}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"LeNet5: pooling must be 'max' or 'avg', got {pooling!r}")
        padding = (2 if input_size == 28 else 0) if padding is None else int(padding)
        # O = (N − F + 2Q)/s + 1 (seed 004 §3.3) through C1, S2, C3, S4
        side = conv_output_size(input_size, 5, padding)
        side = conv_output_size(side // 2, 5) // 2
        if side < 1:
            raise ValueError(f"LeNet5: a {input_size}×{input_size} input with padding {padding} leaves no pixel after "
                             "C1 (5×5), S2 (2×2), C3 (5×5), S4 (2×2): O = (N − F + 2Q)/s + 1 must stay ≥ 1 at each; "
                             "use input_size ≥ 28 with padding 2, or ≥ 32")
        self.num_classes, self.in_channels, self.input_size = int(num_classes), int(in_channels), int(input_size)
        self.activation, self.pooling, self.padding = activation, pooling, padding
        act = _ACTIVATIONS[activation]
        pool = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), act(), pool(2),
            nn.Conv2d(6, 16, 5), act(), pool(2),
        )
        self.classifier = nn.Sequential(
            nn.Linear(16 * side * side, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, num_classes),
        )

    def forward(self, input: Tensor) -> Tensor:
        check_input("LeNet5", input, self.in_channels, size=self.input_size)
        return self.classifier(self.features(input).flatten(1))

    def extra_repr(self) -> str:
        return (f"num_classes={self.num_classes}, in_channels={self.in_channels}, input_size={self.input_size}, "
                f"activation={self.activation!r}, pooling={self.pooling!r}")


__all__ = ["LeNet5"]
