"""Simple and complex cells of the visual cortex (Hubel & Wiesel 1959), as seed 002 ch. 3 models them.

A *simple cell* responds to a bar of light of one orientation at one position of the visual field: it is
a filter with an excitatory centre strip ``+`` flanked by inhibitory strips ``−`` (seed 002, fig. 3.4
left), and a sheet of such filters tiles the visual field — a convolution followed by a rectification
(:class:`SimpleCells`). Its filter is modelled here, as is usual since Jones & Palmer (1987), by an even
Gabor function, a Gaussian envelope times a cosine across the bar (:func:`gabor_kernel`), with its mean
removed so that uniform light gives no response (:func:`simple_cell_filters`).

A *complex cell* responds to the same orientation at any position: it combines the simple cells of its
orientation over positions (seed 002: "the sum of simple cells"; pooling in a CNN). :class:`ComplexCells`
takes the maximum (or the mean) of the simple-cell responses over all positions, or over local windows
(``kernel_size``), which is exactly max/average pooling. The Neocognitron (:mod:`.neocognitron`)
alternates the two kinds of layer.

Coordinates (shared by the filters and by :func:`bar_images`): ``x`` grows to the right along a row, ``y``
grows upwards (against the row index), both measured from the centre; an orientation θ is the angle of the
bar from the horizontal, counter-clockwise, so θ = 0 is a horizontal bar and θ = π/2 a vertical one.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...nn import functional as F
from ...nn.modules.module import Module
from ...dtypes import get_default_dtype
from ...tensor import Tensor, tensor

__all__ = ["gabor_kernel", "orientation_angles", "simple_cell_filters", "bar_images", "SimpleCells",
           "ComplexCells"]


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(x, y)`` of a ``size × size`` grid around its centre, y upwards, ``(size, size)`` each."""
    offsets = np.arange(size, dtype=np.float64) - (size - 1) / 2
    return offsets[None, :], -offsets[:, None]  # x by column, y against the row index


def _across_and_along(x: np.ndarray, y: np.ndarray, theta) -> tuple[np.ndarray, np.ndarray]:
    """The coordinate across a bar of orientation θ (u, along its normal) and along it (v)."""
    c, s = np.cos(theta), np.sin(theta)
    return -x * s + y * c, x * c + y * s


def gabor_kernel(size: int, theta: float, wavelength: float, sigma: float | None = None, phase: float = 0.0,
                 aspect: float = 0.5, dtype=None) -> Tensor:
    """The Gabor function preferring bars of orientation θ, sampled on a ``size × size`` grid.

    g(x, y) = exp(−(u² + γ²v²) / (2σ²)) · cos(2πu/λ + ψ), with u = −x sin θ + y cos θ the coordinate
    across the bar and v = x cos θ + y sin θ the one along it (x to the right, y upwards, from the centre
    pixel; see the module docstring). With ψ = 0 it is seed 002's simple-cell filter: a positive strip
    of width ≈ λ/2 along the orientation θ, flanked by negative strips.

    Args:
        size: the side of the square kernel (odd sizes have a centre pixel).
        theta: the preferred bar orientation θ in radians, counter-clockwise from the horizontal.
        wavelength: λ, the period of the cosine across the bar, in pixels.
        sigma: σ, the width of the Gaussian envelope across the bar; default 0.56 λ (a bandwidth of one
            octave, as measured for cortical cells).
        phase: ψ; 0 gives the even (bar) filter, −π/2 an odd (edge) filter.
        aspect: γ, the envelope's width across over along the bar (γ < 1: elongated along the bar).
        dtype: of the result; the default dtype when None.

    Returns:
        ``(size, size)``; row r, column c is g at x = c − (size − 1)/2, y = (size − 1)/2 − r.

    Examples:
        >>> k = gabor_kernel(7, theta=0.0, wavelength=4.0)   # a horizontal bar detector
        >>> float(k[3, 3])                                   # the centre: exp(0)·cos(0)
        1.0
    """
    return tensor(_gabor(size, np.array([theta], dtype=np.float64), wavelength, sigma, phase, aspect)[0],
                  dtype=dtype or get_default_dtype())


def _gabor(size: int, thetas: np.ndarray, wavelength: float, sigma: float | None, phase: float,
           aspect: float) -> np.ndarray:
    """:func:`gabor_kernel` for every angle of ``thetas`` at once, float64 ``(len(thetas), size, size)``."""
    if int(size) < 1 or wavelength <= 0 or (sigma is not None and sigma <= 0) or aspect <= 0:
        raise ValueError(f"gabor_kernel: need size >= 1, wavelength > 0, sigma > 0 and aspect > 0; got size={size}, "
                         f"wavelength={wavelength}, sigma={sigma}, aspect={aspect}")
    sigma = 0.56 * wavelength if sigma is None else sigma
    u, v = _across_and_along(*_grid(int(size)), thetas[:, None, None])
    return np.exp(-(u ** 2 + (aspect * v) ** 2) / (2 * sigma ** 2)) * np.cos(2 * math.pi * u / wavelength + phase)


def _angles(orientations: int | Sequence[float]) -> Tensor:
    """A count of evenly spaced orientations, or the given angles, as a float64 ``(K,)`` tensor."""
    if isinstance(orientations, int):
        return orientation_angles(orientations)
    return tensor(np.asarray(orientations, dtype=np.float64).reshape(-1))


def orientation_angles(count: int) -> Tensor:
    """``count`` orientations evenly spaced over [0, π): θ_k = kπ/count, float64 ``(count,)``."""
    if int(count) < 1:
        raise ValueError(f"orientation_angles: need count >= 1, got {count}")
    return tensor(np.arange(int(count)) * math.pi / int(count))


def simple_cell_filters(orientations: int | Sequence[float], size: int, wavelength: float | None = None,
                        sigma: float | None = None, aspect: float = 0.5, dtype=None) -> Tensor:
    """A bank of simple-cell filters, one per orientation, in ``nn.Conv2d``'s weight layout.

    Each is the even Gabor filter :func:`gabor_kernel` (ψ = 0) with its mean subtracted (uniform light,
    or a blank field, gives no response) and scaled to unit Euclidean norm (so each cell's response to a
    patch is its inner product with a unit vector, seed 001's similarity).

    Args:
        orientations: a count (evenly spaced angles, :func:`orientation_angles`) or the angles themselves.
        size: the kernel side.
        wavelength: λ; default ``size / 2`` (a centre strip about a quarter of the kernel wide).
        sigma, aspect: as in :func:`gabor_kernel`.

    Returns:
        ``(len(orientations), 1, size, size)``.
    """
    wavelength = size / 2 if wavelength is None else wavelength
    bank = _gabor(size, _angles(orientations).numpy(), wavelength, sigma, 0.0, aspect)
    bank -= bank.mean(axis=(1, 2), keepdims=True)
    norms = np.linalg.norm(bank.reshape(len(bank), -1), axis=1)
    if np.any(norms == 0):
        raise ValueError(f"simple_cell_filters: a {size}×{size} kernel with wavelength {wavelength} is constant "
                         "after removing its mean; use a larger size or a shorter wavelength")
    bank /= norms[:, None, None]
    return tensor(bank[:, None], dtype=dtype or get_default_dtype())


def bar_images(size: int | tuple[int, int], angles, centers, length: float, width: float = 2.0,
               dtype=None) -> Tensor:
    """Images of bright bars on a dark field, the stimuli of Hubel & Wiesel's experiment (seed 002 fig. 3.3).

    Bar i has orientation ``angles[i]`` (radians, as in :func:`gabor_kernel`) and its centre at pixel
    ``centers[i] = (row, column)`` (fractional positions allowed); its intensity is 1 inside a
    ``length × width`` rectangle, falling linearly to 0 over one pixel at the edges (anti-aliasing, so
    that a bar's total intensity hardly depends on its orientation).

    Args:
        size: the image side, or ``(height, width)``.
        angles: ``(B,)`` orientations; a scalar is broadcast against ``centers``.
        centers: ``(B, 2)`` ``(row, column)`` centres; one pair is broadcast against ``angles``.
        length, width: the bar's extent along and across its orientation, in pixels.

    Returns:
        ``(B, 1, height, width)``, values in [0, 1].
    """
    height, wide = (size, size) if isinstance(size, int) else size
    angles = np.asarray(angles.numpy() if isinstance(angles, Tensor) else angles, dtype=np.float64).reshape(-1)
    centers = np.asarray(centers.numpy() if isinstance(centers, Tensor) else centers, dtype=np.float64).reshape(-1, 2)
    if len(angles) != len(centers) and 1 not in (len(angles), len(centers)):
        raise ValueError(f"bar_images: {len(angles)} angles and {len(centers)} centres do not broadcast; give as "
                         "many of each, or one of either")
    count = max(len(angles), len(centers))
    angles, centers = np.broadcast_to(angles, (count,)), np.broadcast_to(centers, (count, 2))
    rows = np.arange(height, dtype=np.float64)[None, :, None]
    cols = np.arange(wide, dtype=np.float64)[None, None, :]
    x, y = cols - centers[:, 1, None, None], centers[:, 0, None, None] - rows
    u, v = _across_and_along(x, y, angles[:, None, None])
    img = np.clip(width / 2 + 0.5 - np.abs(u), 0, 1) * np.clip(length / 2 + 0.5 - np.abs(v), 0, 1)
    return tensor(img[:, None], dtype=dtype or get_default_dtype())


class SimpleCells(Module):
    """``SimpleCells(orientations=8, kernel_size=9, wavelength=None, padding=0)``: a sheet of simple cells.

    One cell plane per orientation: plane k at position (i, j) is the rectified response
    ReLU(⟨w_k, x_patch(i, j)⟩) of the simple cell whose receptive field is the ``kernel_size²`` patch at
    (i, j) — a convolution with the fixed filter bank :func:`simple_cell_filters` (buffer ``weight``,
    ``(K, 1, k, k)``, not learned) followed by a ReLU (seed 002 ch. 3; seed 004's detection stage).

    Shape:
        input ``(N, 1, H, W)`` → output ``(N, K, H − k + 1 + 2·padding, W − k + 1 + 2·padding)``.
    """

    def __init__(self, orientations: int | Sequence[float] = 8, kernel_size: int = 9,
                 wavelength: float | None = None, padding: int = 0, aspect: float = 0.5, dtype=None) -> None:
        super().__init__()
        weight = simple_cell_filters(orientations, kernel_size, wavelength, aspect=aspect, dtype=dtype)
        self.register_buffer("weight", weight)
        self.angles = _angles(orientations)
        self.kernel_size, self.padding = int(kernel_size), int(padding)

    def extra_repr(self) -> str:
        return f"orientations={self.weight.shape[0]}, kernel_size={self.kernel_size}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return F.relu(F.conv2d(input, self.weight, padding=self.padding))


class ComplexCells(Module):
    """``ComplexCells(kernel_size=None, stride=None, mode='max')``: complex cells over simple-cell planes.

    A complex cell of plane k responds when simple cells of plane k respond anywhere in its field: it takes
    the maximum (``mode='max'``) or the mean (``'avg'``; seed 002's sum, divided by the count) of their
    responses. With ``kernel_size=None`` the field is the whole plane (one cell per orientation, position
    invariant); otherwise a ``kernel_size`` window moved by ``stride`` (default: the window), which is
    ``F.max_pool2d`` / ``F.avg_pool2d`` — the C-layer of the Neocognitron and a CNN's pooling layer.

    Shape:
        ``(N, K, H, W)`` → ``(N, K)`` (whole field), or the pooling's ``(N, K, H', W')``.
    """

    def __init__(self, kernel_size: int | tuple[int, int] | None = None, stride: int | tuple[int, int] | None = None,
                 mode: str = "max") -> None:
        super().__init__()
        if mode not in ("max", "avg"):
            raise ValueError(f"ComplexCells: mode must be 'max' or 'avg', got {mode!r}")
        self.kernel_size, self.stride, self.mode = kernel_size, stride, mode

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, mode={self.mode!r}"

    def forward(self, input: Tensor) -> Tensor:
        if self.kernel_size is None:
            return input.amax(dim=(-2, -1)) if self.mode == "max" else input.mean(dim=(-2, -1))
        pool = F.max_pool2d if self.mode == "max" else F.avg_pool2d
        return pool(input, self.kernel_size, self.stride)
