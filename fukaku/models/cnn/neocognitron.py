"""The Neocognitron (Fukushima 1980) — seed 002 ch. 3 §3.2, seed 000 §6.2.

Fukushima alternated layers of the two kinds of cell Hubel and Wiesel found (:mod:`.cells`): U_S layers
of simple-like S-cells, which today we call convolution layers, and U_C layers of complex-like C-cells,
which we call pooling layers. Its learning rule is not backpropagation but the unsupervised one-pass
*Add-if-Silent* (AiS) rule: "when the previous layer responded but no convolution of this layer did, add
one convolution there" (seed 002 §3.2). One presentation of the training images finishes the learning.

The S-cell of Fukushima (2013, *Neural Networks* 37) with a unit-norm weight vector a_k over its
receptive field responds to the patch x of the previous layer as

    u_k = ReLU(a_k · x − θ ‖x‖) / (1 − θ) = ‖x‖ · ReLU(cos(a_k, x) − θ) / (1 − θ),

a convolution (a_k · x at every position), an inhibition by the patch norm ‖x‖ (Fukushima's V-cell),
and a rectification: the cell fires when the patch is within angle arccos θ of its weight vector — seed
001's "convolution as similarity" with a threshold θ ∈ [0, 1) (θ = 0: a plain conv + ReLU).

AiS, for each training image in turn: at every position where the previous layer responded
(‖x‖ > ``min_norm``) but every S-cell of this layer is silent (u_k = 0 for all k), a new cell plane is
generated whose weight vector is the normalised patch x/‖x‖ at the strongest such position; the new
plane then responds there (cos = 1 > θ) and at every position whose patch lies within arccos θ of it,
and the next silent position, if any, seeds the next plane. Layers are grown one after another, each
on the C-layer output of the layers below it.

A C-layer is max pooling (:class:`~.cells.ComplexCells` with a window); the top C-layer's output,
flattened, feeds a linear read-out fitted by least squares on one-hot labels (the only use of the labels).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ... import nn
from ...autograd.grad_mode import no_grad
from ...nn import functional as F
from ...nn.modules.module import Module
from ...dtypes import get_default_dtype
from ...errors import ShapeError
from ...tensor import Generator, Tensor, ones, randperm, tensor, zeros
from ..classical.linear_regression import LinearRegression
from .cells import ComplexCells

__all__ = ["SLayer", "Neocognitron"]


def _image_batch(images, where: str, dtype) -> Tensor:
    """Images as a float ``(N, C, H, W)`` tensor of ``dtype`` (a ``(N, H, W)`` batch gains C = 1)."""
    x = images if isinstance(images, Tensor) else tensor(np.asarray(images))
    if x.dim() == 3:
        x = x.unsqueeze(1)
    if x.dim() != 4:
        raise ShapeError(f"{where}: expected images (N, C, H, W) or (N, H, W), got shape {tuple(x.shape)}")
    return x.to(dtype)


class SLayer(Module):
    """``SLayer(in_channels, kernel_size, threshold=0.5, padding=0, max_planes=None, min_norm=1e-3)``: a U_S layer.

    Cell plane k is the S-cell response u_k = ReLU(a_k · x − θ‖x‖)/(1 − θ) at every position (module
    docstring): ``F.conv2d`` with the unit-norm weights ``weight`` (a buffer in ``nn.Conv2d``'s layout
    ``(K, in_channels, k, k)``, grown by :meth:`add_if_silent`, never by gradients), minus θ times the
    patch norm (a second ``F.conv2d`` of x² with a ones kernel), rectified. It starts with K = 0 planes.

    Args:
        in_channels: channels of the input; ``None`` takes them from the first images grown on.
        kernel_size: the side k of the square receptive field.
        threshold: θ ∈ [0, 1): a cell fires when cos(a_k, x) > θ.
        padding: zero padding on each side (``kernel_size // 2`` keeps H and W).
        max_planes: stop adding planes at this many (``None``: no limit).
        min_norm: the previous layer has "responded" at a position when its patch norm exceeds this.

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, K, H + 2·padding − k + 1, W + 2·padding − k + 1)``.
    """

    def __init__(self, in_channels: int | None, kernel_size: int, threshold: float = 0.5, padding: int = 0,
                 max_planes: int | None = None, min_norm: float = 1e-3, dtype=None) -> None:
        super().__init__()
        if not 0 <= threshold < 1:
            raise ValueError(f"SLayer: threshold θ must be in [0, 1), got {threshold}")
        if int(kernel_size) < 1 or int(padding) < 0 or (max_planes is not None and int(max_planes) < 1):
            raise ValueError(f"SLayer: need kernel_size >= 1, padding >= 0 and max_planes >= 1 (or None); got "
                             f"kernel_size={kernel_size}, padding={padding}, max_planes={max_planes}")
        self.kernel_size, self.padding, self.threshold = int(kernel_size), int(padding), float(threshold)
        self.max_planes = None if max_planes is None else int(max_planes)
        self.min_norm = float(min_norm)
        self.in_channels = None if in_channels is None else int(in_channels)
        k = self.kernel_size
        self.register_buffer("weight", zeros(0, self.in_channels or 0, k, k, dtype=dtype or get_default_dtype()))

    @property
    def planes(self) -> int:
        """K, the number of cell planes grown so far."""
        return self.weight.shape[0]

    def extra_repr(self) -> str:
        return (f"in_channels={self.in_channels}, planes={self.planes}, kernel_size={self.kernel_size}, "
                f"threshold={self.threshold}, padding={self.padding}")

    def patch_norm(self, input: Tensor) -> Tensor:
        """‖x‖ of the receptive-field patch at every position (Fukushima's V-cell), ``(N, 1, H', W')``."""
        k, channels = self.kernel_size, input.shape[1]
        box = ones(1, channels, k, k, dtype=input.dtype)
        return F.conv2d(input * input, box, padding=self.padding).clamp(min=0).sqrt()

    def forward(self, input: Tensor) -> Tensor:
        self._check(input)
        norm = self.patch_norm(input)
        if self.planes == 0:
            return zeros(input.shape[0], 0, *norm.shape[2:], dtype=input.dtype)
        similarity = F.conv2d(input, self.weight, padding=self.padding)
        return F.relu(similarity - self.threshold * norm) / (1 - self.threshold)

    def _check(self, input: Tensor) -> None:
        if input.dim() != 4 or (self.in_channels is not None and input.shape[1] != self.in_channels):
            raise ShapeError(f"SLayer: expected input (N, {self.in_channels or 'C'}, H, W), got shape "
                             f"{tuple(input.shape)}; feed it the output of the C-layer below it (or a batch of "
                             "images, add the batch dimension with x.unsqueeze(0))")

    def patches(self, input: Tensor) -> np.ndarray:
        """Every receptive-field patch of ``input``, float64 ``(N, H'·W', C·k·k)``, flattened in the order of
        ``weight[k].reshape(-1)``: row p of image n is the x whose a · x is ``F.conv2d``'s output at position p."""
        self._check(input)
        k, p = self.kernel_size, self.padding
        x = np.pad(input.detach().numpy().astype(np.float64), ((0, 0), (0, 0), (p, p), (p, p)))
        windows = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(2, 3))  # (N, C, H', W', k, k)
        n, c, h, w = windows.shape[:4]
        return windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, h * w, c * k * k)

    def add_if_silent(self, input: Tensor, generator: Generator | None = None, shuffle: bool = False) -> int:
        """Grow cell planes by the Add-if-Silent rule, presenting the images of ``input`` one at a time, once.

        For each image: while some position has ‖x‖ > ``min_norm`` and no plane responds there
        (a_k · x ≤ θ‖x‖ for every k), add the plane a = x/‖x‖ of the silent position with the largest ‖x‖.
        Stops adding at ``max_planes``. The images are taken in order, or in the order of
        ``randperm(N, generator=generator)`` when ``shuffle``. Labels play no part.

        Args:
            input: ``(N, C, H, W)``, the output of the previous C-layer (or the images, for the first layer).

        Returns:
            The number of planes added.
        """
        if self.in_channels is None:
            self.in_channels = int(input.shape[1])
            self.weight = zeros(0, self.in_channels, self.kernel_size, self.kernel_size, dtype=self.weight.dtype)
        x = self.patches(input)                                   # (N, L, D)
        norms = np.linalg.norm(x, axis=2)                         # (N, L)
        order = randperm(len(x), generator=generator).numpy() if shuffle else np.arange(len(x))
        cap = self.max_planes if self.max_planes is not None else np.inf
        bank = np.empty((max(2 * self.planes, 16), x.shape[2]))      # the weight vectors, grown in place
        bank[:self.planes] = self.weight.numpy().reshape(self.planes, x.shape[2])
        count, theta = self.planes, self.threshold
        for n in order[(norms[order] > self.min_norm).any(axis=1)]:  # images where the previous layer responded
            if count >= cap:
                break
            xn, rn = x[n], norms[n]
            silent = (rn > self.min_norm) & ~(xn @ bank[:count].T > theta * rn[:, None]).any(axis=1)
            while silent.any() and count < cap:
                seed = int(np.argmax(np.where(silent, rn, -np.inf)))
                if count == len(bank):
                    bank = np.concatenate([bank, np.empty_like(bank)])
                bank[count] = xn[seed] / rn[seed]
                silent &= ~(xn @ bank[count] > theta * rn)
                count += 1
        added = count - self.planes
        if added:
            k = self.kernel_size
            self.weight = tensor(bank[:count].reshape(count, self.in_channels, k, k), dtype=self.weight.dtype)
        return added


class Neocognitron(Module):
    """``Neocognitron(in_channels=1, num_classes=10, kernel_sizes=(3, 3), thresholds=(0.6, 0.6), ...)``.

    U_S1 → U_C1 → U_S2 → U_C2 → … → flatten → linear read-out. Each S-layer is an :class:`SLayer` with
    ``padding = kernel_size // 2`` (H and W kept); each C-layer max-pools ``pool_sizes[l]`` windows
    (:class:`~.cells.ComplexCells`). :meth:`fit` grows the S-layers one after another with Add-if-Silent
    (no labels), then fits the linear read-out by least squares.

    Args:
        in_channels: channels of the input images.
        num_classes: outputs of the read-out.
        kernel_sizes, thresholds, pool_sizes, max_planes: one entry per S/C stage.
        min_norm: an S-layer's criterion for "the previous layer responded" (see :class:`SLayer`).

    Shape:
        ``(N, in_channels, H, W)`` → ``(N, num_classes)`` class scores (the read-out's output).

    Examples:
        >>> x, y = fk.datasets.digits(flatten=False)
        >>> model = Neocognitron().fit(x[:1000].unsqueeze(1), y[:1000])
        >>> accuracy = (model(x[1000:].unsqueeze(1)).argmax(1) == y[1000:]).float().mean()
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10, kernel_sizes: Sequence[int] = (3, 3),
                 thresholds: Sequence[float] = (0.6, 0.6), pool_sizes: Sequence[int] = (2, 2),
                 max_planes: Sequence[int | None] = (32, 128), min_norm: float = 0.05, dtype=None) -> None:
        super().__init__()
        stages = {len(kernel_sizes), len(thresholds), len(pool_sizes), len(max_planes)}
        if len(stages) != 1:
            raise ValueError(f"Neocognitron: kernel_sizes, thresholds, pool_sizes and max_planes need one entry per "
                             f"stage each; got lengths {len(kernel_sizes)}, {len(thresholds)}, {len(pool_sizes)}, "
                             f"{len(max_planes)}")
        self.in_channels, self.num_classes = int(in_channels), int(num_classes)
        self.s_layers = nn.ModuleList(
            SLayer(in_channels if i == 0 else None, k, theta, padding=k // 2, max_planes=cap, min_norm=min_norm,
                   dtype=dtype)
            for i, (k, theta, cap) in enumerate(zip(kernel_sizes, thresholds, max_planes)))
        self.c_layers = nn.ModuleList(ComplexCells(size, mode="max") for size in pool_sizes)
        self.readout: LinearRegression | None = None

    def features(self, input: Tensor, stages: int | None = None) -> Tensor:
        """The output of the top C-layer (or of C-layer ``stages``), ``(N, K, H', W')``."""
        x = input
        for s_layer, c_layer in list(zip(self.s_layers, self.c_layers))[:stages]:
            x = c_layer(s_layer(x))
        return x

    def forward(self, input: Tensor) -> Tensor:
        if self.readout is None:
            raise RuntimeError("Neocognitron: the read-out is not fitted yet; call model.fit(images, labels) first")
        return self.readout(self.features(input).flatten(1))

    def grow(self, images, generator: Generator | None = None, shuffle: bool = True) -> list[int]:
        """Grow the S-layers bottom-up by Add-if-Silent, one pass of ``images`` per layer (no labels).

        Each layer sees the C-layer output of the (already grown) layers below it, the images in the
        order of ``randperm(N, generator=generator)`` (``shuffle=False``: as given). Returns the number
        of planes added per layer.
        """
        x = _image_batch(images, "Neocognitron.grow", self.s_layers[0].weight.dtype)
        added = []
        with no_grad():
            for s_layer, c_layer in zip(self.s_layers, self.c_layers):
                added.append(s_layer.add_if_silent(x, generator=generator, shuffle=shuffle))
                x = c_layer(s_layer(x))
        return added

    def fit_readout(self, images, labels) -> Neocognitron:
        """Fit the read-out by least squares on one-hot labels: ``readout`` is a
        :class:`~fukaku.models.classical.LinearRegression` (``nn.Linear``'s layout) from the flattened top-layer
        features to the ``num_classes`` one-hot columns, solved in closed form; its largest output is the class."""
        x = _image_batch(images, "Neocognitron.fit_readout", self.s_layers[0].weight.dtype)
        with no_grad():
            feats = self.features(x).flatten(1)
        y = labels if isinstance(labels, Tensor) else tensor(np.asarray(labels))
        y = y.long().reshape(-1)
        if len(y) != len(feats) or int(y.min()) < 0 or int(y.max()) >= self.num_classes:
            raise ValueError(f"Neocognitron.fit_readout: need {len(feats)} labels in 0 … {self.num_classes - 1}, "
                             f"got {len(y)} in {int(y.min())} … {int(y.max())}")
        readout = LinearRegression(feats.shape[1], self.num_classes, dtype=feats.dtype)
        readout.fit(feats, F.one_hot(y, self.num_classes).to(feats.dtype))
        self.readout = readout
        return self

    def fit(self, images, labels, generator: Generator | None = None) -> Neocognitron:
        """:meth:`grow` (unsupervised), then :meth:`fit_readout` (the labels). Returns the model."""
        self.grow(images, generator=generator)
        return self.fit_readout(images, labels)
