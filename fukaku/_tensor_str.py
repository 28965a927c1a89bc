"""How a tensor prints: PyTorch's format, so a tutorial's printed output reads the same on fukaku.

``tensor([[ 0.1234, -1.5000],`` — a fixed number of decimals (``precision``, 4) in a common width,
scientific notation when the magnitudes span more than 10³ or leave [10⁻⁴, 10⁸), whole floats as
``2.``, long tensors summarised with ``...`` after ``threshold`` elements (``edgeitems`` kept at each
end), lines wrapped at ``linewidth``, then the dtype when it is not the default one, and
``grad_fn=<MulBackward0>`` or ``requires_grad=True``. :func:`set_printoptions` changes the options.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import backends, dtypes


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()
_PROFILES = {"default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
             "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
             "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80)}


def set_printoptions(precision: int | None = None, threshold: float | None = None, edgeitems: int | None = None,
                     linewidth: int | None = None, profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print, as ``torch.set_printoptions``.

    Args:
        precision: digits after the decimal point (4).
        threshold: more elements than this are summarised with ``...`` (1000).
        edgeitems: items kept at each end of a summarised dimension (3).
        linewidth: characters per line before wrapping (80).
        profile: ``"default"``, ``"short"`` or ``"full"`` (never summarise); the other arguments override it.
        sci_mode: True or False forces scientific notation on or off; None chooses by the values.
    """
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(_PROFILES)}, got {profile!r}")
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    for name, value in dict(precision=precision, threshold=threshold, edgeitems=edgeitems,
                            linewidth=linewidth).items():
        if value is not None:
            setattr(PRINT_OPTS, name, value)
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions() -> dict:
    """The current print options, as a dict of :func:`set_printoptions`'s arguments."""
    return dict(vars(PRINT_OPTS))


class _Formatter:
    """One number format for every element of a tensor: a common width, and fixed, whole or scientific."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        flat = values.reshape(-1)
        if not self.floating:
            self.width = max((len(str(v)) for v in flat.tolist()), default=1)
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        self.sci_mode = (largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
                         if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
        if self.sci_mode:
            texts = [f"{v:.{PRINT_OPTS.precision}e}" for v in finite.tolist()]
        elif self.int_mode:
            texts = [f"{v:.0f}." for v in finite.tolist()]  # the point marks a float tensor
        else:
            texts = [f"{v:.{PRINT_OPTS.precision}f}" for v in finite.tolist()]
        self.width = max(len(t) for t in texts)

    def format(self, value) -> str:
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{PRINT_OPTS.precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{PRINT_OPTS.precision}f}"
        return text.rjust(self.width)


def _summarized(values: np.ndarray) -> np.ndarray:
    """The elements a summarised print shows (``edgeitems`` at each end of every dimension), which set its format."""
    edge = PRINT_OPTS.edgeitems
    for axis, size in enumerate(values.shape):
        if size > 2 * edge:
            values = np.concatenate([values.take(range(edge), axis), values.take(range(size - edge, size), axis)], axis)
    return values


def _nested(values: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    edge = PRINT_OPTS.edgeitems
    cut = summarize and values.shape[0] > 2 * edge
    if values.ndim == 1:
        items = values.tolist()
        texts = ([fmt.format(v) for v in items[:edge]] + [" ..."] + [fmt.format(v) for v in items[-edge:]]
                 if cut else [fmt.format(v) for v in items])
        per_line = max(1, (PRINT_OPTS.linewidth - indent) // (fmt.width + 2))
        lines = [", ".join(texts[i:i + per_line]) for i in range(0, len(texts), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = range(values.shape[0])
    parts = ([_nested(values[i], indent + 1, summarize, fmt) for i in rows[:edge]] + ["..."]
             + [_nested(values[i], indent + 1, summarize, fmt) for i in rows[-edge:]]
             if cut else [_nested(values[i], indent + 1, summarize, fmt) for i in rows])
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _body(values: np.ndarray, indent: int) -> str:
    if dtypes.is_floating_point(values.dtype) and values.dtype.itemsize < 4:
        values = values.astype(np.float32)  # float16 and bfloat16 print through float32, as in PyTorch
    summarize = values.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(values) if summarize else values)
    if values.ndim == 0:
        return fmt.format(values.item())
    return _nested(values, indent, summarize, fmt)


def dtype_name(dtype) -> str:
    """``'fukaku.float32'``: a dtype as PyTorch names it, with fukaku's prefix."""
    return f"fukaku.{np.dtype(dtype).name}"


def tensor_repr(tensor, prefix: str = "tensor(") -> str:
    """PyTorch's ``repr`` of a tensor, with ``fukaku.`` dtypes; ``grad_fn=<NameBackward0>`` names the node, and
    ``device='cuda:0'`` a GPU tensor (printed from a host copy of its values)."""
    where = backends.device_of_array(tensor._data)
    values = tensor._data if where is None else backends.to_host(tensor._data)
    indent = len(prefix)
    default = values.dtype in (dtypes.get_default_dtype(), np.dtype(np.int64), np.dtype(np.bool_))
    suffixes = [] if where is None else [f"device='{where[0]}:{where[1]}'"]
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if values.dtype != dtypes.get_default_dtype():
            suffixes.append(f"dtype={dtype_name(values.dtype)}")
        body = "[]"
    else:
        if not default:
            suffixes.append(f"dtype={dtype_name(values.dtype)}")
        body = _body(values, indent)
    if tensor.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(tensor.grad_fn).__name__}Backward0>")
    elif tensor.requires_grad:
        suffixes.append("requires_grad=True")
    return _with_suffixes(prefix + body, suffixes, indent)


def _with_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    """``, dtype=…`` after the values, on a new line when the last line would pass ``linewidth``."""
    pieces = [text]
    last_line = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_line = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_line += len(suffix) + 2
    return "".join(pieces) + ")"
