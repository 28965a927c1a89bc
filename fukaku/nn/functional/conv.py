"""Convolutions (seed 000 §6.2, seed 001 §9.2) with ``torch.nn.functional``'s names, checked at the API
boundary: ``conv1d/2d/3d``, ``conv_transpose1d/2d/3d``, and the column matrices ``unfold``/``fold``.

One N-d implementation serves every dimension: the functions here parse and check the arguments,
describe the convolution once (:class:`fukaku.ops.conv.ConvGeometry`) and call its graph nodes
(:mod:`fukaku.ops.conv`). Layout as in PyTorch: inputs ``(N, C, *spatial)`` (or unbatched
``(C, *spatial)``), weights ``(C_out, C_in/groups, *kernel)`` for a convolution and
``(C_in, C_out/groups, *kernel)`` for a transposed one.

Errors are :class:`fukaku.ShapeError` naming the op (and the layer, when a module calls), the
shapes, the output-size formula O = ⌊(N + 2P − D(K − 1) − 1)/S⌋ + 1 where it applies, and a fix.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..._checks import check_int
from ...errors import ShapeError
from ...ops._util import autocast_will_cast, fmt
from ...ops.conv import Col2Im, Convolution, ConvGeometry, ConvTranspose, Im2Col, conv_geometry
from ...ops.shape import reshape
from ...tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "fold"]

OUTPUT_SIZE = "O = ⌊(N + 2P − D(K−1) − 1)/S⌋ + 1"
TRANSPOSED_OUTPUT_SIZE = "O = (N − 1)·S − 2P + D(K−1) + output_padding + 1"
_LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}


def _where(op: str, layer) -> str:
    """The op, and the layer that called it (``conv2d in Conv2d(1, 32, kernel_size=(3, 3), …)``)."""
    return op if layer is None else f"{op} in {type(layer).__name__}({layer.extra_repr()})"


def ntuple(value, n: int, name: str, op: str, minimum: int | None = 0) -> tuple[int, ...]:
    """An int or a sequence of ``n`` ints (one int standing for all) as a tuple of ints ≥ ``minimum``
    (None: any int)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    elif isinstance(value, Sequence) and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                             for v in value) and len(value) in (1, n):
        values = tuple(int(v) for v in value) * (n if len(value) == 1 else 1)
    else:
        raise TypeError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
    if minimum is not None and any(v < minimum for v in values):
        raise ValueError(f"{op}: {name} must be {'positive' if minimum == 1 else f'at least {minimum}'}, "
                         f"got {values}")
    return values


def _check_tensors(where: str, input: Tensor, weight: Tensor, bias: Tensor | None, nd: int, groups: int,
                   transposed: bool) -> None:
    """Types, dims, dtypes and groups, common to convolutions and transposed convolutions."""
    weight_layout = "(C_in, C_out/groups, *kernel)" if transposed else "(C_out, C_in/groups, *kernel)"
    for t, name in ((input, "input"), (weight, "weight"), (bias, "bias")):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{where}: {name} must be a Tensor, got {type(t).__name__}")
    if input.ndim not in (nd + 1, nd + 2):
        raise ShapeError(f"{where}: expected a {nd + 1}-d (unbatched) or {nd + 2}-d (batched) input "
                         f"{_LAYOUTS[nd]}, got input of shape {fmt(input.shape)}")
    if weight.ndim != nd + 2:
        raise ShapeError(f"{where}: expected a {nd + 2}-d weight {weight_layout}, got weight of shape "
                         f"{fmt(weight.shape)}")
    if any(k < 1 for k in weight.shape[2:]):
        raise ShapeError(f"{where}: weight of shape {fmt(weight.shape)} has an empty kernel")
    if not weight.is_floating_point():
        raise TypeError(f"{where}: weight must be floating point, got dtype {weight.dtype}")
    for t, name in ((input, "input"), (bias, "bias")):
        if t is not None and t.dtype != weight.dtype and not autocast_will_cast(t):
            raise TypeError(f"{where}: {name} has dtype {t.dtype} but weight has dtype {weight.dtype}; convert one "
                            "of them (x.float() / x.double(), or model.float() / model.double())")
    check_int(groups, "groups", where)
    if weight.shape[0] % groups:
        channels = "in_channels" if transposed else "out_channels"
        raise ShapeError(f"{where}: groups={groups} must divide {channels}, the weight's first dimension: weight of "
                         f"shape {fmt(weight.shape)} has {weight.shape[0]}. Use a number of groups that divides both "
                         "channel counts")


def _check_bias(where: str, bias: Tensor | None, channels: int, weight: Tensor) -> None:
    if bias is not None and tuple(bias.shape) != (channels,):
        raise ShapeError(f"{where}: bias of shape {fmt(bias.shape)} does not match weight of shape "
                         f"{fmt(weight.shape)}: expected ({channels},), one per output channel")


def _batched(input: Tensor, nd: int) -> tuple[Tensor, bool]:
    """``input`` with a batch dim, and whether it had one."""
    if input.ndim == nd + 2:
        return input, True
    return reshape(input, (1,) + tuple(input.shape)), False


def _unbatched(y: Tensor, batched: bool) -> Tensor:
    return y if batched else reshape(y, tuple(y.shape[1:]))


def _padding(padding, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple[int, ...], op: str):
    """(lo, hi) per dim from an int, a tuple, 'valid' or 'same' (the odd cell of an even dilated kernel goes
    after, as in PyTorch)."""
    nd = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding != "same":
            raise ValueError(f"{op}: invalid padding string {padding!r}, should be one of 'valid', 'same'")
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions (stride={stride})")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in ntuple(padding, nd, "padding", op))


def _size_report(in_size, padding, dilation, kernel, stride, out) -> str:
    """The terms of the output-size formula, per spatial dim."""
    pads = tuple(lo if lo == hi else (lo, hi) for lo, hi in padding)
    return f"{OUTPUT_SIZE} = {out} with N={tuple(in_size)}, P={pads}, D={dilation}, K={kernel}, S={stride}"


def _convolution(nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, dilation,
                 groups: int, op: str, layer=None) -> Tensor:
    """The checked N-d convolution behind conv1d/2d/3d and the Conv layers."""
    where = _where(op, layer)
    _check_tensors(where, input, weight, bias, nd, groups, transposed=False)
    x, batched = _batched(input, nd)
    c_out, c_group = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    if x.shape[1] != c_group * groups:
        raise ShapeError(f"{where}: input of shape {fmt(input.shape)} has {x.shape[1]} channels, but weight of shape "
                         f"{fmt(weight.shape)} with groups={groups} expects in_channels = {c_group} × {groups} = "
                         f"{c_group * groups} (channels are dimension {1 if batched else 0}). Feed "
                         f"{c_group * groups}-channel input, or build the layer with in_channels={x.shape[1]}")
    _check_bias(where, bias, c_out, weight)
    stride = ntuple(stride, nd, "stride", where, minimum=1)
    dilation = ntuple(dilation, nd, "dilation", where, minimum=1)
    pads = _padding(padding, kernel, stride, dilation, where)
    in_size = tuple(x.shape[2:])
    out = tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                for n, (lo, hi), d, k, s in zip(in_size, pads, dilation, kernel, stride))
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(in_size, pads))
    if any(p < d * (k - 1) + 1 for p, d, k in zip(padded, dilation, kernel)):
        reach = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        sizes = _size_report(in_size, pads, dilation, kernel, stride, out)
        raise ShapeError(f"{where}: the kernel is larger than the padded input: input of shape {fmt(input.shape)} "
                         f"padded to spatial size {padded}, weight of shape {fmt(weight.shape)} whose dilated kernel "
                         f"D(K−1)+1 spans {reach}; the output size {sizes} is not positive. Pad the input more, or "
                         "use a smaller kernel or dilation")
    geometry = conv_geometry(in_size, out, tuple(kernel), tuple(stride), tuple(map(tuple, pads)), tuple(dilation),
                             groups)
    y = Convolution.apply(x, weight, geometry=geometry) if bias is None else \
        Convolution.apply(x, weight, bias, geometry=geometry)
    return _unbatched(y, batched)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """1-d convolution (cross-correlation, as in every deep-learning library) over ``(N, C_in, L)``.

    Args:
        input: ``(N, C_in, L)`` or unbatched ``(C_in, L)``.
        weight: ``(C_out, C_in/groups, K)``.
        bias: ``(C_out,)`` or None.
        stride, dilation: an int or a 1-tuple.
        padding: an int, a 1-tuple, ``'valid'`` (none) or ``'same'`` (output as long as the input; stride 1).
        groups: split the channels into independent groups (``groups = C_in``: depthwise).

    Shape: ``(N, C_out, O)`` with O = ⌊(L + 2P − D(K − 1) − 1)/S⌋ + 1. A dilated causal convolution
    (WaveNet) is ``conv1d(F.pad(x, ((K − 1)·D, 0)), w, dilation=D)``.
    """
    return _convolution(1, input, weight, bias, stride, padding, dilation, groups, "conv1d")


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """2-d convolution over images ``(N, C_in, H, W)`` (seed 000 §6.2): y[n, o] = Σ_c w[o, c] ⋆ x[n, c] + b[o].

    Args:
        input: ``(N, C_in, H, W)`` or unbatched ``(C_in, H, W)``.
        weight: ``(C_out, C_in/groups, kH, kW)``.
        bias: ``(C_out,)`` or None.
        stride, dilation: an int or a pair (rows, columns).
        padding: an int, a pair, ``'valid'`` or ``'same'`` (stride 1; an even kernel gets the odd cell after).
        groups: independent channel groups; ``groups = C_in`` with ``C_out = k·C_in`` is a depthwise convolution.

    Shape: ``(N, C_out, H_out, W_out)``, each O = ⌊(N + 2P − D(K − 1) − 1)/S⌋ + 1.

    Example::

        >>> F.conv2d(fk.randn(8, 3, 32, 32), fk.randn(16, 3, 3, 3), padding=1).shape
        fukaku.Size([8, 16, 32, 32])
    """
    return _convolution(2, input, weight, bias, stride, padding, dilation, groups, "conv2d")


def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0, dilation=1,
           groups: int = 1) -> Tensor:
    """3-d convolution over volumes ``(N, C_in, D, H, W)``; weight ``(C_out, C_in/groups, kD, kH, kW)``.
    Arguments as :func:`conv2d`, with triples."""
    return _convolution(3, input, weight, bias, stride, padding, dilation, groups, "conv3d")


# ----------------------------------------------------------------------------- transposed convolution
def transposed_sizes(in_size: Sequence[int], kernel, stride, padding, output_padding, dilation) -> tuple[int, ...]:
    """The output size of a transposed convolution, per dim: (N − 1)·S − 2P + D(K − 1) + output_padding + 1."""
    return tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1
                 for n, k, s, p, op, d in zip(in_size, kernel, stride, padding, output_padding, dilation))


def _conv_transpose(nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride, padding, output_padding,
                    groups: int, dilation, op: str, layer=None) -> Tensor:
    """The checked N-d transposed convolution behind conv_transpose1d/2d/3d and the ConvTranspose layers."""
    where = _where(op, layer)
    _check_tensors(where, input, weight, bias, nd, groups, transposed=True)
    x, batched = _batched(input, nd)
    c_in, c_group = weight.shape[:2]
    kernel = tuple(weight.shape[2:])
    if x.shape[1] != c_in:
        raise ShapeError(f"{where}: input of shape {fmt(input.shape)} has {x.shape[1]} channels, but weight of shape "
                         f"{fmt(weight.shape)} expects in_channels = {c_in} (its first dimension; channels are "
                         f"dimension {1 if batched else 0}). Feed {c_in}-channel input, or build the layer with "
                         f"in_channels={x.shape[1]}")
    _check_bias(where, bias, c_group * groups, weight)
    stride = ntuple(stride, nd, "stride", where, minimum=1)
    dilation = ntuple(dilation, nd, "dilation", where, minimum=1)
    padding = ntuple(padding, nd, "padding", where)
    output_padding = ntuple(output_padding, nd, "output_padding", where)
    if any(op_ >= s and op_ >= d for op_, s, d in zip(output_padding, stride, dilation)):
        raise ValueError(f"{where}: output padding must be smaller than either stride or dilation, but got "
                         f"output_padding={output_padding}, stride={stride}, dilation={dilation}")
    in_size = tuple(x.shape[2:])
    out = transposed_sizes(in_size, kernel, stride, padding, output_padding, dilation)
    if any(o < 1 for o in out):
        raise ShapeError(f"{where}: input of shape {fmt(input.shape)} with weight of shape {fmt(weight.shape)} gives a "
                         f"non-positive output size {TRANSPOSED_OUTPUT_SIZE} = {out} with N={in_size}, P={padding}, "
                         f"D={dilation}, K={kernel}, S={stride}, output_padding={output_padding}. Use less padding")
    geometry = conv_geometry(tuple(out), tuple(in_size), tuple(kernel), tuple(stride), tuple((p, p) for p in padding),
                             tuple(dilation), groups)
    y = ConvTranspose.apply(x, weight, geometry=geometry) if bias is None else \
        ConvTranspose.apply(x, weight, bias, geometry=geometry)
    return _unbatched(y, batched)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed 1-d convolution (the adjoint of :func:`conv1d` in its input, "deconvolution").

    Args:
        input: ``(N, C_in, L)`` or ``(C_in, L)``; weight ``(C_in, C_out/groups, K)``; bias ``(C_out,)``.
        output_padding: cells added after the last output (each smaller than the stride or the
            dilation), picking among the input sizes that a strided convolution maps to one size.

    Shape: ``(N, C_out, O)`` with O = (L − 1)·S − 2P + D(K − 1) + output_padding + 1.
    """
    return _conv_transpose(1, input, weight, bias, stride, padding, output_padding, groups, dilation,
                           "conv_transpose1d")


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed 2-d convolution: upsampling by a learned kernel (U-Net's up path, GAN generators).

    It is the gradient of :func:`conv2d` with respect to its input: for y = conv2d(x, w, stride=s,
    padding=p), ``conv_transpose2d(g, w, stride=s, padding=p)`` is ∂⟨y, g⟩/∂x.

    Args:
        input: ``(N, C_in, H, W)`` or ``(C_in, H, W)``; weight ``(C_in, C_out/groups, kH, kW)``;
            bias ``(C_out,)`` or None.
        stride, padding, output_padding, dilation: ints or pairs.

    Shape: ``(N, C_out, H_out, W_out)``, each (N − 1)·S − 2P + D(K − 1) + output_padding + 1.

    Example::

        >>> F.conv_transpose2d(fk.randn(1, 8, 7, 7), fk.randn(8, 4, 2, 2), stride=2).shape
        fukaku.Size([1, 4, 14, 14])
    """
    return _conv_transpose(2, input, weight, bias, stride, padding, output_padding, groups, dilation,
                           "conv_transpose2d")


def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed 3-d convolution; arguments as :func:`conv_transpose2d`, with triples."""
    return _conv_transpose(3, input, weight, bias, stride, padding, output_padding, groups, dilation,
                           "conv_transpose3d")


# ----------------------------------------------------------------------------- unfold / fold
def _block_geometry(spatial: tuple[int, ...], kernel_size, dilation, padding, stride, op: str) -> ConvGeometry:
    """The exact (not wide) geometry of the sliding blocks over ``spatial``, checked."""
    kernel = ntuple(kernel_size, 2, "kernel_size", op, minimum=1)
    dilation = ntuple(dilation, 2, "dilation", op, minimum=1)
    padding = ntuple(padding, 2, "padding", op)
    stride = ntuple(stride, 2, "stride", op, minimum=1)
    blocks = tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                   for n, p, d, k, s in zip(spatial, padding, dilation, kernel, stride))
    if any(b < 1 for b in blocks):
        raise ShapeError(f"{op}: spatial size {spatial} with kernel_size={kernel}, dilation={dilation}, "
                         f"padding={padding}, stride={stride} holds no sliding block: the number of blocks per dim "
                         f"{OUTPUT_SIZE} is {blocks}. Use a smaller kernel or more padding")
    return conv_geometry(tuple(spatial), tuple(blocks), tuple(kernel), tuple(stride), tuple((p, p) for p in padding),
                         tuple(dilation), wide=False)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """im2col: every sliding block of an image batch as a column, as ``torch.nn.functional.unfold``.

    Args:
        input: ``(N, C, H, W)`` or unbatched ``(C, H, W)``.
        kernel_size, dilation, padding, stride: ints or pairs.

    Shape: ``(N, C·kH·kW, L)``, rows ordered channel first, then kernel row and column; L = O_H·O_W
    blocks, each O = ⌊(N + 2P − D(K − 1) − 1)/S⌋ + 1. A convolution is ``w.view(C_out, -1) @ unfold(x)``.
    """
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise ShapeError(f"unfold: expected a 3-d (unbatched) or 4-d (batched) input (N, C, H, W), got "
                         f"{'shape ' + fmt(input.shape) if isinstance(input, Tensor) else type(input).__name__}")
    x, batched = _batched(input, 2)
    geometry = _block_geometry(tuple(x.shape[2:]), kernel_size, dilation, padding, stride, "unfold")
    return _unbatched(Im2Col.apply(x, geometry=geometry), batched)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """col2im: columns of sliding blocks summed back into images (overlaps add up), as
    ``torch.nn.functional.fold``; the adjoint of :func:`unfold`.

    Args:
        input: ``(N, C·kH·kW, L)`` or unbatched ``(C·kH·kW, L)``.
        output_size: the image size ``(H, W)`` (an int for both).

    Shape: ``(N, C, H, W)``. L must be the number of blocks :func:`unfold` makes for that size.
    """
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise ShapeError(f"fold: expected a 2-d (unbatched) or 3-d (batched) input (N, C·kH·kW, L), got "
                         f"{'shape ' + fmt(input.shape) if isinstance(input, Tensor) else type(input).__name__}")
    cols, batched = (input, True) if input.ndim == 3 else (reshape(input, (1,) + tuple(input.shape)), False)
    size = ntuple(output_size, 2, "output_size", "fold", minimum=1)
    geometry = _block_geometry(size, kernel_size, dilation, padding, stride, "fold")
    taps = math.prod(geometry.kernel)
    if cols.shape[1] % taps:
        raise ShapeError(f"fold: input of shape {fmt(input.shape)} has {cols.shape[1]} rows, not divisible by the "
                         f"product of kernel_size {geometry.kernel} = {taps}: expected C·kH·kW rows")
    if cols.shape[2] != math.prod(geometry.out_size):
        raise ShapeError(f"fold: input of shape {fmt(input.shape)} has {cols.shape[2]} blocks, but output_size={size} "
                         f"with kernel_size={geometry.kernel}, dilation={geometry.dilation}, padding="
                         f"{tuple(lo for lo, _ in geometry.padding)}, stride={geometry.stride} makes "
                         f"{' × '.join(map(str, geometry.out_size))} = {math.prod(geometry.out_size)} ({OUTPUT_SIZE} per dim)")
    return _unbatched(Col2Im.apply(cols, geometry=geometry), batched)
