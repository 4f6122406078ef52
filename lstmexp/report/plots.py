"""Draws a chart definition (`chart.Chart`) with matplotlib as a PNG, for `--out` and report.md.

Why matplotlib and not plotly's own PNG export: plotly writes PNG only through kaleido, which
drives a Chrome/Chromium browser; on a headless server without one (or offline, where kaleido
cannot fetch it) the report would lose its images. matplotlib's Agg backend needs no display, no
browser and no network. Both renderers draw the same definitions (`charts.py`, `claim_charts.py`),
so a PNG and its HTML chart show the same series, titles, caption, colours and ticks; only the
mapping to matplotlib lives here. No pyplot: no global state, no GUI backend.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import TYPE_CHECKING, Any

import numpy as np

from lstmexp.report.build import Report
from lstmexp.report.chart import CELLS, MARKERS, SCALE, Axis, Chart, Panel, Series

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

MARKER_SHAPES = {"circle": "o", "ring": "o", "frame": "s", "x": "x", "star": "*", "triangle": "^"}
MARKER_SIZES = {"ring": 80, "frame": 1500, "star": 160, "x": 40}
LINE_STYLES = {"": "-", "dash": "--", "dot": ":"}
CMAP = SCALE.lower()


def figure(chart: Chart) -> Figure:
    """The matplotlib figure of one chart: title above, caption below, a column per panel."""
    from matplotlib.figure import Figure

    widths = [p.width for p in chart.panels]
    width = (3.6 if chart.small else 5.2) * sum(widths) + 1.0
    drawn = Figure(figsize=(width, 3.4 if chart.small else 4.6), layout="constrained")
    characters = int(width * 11)
    drawn.suptitle(textwrap.fill(chart.title, characters), fontsize="medium")
    caption = textwrap.fill(chart.caption, int(characters * 1.2))
    drawn.supxlabel(caption, fontsize="small", color="#444")
    grid = drawn.subplots(1, len(widths), squeeze=False, width_ratios=widths)[0]
    for axes, panel in zip(grid, chart.panels, strict=True):
        draw_panel(drawn, axes, panel)
    return drawn


def png(drawn: Figure) -> bytes:
    buffer = io.BytesIO()
    drawn.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def draw_panel(drawn: Figure, axes: Axes, panel: Panel) -> None:
    for series in panel.series:
        artist = cells(axes, series) if series.mode == CELLS else draw_series(axes, series, panel)
        if series.mode == CELLS or series.shade:
            drawn.colorbar(artist, ax=axes, label=panel.scale)
    set_axis(axes.xaxis, panel.x, axes.set_xscale, axes.set_xlabel)
    set_axis(axes.yaxis, panel.y, axes.set_yscale, axes.set_ylabel)
    if panel.title:
        axes.set_title(panel.title, fontsize="medium")
    axes.legend(title=panel.legend or None, fontsize="small", title_fontsize="small")


def positions(values: tuple, spec: Axis) -> list[float]:
    """Category names to their index on the axis; numbers as they are."""
    return [float(spec.labels.index(v)) for v in values] if spec.category else [float(v) for v in values]


def draw_series(axes: Axes, series: Series, panel: Panel) -> Any:
    x, y = positions(series.x, panel.x), positions(series.y, panel.y)
    shape = MARKER_SHAPES.get(series.marker, "o")
    if series.low:
        axes.errorbar(x, y, yerr=[np.subtract(y, series.low), np.subtract(series.high, y)], fmt="none",
                      ecolor=series.colour or "black", capsize=3)
    if series.mode == MARKERS:
        style: dict[str, Any] = {"c": list(series.shade), "cmap": CMAP, "alpha": 0.75} if series.shade else \
            {"color": series.colour or None}
        if series.marker in ("ring", "frame"):
            width = 1.5 if series.marker == "ring" else 2.5
            style = {"facecolors": "none", "edgecolors": series.colour, "linewidths": width}
        elif series.marker == "star":
            style["edgecolors"] = "black"
        artist: Any = axes.scatter(x, y, marker=shape, s=MARKER_SIZES.get(series.marker, 24), label=series.name,
                              **style)
    else:
        artist = axes.plot(x, y, color=series.colour or None, linestyle=LINE_STYLES[series.dash],
                           marker=shape if series.marker else None, label=series.name)[0]
    for text, px, py in zip(series.labels, x, y, strict=False):
        axes.annotate(text, (px, py), textcoords="offset points", xytext=(0, 7), ha="center", fontsize="x-small",
                      color=series.label_colour or "black")
    return artist


def cells(axes: Axes, series: Series) -> Any:
    """A heatmap whose cells carry their numbers; the first row at the bottom, as in the HTML chart."""
    z = np.array(series.z, dtype=float)
    image = axes.imshow(z, cmap=CMAP, aspect="auto", origin="lower", label=series.name)
    for (row, column), value in np.ndenumerate(z):
        if math.isfinite(value):  # empty cells (no trial) stay blank; dark text on the bright cells, as plotly's
            red, green, blue, _ = image.cmap(image.norm(value))
            axes.text(column, row, format(value, series.cell_format), ha="center", va="center", fontsize="small",
                      color="black" if 0.2126 * red + 0.7152 * green + 0.0722 * blue > 0.5 else "white")
    return image


def set_axis(which: Any, spec: Axis, set_scale: Any, set_label: Any) -> None:
    """Log axes at the definition's ticks in plain numbers (no crowded minor labels); categories by index."""
    from matplotlib.ticker import NullLocator

    set_label(spec.title)
    if spec.category:
        which.set_ticks(range(len(spec.labels)), list(spec.labels))
        return
    if spec.log:
        set_scale("log")
        which.set_minor_locator(NullLocator())  # as in plotly: only the given ticks (and far cheaper to lay out)
    if spec.ticks:
        which.set_ticks(list(spec.ticks), list(spec.labels))


def make_plots(reports: list[Report]) -> dict[str, bytes]:
    """name -> PNG bytes; with several studies the names are prefixed by the study."""
    import matplotlib

    from lstmexp.report.charts import report_charts

    matplotlib.use("Agg")
    drawn = {}
    for report in reports:
        prefix = f"{report.study}_" if len(reports) > 1 else ""
        for chart in report_charts(report):
            drawn[prefix + chart.key] = png(figure(chart))
    return drawn
