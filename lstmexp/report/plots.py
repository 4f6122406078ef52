"""The report's PNG plots for `--out` and report.md (matplotlib, Agg backend: no display needed).

The HTML page draws interactive plotly charts instead (`figures.py`); these follow the same rules:
heatmap cells carry their numbers, Pareto points their trial number, line plots hold one hidden
size fixed and say which, contended trials are drawn apart or left out of speed lines.

Each plot function takes a Report and returns PNG bytes, or None when the study lacks the data
(e.g. a single batch size gives no line to draw). `make_plots` returns the ones that could be drawn.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lstmexp.report.build import FINISHED, Report
from lstmexp.report.noise import contended_mask, quiet
from lstmexp.trial.names import GRAD_NORM_MAX, GRAD_NORM_MEAN, PEAK_MEM_BYTES, SAMPLES_PER_S, VAL_LOSS_BEST
from lstmexp.units import MIB

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BEST_CURVES = 5


def new_figure(title: str, size: tuple[float, float] = (6.4, 4.2)) -> Figure:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    figure = Figure(figsize=size, layout="constrained")
    figure.suptitle(title)
    return figure


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def finished(report: Report) -> pd.DataFrame:
    trials = report.all_trials
    return trials[trials["state"].isin(FINISHED)] if "state" in trials.columns else trials.iloc[0:0]


def completed(report: Report) -> pd.DataFrame:
    trials = report.all_trials
    return trials[trials["state"] == "complete"] if "state" in trials.columns else trials.iloc[0:0]


def pareto_plot(report: Report) -> bytes | None:
    trials = completed(report).dropna(subset=[SAMPLES_PER_S, VAL_LOSS_BEST]) \
        if {SAMPLES_PER_S, VAL_LOSS_BEST} <= set(report.all_trials.columns) else None
    if trials is None or trials.empty:
        return None
    figure = new_figure("Pareto front: accuracy vs speed (colour: peak memory)")
    axes = figure.add_subplot()
    busy = trials[contended_mask(trials)]
    trials = trials[~contended_mask(trials)]
    memory = trials[PEAK_MEM_BYTES] / MIB if PEAK_MEM_BYTES in trials else None
    points = axes.scatter(trials[SAMPLES_PER_S], trials[VAL_LOSS_BEST], c=memory, cmap="viridis", s=18,
                          alpha=0.6)
    if not busy.empty:
        axes.scatter(busy[SAMPLES_PER_S], busy[VAL_LOSS_BEST], marker="x", color="grey",
                     label="contended (speed unreliable)")
    front = report.pareto
    if not front.empty:
        ordered = front.sort_values(SAMPLES_PER_S)
        axes.scatter(ordered[SAMPLES_PER_S], ordered[VAL_LOSS_BEST], facecolors="none", edgecolors="red", s=60,
                     label="Pareto front")
        for _, row in ordered.iterrows():
            axes.annotate(f"#{int(row['number'])}", (row[SAMPLES_PER_S], row[VAL_LOSS_BEST]),
                          textcoords="offset points", xytext=(0, 6), ha="center", fontsize="x-small")
    if not front.empty or not busy.empty:
        axes.legend()
    if memory is not None:
        figure.colorbar(points, ax=axes, label="peak memory (MiB)")
    axes.set(xlabel="samples/s", ylabel="best val loss", xscale="log")
    plain_log_ticks(axes.xaxis)
    return png(figure)


def plain_log_ticks(axis: Any, values: Any = None) -> None:
    """Log axes labelled with plain numbers (the searched values when given), no crowded minor labels."""
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    if values is not None:
        axis.set_ticks(list(values))
    axis.set_major_formatter(ScalarFormatter())
    axis.set_minor_formatter(NullFormatter())


def by_batch_plot(report: Report, metric: str, label: str, scale: float = 1.0) -> bytes | None:
    trials, _ = quiet(finished(report))
    if not {"batch_size", "time_step", metric} <= set(trials.columns):
        return None
    held = ""
    if "hidden_size" in trials.columns and trials["hidden_size"].nunique() > 1:
        size = trials["hidden_size"].mode().iloc[0]
        trials, held = trials[trials["hidden_size"] == size], f"\nhidden_size={size} held fixed"
    table = trials.pivot_table(index="batch_size", columns="time_step", values=metric, aggfunc="median") / scale
    if len(table) < 2:
        return None
    figure = new_figure(f"{label} against batch_size, one line per time_step (medians){held}")
    axes = figure.add_subplot()
    for step in table.columns:
        column = table[step].dropna()
        axes.plot(column.index, column.to_numpy(), marker="o", label=f"T={step}")
    axes.set(xlabel="batch_size", ylabel=label, xscale="log", yscale="log")
    plain_log_ticks(axes.xaxis, table.index)
    axes.legend(fontsize="small")
    return png(figure)


def heatmap_plot(report: Report) -> bytes | None:
    table = report.matrices.get(VAL_LOSS_BEST)
    if table is None or table.size < 2:
        return None
    figure = new_figure("Median best val loss: batch_size × time_step (completed trials)")
    axes = figure.add_subplot()
    image = axes.imshow(table.to_numpy(dtype=float), cmap="viridis", aspect="auto")  # dark: lower loss, better
    axes.set_xticks(range(len(table.columns)), [str(c) for c in table.columns])
    axes.set_yticks(range(len(table.index)), [str(i) for i in table.index])
    axes.set(xlabel="time_step", ylabel="batch_size")
    values = table.to_numpy(dtype=float)
    for row in range(values.shape[0]):  # each cell carries its number; empty cells (no trial) stay blank
        for column in range(values.shape[1]):
            if math.isfinite(values[row, column]):
                axes.text(column, row, f"{values[row, column]:.4g}", ha="center", va="center", fontsize="small",
                          color="white")
    if np.isfinite(values).any():  # the best cell, starred as in the HTML chart
        best_row, best_column = divmod(int(np.nanargmin(values)), values.shape[1])
        axes.scatter([best_column], [best_row - 0.3], marker="*", s=120, color="white", edgecolors="black")
    figure.colorbar(image, ax=axes, label="best val loss (dark: lower, better)")
    return png(figure)


def curves_plot(report: Report) -> bytes | None:
    numbers = list(report.best["number"])[:BEST_CURVES] if "number" in report.best else []
    curves = [(n, report.curves[n]) for n in numbers if n in report.curves]
    if not curves:
        return None
    figure = new_figure("Learning curves of the best trials (solid: val, dashed: train)")
    axes = figure.add_subplot()
    for number, curve in curves:
        line = axes.plot(curve.get("val_loss", []), label=f"trial {number}")[0]
        if "train_loss" in curve:
            axes.plot(curve["train_loss"], linestyle="--", color=line.get_color())
    axes.set(xlabel="epoch", ylabel="loss (scaled units)", yscale="log")
    axes.legend(fontsize="small")
    return png(figure)


def grad_norm_plot(report: Report) -> bytes | None:
    trials = finished(report)
    if not {"time_step", GRAD_NORM_MEAN} <= set(trials.columns) or trials["time_step"].nunique() < 2:
        return None
    figure = new_figure("Gradient norm against time_step (medians over trials)")
    axes = figure.add_subplot()
    grouped = trials.groupby("time_step")
    axes.plot(grouped[GRAD_NORM_MEAN].median(), marker="o", label="mean gradient norm")
    if GRAD_NORM_MAX in trials:
        axes.plot(grouped[GRAD_NORM_MAX].median(), marker="^", linestyle=":", label="max gradient norm")
    axes.set(xlabel="time_step", ylabel="gradient norm", xscale="log", yscale="log")
    plain_log_ticks(axes.xaxis, sorted(trials["time_step"].dropna().unique()))
    axes.legend(fontsize="small")
    return png(figure)


PLOTS: dict[str, Callable[[Report], bytes | None]] = {
    "pareto": pareto_plot,
    "samples_per_s_by_batch": lambda r: by_batch_plot(r, SAMPLES_PER_S, "samples/s"),
    "peak_memory_by_batch": lambda r: by_batch_plot(r, PEAK_MEM_BYTES, "peak memory (MiB)", MIB),
    "val_loss_heatmap": heatmap_plot,
    "learning_curves": curves_plot,
    "grad_norm_by_time_step": grad_norm_plot,
}


def make_plots(reports: list[Report]) -> dict[str, bytes]:
    """name -> PNG bytes; with several studies the names are prefixed by the study."""
    import matplotlib

    matplotlib.use("Agg")
    drawn = {}
    for report in reports:
        prefix = f"{report.study}_" if len(reports) > 1 else ""
        for name, draw in PLOTS.items():
            image = draw(report)
            if image is not None:
                drawn[prefix + name] = image
    return drawn
