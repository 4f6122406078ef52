"""What a chart shows, apart from the library that draws it: panels, axes, series, colour scale, caption.

Every chart of the report is defined once as a `Chart` (`lstmexp.report.charts`,
`lstmexp.report.claim_charts`) and drawn by two thin renderers: `figures.py` (plotly, the HTML
page's interactive charts) and `plots.py` (matplotlib, the PNGs of `--out` and report.md). So the
PNG and the HTML chart of one definition carry the same series, titles, caption, colours, ticks and
colour scale; a renderer only maps them to its library.

Conventions both renderers follow: a log axis is drawn at the ticks given (plain numbers, never a
library's crowded minor labels); the colour scale is Viridis, dark at the low end; every panel has
its own legend; series in one `group` (a trial's train and val curves) share their colour.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from lstmexp.report.people import format_number

# plotly's default qualitative palette (the colours the HTML charts always had), used by both renderers.
PALETTE = ("#636EFA", "#EF553B", "#00CC96", "#AB63FA", "#FFA15A", "#19D3F3", "#FF6692", "#B6E880", "#FF97FF",
           "#FECB52")
SCALE = "Viridis"  # dark (low values) to bright (high values) in both libraries
LINES, MARKERS, CELLS = "lines", "markers", "cells"


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Axis:
    title: str
    log: bool = False
    ticks: tuple[float, ...] = ()  # where the ticks go (log axes always get them: plain numbers)
    labels: tuple[str, ...] = ()  # their labels; on a category axis, the categories in order
    category: bool = False


@dataclass(frozen=True)
class Series:
    """One legend entry: points, a line, or a heatmap's cells (`z` rows by the y axis' categories)."""

    name: str
    x: tuple = ()
    y: tuple = ()
    mode: str = LINES  # LINES (with markers when `marker`), MARKERS or CELLS
    colour: str = ""  # "" with `shade`: coloured by the panel's scale
    marker: str = ""  # "", "circle", "ring" (open circle), "frame" (open square round a heatmap cell), "x", "star",
    # "triangle"
    dash: str = ""  # "", "dash" or "dot"
    group: str = ""  # series drawn as one (a trial's val and train curve): one colour
    shade: tuple[float, ...] = ()  # values mapped through the panel's colour scale
    labels: tuple[str, ...] = ()  # text at each point (the Pareto front's #trial)
    label_colour: str = ""
    hover: tuple[str, ...] = ()  # interactive only: the text shown on hover
    low: tuple[float, ...] = ()  # an interval around each y (error bars)
    high: tuple[float, ...] = ()
    z: tuple[tuple[float, ...], ...] = ()  # CELLS only
    cell_format: str = ".4g"  # CELLS only: each cell carries its number


@dataclass(frozen=True)
class Panel:
    x: Axis
    y: Axis
    series: tuple[Series, ...]
    title: str = ""  # named when a chart has several panels
    legend: str = ""  # the legend's title
    scale: str = ""  # the colour bar's title when a series is shaded (or cells)
    width: float = 1.0  # relative to the chart's other panels


@dataclass(frozen=True)
class Chart:
    key: str  # the div id in the HTML, the PNG's file name
    title: str
    caption: str  # one sentence: what to read from it (shown under the title in both outputs)
    panels: tuple[Panel, ...]
    small: bool = False  # one of a row of small charts (the claims table's)


def finite(values: Iterable[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(float(v)) and float(v) > 0]


MIN_TICK_RATIO = 1.2  # neighbouring ticks of a log axis at least this far apart, or their labels run together


def log_axis(title: str, values: Iterable[Any], at_values: bool = False) -> Axis:
    """A log axis ticked at the values themselves (searched settings) or at round numbers across them."""
    ticks = spaced(sorted(set(finite(values)))) if at_values else round_ticks(values)
    return Axis(title, log=True, ticks=tuple(ticks), labels=tuple(format_number(t) for t in ticks))


def spaced(ticks: list[float]) -> list[float]:
    """The ticks with any closer than MIN_TICK_RATIO to the previous one kept dropped (both ends stay):
    searched learning rates, say, 0.001 and 0.0011, would print one label over the other."""
    if len(ticks) < 3:
        return ticks
    kept = [ticks[0]]
    for tick in ticks[1:-1]:
        if tick >= kept[-1] * MIN_TICK_RATIO and ticks[-1] >= tick * MIN_TICK_RATIO:
            kept.append(tick)
    return [*kept, ticks[-1]]


def round_ticks(values: Iterable[Any]) -> list[float]:
    """Ticks at 1, 2, 5 × 10^k inside the values' range (1..9 × 10^k when that gives fewer than three),
    plus an end of the range rounded to 2 figures where the round ticks leave it far (over 1.3×) away, and
    both ends when fewer than two round ticks fall inside."""
    data = finite(values)
    if not data:
        return []
    smallest, largest = min(data), max(data)
    decades = range(math.floor(math.log10(smallest)), math.ceil(math.log10(largest)) + 1)
    ticks: list[float] = []
    for steps in ((1, 2, 5), range(1, 10)):
        ticks = [float(f"{m * 10.0**k:.12g}") for k in decades for m in steps if smallest <= m * 10.0**k <= largest]
        if len(ticks) >= 3:
            break
    few = len(ticks) < 2
    for end in (float(f"{smallest:.2g}"), float(f"{largest:.2g}")):
        if few or min(abs(math.log(end / t)) for t in ticks) > math.log(1.3):
            ticks.append(end)
    return sorted(set(ticks))


def category_axis(title: str, categories: Sequence[str]) -> Axis:
    return Axis(title, labels=tuple(categories), category=True)


def series_names(chart: Chart) -> list[list[str]]:
    """The series of each panel by name: what both renderers must draw."""
    return [[s.name for s in panel.series] for panel in chart.panels]
