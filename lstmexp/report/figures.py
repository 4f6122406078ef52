"""The HTML report's interactive charts (plotly): hover shows the trial, its configuration and figures.

The same library Optuna's visualisation module draws with. Each function takes a Report and returns
a `Chart` or None when the study lacks the data. The first charts are the answer's trade-off
plots (accuracy vs speed vs memory; speed and memory against batch_size and time_step); the rest
go below the tables. Log axes are labelled with the searched values (2, 4, 8 ...), line plots say
which hidden size they hold fixed and every panel has its own legend, heatmap cells carry their
numbers and the best is starred, Pareto points carry their trial number, a trial's train and val
curves share one colour, and contended trials are flagged with a cross (never dropped from the
trade-off chart; their count is said where they are left out).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lstmexp.report.build import FINISHED, Report
from lstmexp.report.noise import contended_mask, left_out_note, quiet
from lstmexp.report.pareto import pareto_front
from lstmexp.report.people import format_number
from lstmexp.trial.names import CONTENDED, PEAK_MEM_BYTES, SAMPLES_PER_S, TEST_SKILL, TRAIN_SEED, VAL_LOSS_BEST
from lstmexp.units import MIB

if TYPE_CHECKING:
    import plotly.graph_objects as go

FIGURES = (VAL_LOSS_BEST, SAMPLES_PER_S, PEAK_MEM_BYTES, TEST_SKILL)
BEST_CURVES = 5


@dataclass
class Chart:
    key: str
    title: str
    read: str  # one sentence: what to read from it
    figure: go.Figure


def states(report: Report, wanted: tuple[str, ...]) -> pd.DataFrame:
    trials = report.all_trials
    return trials[trials["state"].isin(wanted)] if "state" in trials.columns else trials.iloc[0:0]


def hover_text(frame: pd.DataFrame, params: list[str]) -> list[str]:
    """'trial 12 (seed 1)<br>batch_size=64, time_step=16<br>val loss 0.12, 13,000 samples/s, 4.2 MiB'."""
    lines = []
    for row in frame.to_dict(orient="records"):
        seed = f" (seed {int(row[TRAIN_SEED])})" if pd.notna(row.get(TRAIN_SEED, float("nan"))) else ""
        setting = ", ".join(f"{p}={row[p]}" for p in params if p in row)
        figures = [f"val loss {row[VAL_LOSS_BEST]:.4g}" if pd.notna(row.get(VAL_LOSS_BEST)) else "",
                   f"{row[SAMPLES_PER_S]:,.0f} samples/s" if pd.notna(row.get(SAMPLES_PER_S)) else "",
                   f"{row[PEAK_MEM_BYTES] / MIB:,.1f} MiB" if pd.notna(row.get(PEAK_MEM_BYTES)) else ""]
        busy = "<br>CONTENDED: speed measured on a busy machine" if row.get(CONTENDED) in (True, 1) else ""
        lines.append(f"trial {int(row['number'])}{seed}<br>{setting}<br>{', '.join(f for f in figures if f)}{busy}")
    return lines


def tradeoff_chart(report: Report) -> Chart | None:
    import plotly.graph_objects as go

    wanted = {SAMPLES_PER_S, VAL_LOSS_BEST}
    trials = states(report, ("complete",))
    if not wanted <= set(trials.columns) or trials.dropna(subset=list(wanted)).empty:
        return None
    trials = trials.dropna(subset=list(wanted))
    busy = trials[contended_mask(trials)]
    memory = trials["peak_mem_bytes"] / MIB if "peak_mem_bytes" in trials else None
    figure = go.Figure()
    figure.add_trace(go.Scatter(
        x=trials["samples_per_s"], y=trials["val_loss_best"], mode="markers", name="trials (colour: peak MiB)",
        marker={"color": memory, "colorscale": "Viridis", "size": 8, "opacity": 0.75,
                "colorbar": {"title": "peak MiB"} if memory is not None else None},
        hovertext=hover_text(trials, report.params), hoverinfo="text"))
    # The front over uncontended trials; when contention flags leave none, over every trial, flagged.
    front = report.pareto if not report.pareto.empty else pareto_front(trials)
    if not front.empty:
        flagged = "" if not report.pareto.empty else " (over contended speeds)"
        figure.add_trace(go.Scatter(
            x=front["samples_per_s"], y=front["val_loss_best"], mode="markers+text", name="Pareto front" + flagged,
            text=[f"#{int(n)}" for n in front["number"]], textposition="top center",
            marker={"size": 14, "color": "rgba(0,0,0,0)", "line": {"color": "red", "width": 2}},
            hovertext=hover_text(front, report.params), hoverinfo="text"))
    if not busy.empty:
        figure.add_trace(go.Scatter(
            x=busy["samples_per_s"], y=busy["val_loss_best"], mode="markers", name="contended (speed unreliable)",
            marker={"symbol": "x-thin", "color": "black", "size": 10, "line": {"width": 1.5}},
            hovertext=hover_text(busy, report.params), hoverinfo="text"))
    figure.update_xaxes(title="samples/s (training, log scale)", type="log", exponentformat="none",
                        tickformat=",")
    figure.update_yaxes(title="best val loss (lower is better)")
    figure.update_layout(legend={"orientation": "h", "y": -0.2})
    return Chart("tradeoff", "Accuracy vs speed vs memory (completed trials)",
                 "down and right is better; colour is peak memory; labelled points (#trial) form the Pareto front; "
                 "a cross flags a trial whose speed was measured on a busy machine",
                 figure)


def fixed_hidden(trials: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The trials at the most common hidden size (so lines do not mix sizes), and that size in words."""
    if "hidden_size" not in trials.columns or trials["hidden_size"].nunique() <= 1:
        return trials, ""
    size = trials["hidden_size"].mode().iloc[0]
    return trials[trials["hidden_size"] == size], f"hidden_size={size} held fixed"


def against_chart(report: Report, x: str, per: str) -> Chart | None:
    from plotly.subplots import make_subplots

    trials, left_out = quiet(states(report, FINISHED))
    if not {x, per, SAMPLES_PER_S} <= set(trials.columns) or trials[x].nunique() < 2:
        return None
    trials, held = fixed_hidden(trials)
    panels = [(m, label, scale) for m, label, scale in
              ((SAMPLES_PER_S, "samples/s", 1.0), (PEAK_MEM_BYTES, "peak memory (MiB)", MIB))
              if m in trials.columns]
    figure = make_subplots(rows=1, cols=len(panels), subplot_titles=[label for _, label, _ in panels])
    for column, (metric, label, scale) in enumerate(panels, start=1):
        add_lines(figure, trials, x, per, metric, scale, column)
        figure.update_yaxes(title=label, type="log", exponentformat="none", tickformat=",", row=1, col=column)
        # each panel its own legend, under it (plotly's legend, legend2, ...)
        start = (column - 1) / len(panels)
        figure.update_layout({legend_name(column): {"x": start, "y": -0.25, "orientation": "h",
                                                    "title": {"text": f"{label}: {per}"}}})
    values = sorted(trials[x].dropna().unique())
    figure.update_xaxes(title=x, type="log", tickvals=values, ticktext=[str(v) for v in values])
    notes = [n for n in (held, left_out_note(left_out)) if n]
    title = f"Speed and memory against {x}, one line per {per} (medians)" + (f"; {'; '.join(notes)}" if notes else "")
    return Chart(f"by_{x}", title, f"how the cost of one configuration moves with {x}; each line holds {per} fixed",
                 figure)


def add_lines(figure: Any, trials: pd.DataFrame, x: str, per: str, metric: str, scale: float, column: int) -> None:
    import plotly.graph_objects as go

    table = trials.pivot_table(index=x, columns=per, values=metric, aggfunc="median") / scale
    for index, value in enumerate(table.columns):
        line = table[value].dropna()
        figure.add_trace(go.Scatter(x=line.index, y=line.to_numpy(), mode="lines+markers", name=f"{per}={value}",
                                    legendgroup=str(value), legend=legend_name(column),
                                    line={"color": colour(index)},
                                    hovertemplate=f"{x}=%{{x}}<br>{per}={value}<br>%{{y:,.4g}}<extra></extra>"),
                         row=1, col=column)


def legend_name(column: int) -> str:
    return "legend" if column == 1 else f"legend{column}"


def colour(index: int) -> str:
    import plotly.colors

    palette = plotly.colors.qualitative.Plotly
    return str(palette[index % len(palette)])


def log_ticks(values: list[float]) -> tuple[list[float], list[str]]:
    """Ticks at 1, 2, 5 × 10^k across the values, labelled in plain numbers (no stray minor digits)."""
    finite = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if not finite:
        return [], []
    smallest, largest = min(finite), max(finite)
    decades = range(math.floor(math.log10(smallest)), math.ceil(math.log10(largest)) + 1)
    ticks = [m * 10.0**k for k in decades for m in (1, 2, 5) if smallest / 2 <= m * 10.0**k <= largest * 2]
    return ticks, [format_number(t) for t in ticks]


def heatmap_chart(report: Report) -> Chart | None:
    import plotly.graph_objects as go

    table = report.matrices.get(VAL_LOSS_BEST)
    if table is None or table.size < 2:
        return None
    z = table.to_numpy(dtype=float)
    columns, rows = [f"T={c}" for c in table.columns], [str(i) for i in table.index]
    # Viridis runs dark (low) to bright (high): the lowest loss, the best, is the darkest cell.
    figure = go.Figure(go.Heatmap(
        z=z, x=columns, y=rows, colorscale="Viridis", texttemplate="%{z:.4g}",
        colorbar={"title": "val loss (dark: lower, better)"},
        hovertemplate="batch_size=%{y}, time_step=%{x}<br>median best val loss %{z:.4g}<extra></extra>"))
    best_row, best_column = divmod(int(np.nanargmin(z)), z.shape[1])
    figure.add_trace(go.Scatter(
        x=[columns[best_column]], y=[rows[best_row]], mode="markers+text", name="best (lowest val loss)",
        text=["best"], textposition="top center", textfont={"color": "white"},
        marker={"symbol": "star", "size": 18, "color": "white", "line": {"color": "black", "width": 1}},
        hoverinfo="skip", showlegend=True))
    figure.update_xaxes(title="time_step", type="category")
    figure.update_yaxes(title="batch_size", type="category")
    figure.update_layout(legend={"orientation": "h", "y": -0.2})
    return Chart("val_loss_heatmap", "Median best val loss: batch_size × time_step (completed trials)",
                 "dark is accurate: the darkest cell, starred 'best', has the lowest loss; empty cells had no trial",
                 figure)


def curves_chart(report: Report) -> Chart | None:
    import plotly.graph_objects as go

    numbers = list(report.best["number"])[:BEST_CURVES] if "number" in report.best else []
    curves = [(n, report.curves[n]) for n in numbers if n in report.curves]
    if not curves:
        return None
    figure = go.Figure()
    losses: list[float] = []
    for index, (number, curve) in enumerate(curves):
        epochs = list(range(1, len(curve.get("val_loss", [])) + 1))
        style = {"color": colour(index)}  # one colour per trial: its val and train curves read as a pair
        figure.add_trace(go.Scatter(x=epochs, y=curve.get("val_loss", []), name=f"trial {number} val", mode="lines",
                                    line=style, legendgroup=str(number)))
        losses += list(curve.get("val_loss", []))
        if "train_loss" in curve:
            figure.add_trace(go.Scatter(x=epochs, y=curve["train_loss"], name=f"trial {number} train",
                                        mode="lines", line={**style, "dash": "dash"}, legendgroup=str(number)))
            losses += list(curve["train_loss"])
    ticks, labels = log_ticks(losses)
    figure.update_xaxes(title="epoch")
    figure.update_yaxes(title="loss (scaled units, log scale)", type="log", tickvals=ticks, ticktext=labels)
    return Chart("learning_curves", "Learning curves of the best trials (solid: val, dashed: train; one colour each)",
                 "a val curve still falling at the last epoch: train longer", figure)


# The answer's charts (shown first), then the others (below the tables).
ANSWER_CHARTS: tuple[Callable[[Report], Chart | None], ...] = (
    tradeoff_chart,
    lambda r: against_chart(r, "batch_size", "time_step"),
    lambda r: against_chart(r, "time_step", "batch_size"),
)
MORE_CHARTS: tuple[Callable[[Report], Chart | None], ...] = (heatmap_chart, curves_chart)


def charts(report: Report, which: tuple[Callable[[Report], Chart | None], ...]) -> list[Chart]:
    return [chart for chart in (draw(report) for draw in which) if chart is not None]
