"""Figures for lab experiments, with matplotlib as an optional extra.

``save_figure(ctx, "softmax", draw)`` makes a matplotlib ``Figure``, lets ``draw(fig)`` fill it, and
writes ``ctx.out_dir/figures/softmax.png``. It uses ``matplotlib.figure.Figure`` directly (rendered by
the Agg canvas), never pyplot, so no window opens, no global backend is switched and no figure is
left open. Without matplotlib it returns no figure and the experiment still measures and decides;
the report says that figures are unavailable.

Every figure gets the same legible style (:data:`STYLE`: font sizes, a legend frame that lets data show
through) under constrained layout, and is saved at :data:`DPI` dots per inch, sharp on high-density
screens. A legend that covers plotted data — a line crossing it, a marker, a bar or a label under it —
is moved (:func:`keep_legends_off_data`): first to the least crowded place inside its axes, and when
every place there covers data, outside the axes on the right.
"""
from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .._atomic import atomic_write
from .registry import Context

DPI = 150
# matplotlib rcParams for every lab figure: sizes in points, readable when a figure is shown page-wide
STYLE = {
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 8.5,
    "legend.title_fontsize": 8.5,
    "legend.framealpha": 0.85,
    "figure.titlesize": 12,
}
_EDGE = 1.0  # px: a line merely touching the legend's frame does not count as covered


def available() -> bool:
    """Whether matplotlib is installed (``pip install matplotlib`` or the ``lab`` extra)."""
    return importlib.util.find_spec("matplotlib") is not None


def save_figure(ctx: Context, name: str, draw: Callable[[Any], None], *,
                figsize: tuple[float, float] = (6.4, 4.0)) -> list[Path]:
    """Draw a PNG figure ``figures/<name>.png`` under ``ctx.out_dir``.

    ``draw`` receives a ``matplotlib.figure.Figure`` (use ``fig.subplots(...)``) styled with :data:`STYLE`;
    legends that cover data are moved off it (:func:`keep_legends_off_data`). Returns ``[path]``, or ``[]``
    when matplotlib is missing. The file is written atomically (temporary file + rename), at :data:`DPI`.
    """
    if not available():
        return []
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=figsize, dpi=DPI, layout="constrained")
        FigureCanvasAgg(fig)
        draw(fig)
        keep_legends_off_data(fig)
        path = ctx.figure_path(name)
        with atomic_write(path, op="lab figure") as fh:
            fig.savefig(fh, format="png", dpi=DPI)
    return [path]


def keep_legends_off_data(fig) -> list:
    """Move every axes legend of ``fig`` that covers plotted data; return the legends moved.

    A legend covers data when a drawn line crosses its box, or a marker, a bar, a label of the axes lies
    under it (shaded spans across the whole axes do not count). Such a legend goes to matplotlib's "best"
    place inside the axes; if that still covers data, outside the axes, to the right of its top, and the
    figure grows wider by the legend's width so that the plots keep their size. A legend its author already
    put outside the axes is left alone.
    """
    legends = [(ax, ax.get_legend()) for ax in fig.axes if ax.get_legend() is not None and
               ax.get_legend().get_visible()]
    if not legends:
        return []
    fig.draw_without_rendering()  # lay the figure out to know where the legends fall
    renderer = fig.canvas.get_renderer()
    covering = [(ax, legend) for ax, legend in legends
                if _inside(legend, ax, renderer) and _covers_data(ax, legend, renderer)]
    if not covering:
        return []
    for _, legend in covering:
        legend.set_loc("best")
    fig.draw_without_rendering()
    widths_by_row: dict[int, float] = {}  # inches of legends moved beside the axes of each row of subplots
    for ax, legend in covering:
        if _covers_data(ax, legend, renderer):
            legend.set_loc("upper left")
            legend.set_bbox_to_anchor((1.02, 1.0), transform=ax.transAxes)
            spec = ax.get_subplotspec()
            row = spec.rowspan.start if spec is not None else 0
            width = legend.get_window_extent(renderer).width / fig.dpi + 0.02 * ax.bbox.width / fig.dpi
            widths_by_row[row] = widths_by_row.get(row, 0.0) + width
    if widths_by_row:  # the figure grows by the legends' width, so its plots keep their size
        fig.set_figwidth(fig.get_figwidth() + max(widths_by_row.values()))
    return [legend for _, legend in covering]


def _covers_data(ax, legend, renderer) -> bool:
    """Whether ``legend`` (drawn by ``renderer``) hides data of ``ax``: see :func:`keep_legends_off_data`."""
    import numpy as np
    from matplotlib.collections import PathCollection, QuadMesh

    box = legend.get_window_extent(renderer).padded(-_EDGE)
    axes_box = ax.get_window_extent(renderer)

    def points_inside(xy) -> bool:
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        return bool(np.any((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)))

    for line in ax.get_lines():
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        path = line.get_transform().transform_path(line.get_path())
        if line.get_linestyle() not in ("None", "", " ") and path.intersects_bbox(box, filled=False):
            return True
        if line.get_marker() not in (None, "None", "", " ") and points_inside(path.vertices):
            return True
    for collection in ax.collections:
        if not collection.get_visible() or isinstance(collection, QuadMesh):  # a mesh, like an image, fills the axes
            continue
        if isinstance(collection, PathCollection):  # markers (a scatter) at the offsets
            if points_inside(collection.get_offset_transform().transform(collection.get_offsets())):
                return True
        else:  # lines and outlines of fills, in data coordinates
            transform = collection.get_transform()
            if any(transform.transform_path(p).intersects_bbox(box, filled=False) for p in collection.get_paths()):
                return True
    for artist in list(ax.patches) + list(ax.texts):
        if not artist.get_visible():
            continue
        extent = artist.get_window_extent(renderer)
        spans_axes = extent.width >= 0.99 * axes_box.width or extent.height >= 0.99 * axes_box.height
        if not spans_axes and extent.overlaps(box):
            return True
    return False


def _inside(legend, ax, renderer) -> bool:
    """Whether the legend lies within its axes, where it can hide data."""
    outer, box = ax.get_window_extent(renderer).padded(_EDGE), legend.get_window_extent(renderer)
    return outer.x0 <= box.x0 and box.x1 <= outer.x1 and outer.y0 <= box.y0 and box.y1 <= outer.y1


__all__ = ["available", "save_figure", "keep_legends_off_data", "DPI", "STYLE"]
