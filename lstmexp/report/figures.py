"""Draws a chart definition (`chart.Chart`) with plotly for the HTML page: interactive, hover shows the trial.

The same library Optuna's visualisation module draws with. Only the mapping to plotly lives here
(markers, dashes, one legend per panel under it, the Viridis scale with its colour bar, log axes at
the definition's ticks); what is drawn comes from the definition, as for the PNGs (`plots.py`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from lstmexp.report.chart import CELLS, SCALE, Axis, Chart, Panel, Series

if TYPE_CHECKING:
    import plotly.graph_objects as go

SYMBOLS = {"circle": "circle", "ring": "circle-open", "frame": "square-open", "x": "x-thin", "star": "star",
           "triangle": "triangle-up"}
SIZES = {"ring": 14, "frame": 46, "star": 18, "x": 10}
DASHES = {"": "solid", "dash": "dash", "dot": "dot"}


def figure(chart: Chart) -> go.Figure:
    """The plotly figure of one chart: a column per panel, each with its own legend."""
    from plotly.subplots import make_subplots

    titles = [p.title for p in chart.panels] if len(chart.panels) > 1 else None
    widths = [p.width for p in chart.panels]
    drawn = make_subplots(rows=1, cols=len(chart.panels), subplot_titles=titles,
                          column_widths=[w / sum(widths) for w in widths], horizontal_spacing=0.12)
    for column, panel in enumerate(chart.panels, start=1):
        for series in panel.series:
            drawn.add_trace(trace(series, panel, column), row=1, col=column)
        drawn.update_xaxes(axis(panel.x), row=1, col=column)
        drawn.update_yaxes(axis(panel.y), row=1, col=column)
        start = sum(widths[:column - 1]) / sum(widths)
        # under its panel; a small chart's entries stacked, so they stay inside its panel's width
        legend: dict[str, Any] = {"x": start, "y": -0.25, "yanchor": "top", "orientation": "v" if chart.small else "h"}
        if panel.legend:
            legend["title"] = {"text": panel.legend}
        drawn.update_layout({legend_name(column): legend})
    return drawn


def legend_name(column: int) -> str:
    return "legend" if column == 1 else f"legend{column}"


def axis(spec: Axis) -> dict[str, Any]:
    out: dict[str, Any] = {"title": {"text": spec.title}}
    if spec.category:
        out.update(type="category", categoryorder="array", categoryarray=list(spec.labels))
    elif spec.ticks:
        out.update(tickvals=list(spec.ticks), ticktext=list(spec.labels))
    if spec.log:
        out["type"] = "log"
    return out


def trace(series: Series, panel: Panel, column: int) -> Any:
    import plotly.graph_objects as go

    if series.mode == CELLS:
        return go.Heatmap(z=np.array(series.z, dtype=float), x=list(series.x), y=list(series.y), colorscale=SCALE,
                          texttemplate=f"%{{z:{series.cell_format}}}", colorbar={"title": {"text": panel.scale}},
                          name=series.name, hovertemplate=f"{panel.y.title}=%{{y}}, {panel.x.title}=%{{x}}<br>"
                                                          f"{series.name} %{{z:.4g}}<extra></extra>")
    common: dict[str, Any] = {"name": series.name, "legend": legend_name(column), "showlegend": True}
    if series.hover:
        common.update(hovertext=list(series.hover), hoverinfo="text")
    mode = series.mode if not series.marker or series.mode != "lines" else "lines+markers"
    if series.labels:
        mode += "+text"
        common.update(text=list(series.labels), textposition="top center",
                      textfont={"color": series.label_colour} if series.label_colour else None)
    if series.group:
        common["legendgroup"] = series.group
    if series.low:
        common["error_y"] = {"type": "data", "symmetric": False,
                             "array": [h - y for h, y in zip(series.high, series.y, strict=True)],
                             "arrayminus": [y - lo for lo, y in zip(series.low, series.y, strict=True)]}
    return go.Scatter(x=list(series.x), y=list(series.y), mode=mode, marker=marker(series, panel),
                      line={"color": series.colour or None, "dash": DASHES[series.dash]}, **common)


def marker(series: Series, panel: Panel) -> dict[str, Any]:
    out: dict[str, Any] = {"symbol": SYMBOLS.get(series.marker or "circle"), "size": SIZES.get(series.marker, 8)}
    if series.shade:
        out.update(color=list(series.shade), colorscale=SCALE, opacity=0.75, colorbar={"title": {"text": panel.scale}})
    elif series.colour:
        out["color"] = series.colour
    if series.marker in ("ring", "frame"):
        out["line"] = {"color": series.colour, "width": 2 if series.marker == "ring" else 3}
    elif series.marker in ("star", "x"):
        out["line"] = {"color": "black", "width": 1.5 if series.marker == "x" else 1}
    return out


def small_width(chart: Chart) -> int:
    """A small chart's width in pixels: 480 per panel of full width."""
    return int(480 * sum(p.width for p in chart.panels))


def chart_html(chart: Chart, div_id: str, include_plotlyjs: bool) -> str:
    """The chart's <div> and script (plotly.js inline when asked: the page's first chart)."""
    drawn = figure(chart)
    drawn.update_layout(margin={"t": 40, "b": 40}, height=440)
    if chart.small:  # a fixed size: a row of small charts is laid out before plotly could resize them
        drawn.update_layout(height=380, width=small_width(chart), margin={"l": 60, "r": 20, "t": 30, "b": 30})
    return str(drawn.to_html(full_html=False, include_plotlyjs=include_plotlyjs, div_id=div_id,
                             config={"displaylogo": False, "responsive": not chart.small}))
