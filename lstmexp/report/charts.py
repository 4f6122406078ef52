"""The report's charts, each defined once (a `chart.Chart`) and drawn by both the HTML page and the PNGs.

Each function takes a Report and returns a Chart, or None when the study lacks the data (a single
batch size gives no line). The answer's trade-off charts come first (accuracy vs speed vs memory;
speed and memory against batch_size and time_step), then the others (val-loss heatmap, learning
curves, gradient norm against time_step). Line charts say which hidden size they hold fixed,
heatmap cells carry their numbers and the best is framed, Pareto points carry their trial number,
a trial's train and val curves share one colour, and contended trials are flagged with a cross
(never dropped from the trade-off chart; their count is said where they are left out).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from lstmexp.report.build import FINISHED, Report
from lstmexp.report.chart import CELLS, MARKERS, Axis, Chart, Panel, Series, category_axis, colour, log_axis
from lstmexp.report.noise import contended_mask, left_out_note, quiet
from lstmexp.report.pareto import pareto_front
from lstmexp.units import MIB
from lstmexp.vocabulary.names import (
    CONTENDED,
    GRAD_NORM_MAX,
    GRAD_NORM_MEAN,
    PEAK_MEM_BYTES,
    SAMPLES_PER_S,
    TRAIN_SEED,
    VAL_LOSS_BEST,
)

BEST_CURVES = 5


def states(report: Report, wanted: tuple[str, ...]) -> pd.DataFrame:
    trials = report.all_trials
    return trials[trials["state"].isin(wanted)] if "state" in trials.columns else trials.iloc[0:0]


def hover_text(frame: pd.DataFrame, params: list[str]) -> tuple[str, ...]:
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
    return tuple(lines)


def values(column: pd.Series) -> tuple[float, ...]:
    return tuple(float(v) for v in column)


def tradeoff_chart(report: Report) -> Chart | None:
    wanted = [SAMPLES_PER_S, VAL_LOSS_BEST]
    trials = states(report, ("complete",))
    if not set(wanted) <= set(trials.columns) or trials.dropna(subset=wanted).empty:
        return None
    trials = trials.dropna(subset=wanted)
    memory = values(trials[PEAK_MEM_BYTES] / MIB) if PEAK_MEM_BYTES in trials else ()
    series = [Series("trials (colour: peak MiB)", values(trials[SAMPLES_PER_S]), values(trials[VAL_LOSS_BEST]),
                     MARKERS, colour="" if memory else colour(0), marker="circle", shade=memory,
                     hover=hover_text(trials, report.params))]
    # The front over uncontended trials; when contention flags leave none, over every trial, flagged.
    front = report.pareto if not report.pareto.empty else pareto_front(trials)
    if not front.empty:
        flagged = "" if not report.pareto.empty else " (over contended speeds)"
        series.append(Series("Pareto front" + flagged, values(front[SAMPLES_PER_S]), values(front[VAL_LOSS_BEST]),
                             MARKERS, colour="red", marker="ring", labels=tuple(f"#{int(n)}" for n in front["number"]),
                             hover=hover_text(front, report.params)))
    busy = trials[contended_mask(trials)]
    if not busy.empty:
        series.append(Series("contended (speed unreliable)", values(busy[SAMPLES_PER_S]), values(busy[VAL_LOSS_BEST]),
                             MARKERS, colour="black", marker="x", hover=hover_text(busy, report.params)))
    panel = Panel(log_axis("samples/s (training, log scale)", trials[SAMPLES_PER_S]),
                  Axis("best val loss (lower is better)"), tuple(series), scale="peak MiB" if memory else "")
    return Chart("pareto", "Accuracy vs speed vs memory (completed trials)",
                 "down and right is better; colour is peak memory; labelled points (#trial) form the Pareto front; "
                 "a cross flags a trial whose speed was measured on a busy machine", (panel,))


def fixed_hidden(trials: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The trials at the most common hidden size (so lines do not mix sizes), and that size in words."""
    if "hidden_size" not in trials.columns or trials["hidden_size"].nunique() <= 1:
        return trials, ""
    size = trials["hidden_size"].mode().iloc[0]
    return trials[trials["hidden_size"] == size], f"hidden_size={size} held fixed"


def against_chart(report: Report, x: str, per: str) -> Chart | None:
    """Speed and memory against `x`, one line per value of `per`: two panels, each with its legend."""
    trials, left_out = quiet(states(report, FINISHED))
    if not {x, per, SAMPLES_PER_S} <= set(trials.columns) or trials[x].nunique() < 2:
        return None
    trials, held = fixed_hidden(trials)
    panels = tuple(lines_panel(trials, x, per, metric, label, scale) for metric, label, scale in
                   ((SAMPLES_PER_S, "samples/s", 1.0), (PEAK_MEM_BYTES, "peak memory (MiB)", MIB))
                   if metric in trials.columns)
    notes = [n for n in (held, left_out_note(left_out)) if n]
    title = f"Speed and memory against {x}, one line per {per} (medians)" + (f"; {'; '.join(notes)}" if notes else "")
    return Chart(f"by_{x}", title, f"how the cost of one configuration moves with {x}; each line holds {per} fixed",
                 panels)


def lines_panel(trials: pd.DataFrame, x: str, per: str, metric: str, label: str, scale: float) -> Panel:
    table = trials.pivot_table(index=x, columns=per, values=metric, aggfunc="median") / scale
    series = []
    for index, value in enumerate(table.columns):
        line = table[value].dropna()
        series.append(Series(f"{per}={value}", values(line.index.to_series()), values(line), colour=colour(index),
                             marker="circle", group=str(value),
                             hover=tuple(f"{x}={i}<br>{per}={value}<br>{v:,.4g}" for i, v in line.items())))
    return Panel(log_axis(x, trials[x], at_values=True), log_axis(label, table.to_numpy().ravel()), tuple(series),
                 title=label, legend=f"{label}: {per}")


def heatmap_chart(report: Report) -> Chart | None:
    table = report.matrices.get(VAL_LOSS_BEST)
    if table is None or table.size < 2:
        return None
    z = table.to_numpy(dtype=float)
    columns, rows = [f"T={c}" for c in table.columns], [str(i) for i in table.index]
    # Viridis runs dark (low) to bright (high): the lowest loss, the best, is the darkest cell.
    cells = Series("median best val loss", tuple(columns), tuple(rows), CELLS, z=tuple(tuple(r) for r in z))
    best_row, best_column = divmod(int(np.nanargmin(z)), z.shape[1])
    # A frame round the best cell, not a mark on it: the cell's own number stays readable inside.
    frame = Series("best (lowest val loss)", (columns[best_column],), (rows[best_row],), MARKERS, colour="white",
                   marker="frame")
    panel = Panel(category_axis("time_step", columns), category_axis("batch_size", rows), (cells, frame),
                  scale="val loss (dark: lower, better)")
    return Chart("val_loss_heatmap", "Median best val loss: batch_size × time_step (completed trials)",
                 "dark is accurate: the darkest cell, framed in white, has the lowest loss; empty cells had no trial",
                 (panel,))


def curves_chart(report: Report) -> Chart | None:
    numbers = list(report.best["number"])[:BEST_CURVES] if "number" in report.best else []
    curves = [(n, report.curves[n]) for n in numbers if n in report.curves]
    if not curves:
        return None
    series: list[Series] = []
    losses: list[float] = []
    for index, (number, curve) in enumerate(curves):
        for which, dash in (("val", ""), ("train", "dash")):
            loss = tuple(float(v) for v in curve.get(f"{which}_loss", []))
            if loss or which == "val":  # one colour per trial: its val and train curves read as a pair
                series.append(Series(f"trial {number} {which}", tuple(range(1, len(loss) + 1)), loss,
                                     colour=colour(index), dash=dash, group=str(number)))
                losses += loss
    panel = Panel(Axis("epoch"), log_axis("loss (scaled units, log scale)", losses), tuple(series))
    return Chart("learning_curves", "Learning curves of the best trials (solid: val, dashed: train; one colour each)",
                 "a val curve still falling at the last epoch: train longer", (panel,))


def grad_norm_chart(report: Report) -> Chart | None:
    trials = states(report, FINISHED)
    if not {"time_step", GRAD_NORM_MEAN} <= set(trials.columns) or trials["time_step"].nunique() < 2:
        return None
    grouped = trials.groupby("time_step")
    lines = [(GRAD_NORM_MEAN, "mean gradient norm", "circle", ""), (GRAD_NORM_MAX, "max gradient norm", "triangle",
                                                                    "dot")]
    series = []
    for index, (metric, name, marker, dash) in enumerate(lines):
        if metric in trials.columns:
            medians = grouped[metric].median().dropna()
            series.append(Series(name, values(medians.index.to_series()), values(medians), colour=colour(index),
                                 marker=marker, dash=dash))
    panel = Panel(log_axis("time_step", trials["time_step"].dropna(), at_values=True),
                  log_axis("gradient norm", [v for s in series for v in s.y]), tuple(series))
    return Chart("grad_norm_by_time_step", "Gradient norm against time_step (medians over trials)",
                 "a norm that grows with time_step hints at exploding gradients, one that shrinks at vanishing ones",
                 (panel,))


# The answer's charts (shown first in the HTML), then the others (below the tables).
ANSWER_CHARTS: tuple[Callable[[Report], Chart | None], ...] = (
    tradeoff_chart,
    lambda r: against_chart(r, "batch_size", "time_step"),
    lambda r: against_chart(r, "time_step", "batch_size"),
)
MORE_CHARTS: tuple[Callable[[Report], Chart | None], ...] = (heatmap_chart, curves_chart, grad_norm_chart)


def charts(report: Report, which: tuple[Callable[[Report], Chart | None], ...]) -> list[Chart]:
    return [chart for chart in (draw(report) for draw in which) if chart is not None]


def report_charts(report: Report) -> list[Chart]:
    """Every chart of one report, in the HTML page's order: the claims', the answer's, then the others."""
    from lstmexp.report.claim_charts import claim_charts

    return [*claim_charts(report), *charts(report, ANSWER_CHARTS), *charts(report, MORE_CHARTS)]
