"""Figures for lab experiments, with matplotlib as an optional extra.

``save_figure(ctx, "softmax", draw)`` makes a matplotlib ``Figure``, lets ``draw(fig)`` fill it, and
writes ``ctx.out_dir/figures/softmax.png``. It uses ``matplotlib.figure.Figure`` directly (rendered by
the Agg canvas), never pyplot, so no window opens, no global backend is switched and no figure is
left open. Without matplotlib it returns no figure and the experiment still measures and decides;
the report says that figures are unavailable.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._atomic import atomic_write
from .registry import Context


def available() -> bool:
    """Whether matplotlib is installed (``pip install matplotlib`` or the ``lab`` extra)."""
    return importlib.util.find_spec("matplotlib") is not None


def save_figure(ctx: Context, name: str, draw: Callable[[Any], None], *,
                figsize: tuple[float, float] = (6.4, 4.0)) -> list[Path]:
    """Draw a PNG figure ``figures/<name>.png`` under ``ctx.out_dir``.

    ``draw`` receives a ``matplotlib.figure.Figure`` (use ``fig.subplots(...)``). Returns ``[path]``,
    or ``[]`` when matplotlib is missing. The file is written atomically (temporary file + rename).
    """
    if not available():
        return []
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, layout="constrained")
    draw(fig)
    path = ctx.figure_path(name)
    with atomic_write(path, op="lab figure") as fh:
        fig.savefig(fh, format="png", dpi=100)
    return [path]
