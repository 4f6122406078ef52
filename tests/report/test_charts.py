"""One definition per chart: the HTML (plotly) and the PNG (matplotlib) drawings of a chart agree, and the
PNGs meet the rules the browser test checks on the page (colour scale against the caption, the best cell
framed, the Pareto front labelled whatever the contention flags, a legend per panel, one colour per
trial, readable log axes)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
from matplotlib.colors import to_hex

from lstmexp.report.build import build_report
from lstmexp.report.chart import series_names
from lstmexp.report.charts import report_charts
from lstmexp.report.figures import chart_html, figure
from lstmexp.report.load import load_from_study
from lstmexp.report.plots import figure as png_figure
from tests.report_studies import grid_trials, make_study, make_trial

matplotlib.use("Agg")


def report_of(trials):
    loaded = load_from_study(make_study(trials))
    return build_report("known", "memory", {}, loaded.frame, curves=loaded.curves,
                        distributions=loaded.distributions, ranges=loaded.ranges)


@pytest.fixture(scope="module")
def drawn():
    """Every chart of a study with one contended trial: (definition, plotly figure, matplotlib figure)."""
    trials = grid_trials(lambda b, t, h: 100 * b / t, per_cell=1)
    trials.append(make_trial(64, 8, 16, samples_per_s=3.0, contended=True, contention_reason="load 3 on 2 cores"))
    charts = report_charts(report_of(trials))
    return {chart.key: (chart, figure(chart), png_figure(chart)) for chart in charts}


def panels(png) -> list:
    return [axes for axes in png.axes if axes.get_label() != "<colorbar>"]


def png_series(axes) -> list[str]:
    artists = [*axes.lines, *axes.collections, *axes.images]
    return sorted(a.get_label() for a in artists if not a.get_label().startswith("_"))


def plotly_series(html_figure, panel_count: int) -> list[list[str]]:
    axes = ["x" if i == 1 else f"x{i}" for i in range(1, panel_count + 1)]
    return [sorted(t.name for t in html_figure.data if (t.xaxis or "x") == axis) for axis in axes]


def test_every_chart_of_either_output_is_drawn_by_both(drawn):
    assert set(drawn) == {"pareto", "by_batch_size", "by_time_step", "val_loss_heatmap", "learning_curves",
                          "grad_norm_by_time_step"}


def test_a_chart_definition_gives_both_renderers_the_same_series_titles_and_caption(drawn):
    for key, (chart, html_figure, png) in drawn.items():
        wanted = [sorted(names) for names in series_names(chart)]
        assert plotly_series(html_figure, len(chart.panels)) == wanted, key
        assert [png_series(axes) for axes in panels(png)] == wanted, key
        block = chart_html(chart, f"chart-{key}", include_plotlyjs=False)
        html_text = f"{chart.title} {chart.caption} {block}"
        assert chart.title in html_text and chart.caption in html_text
        assert png.get_suptitle().replace("\n", " ") == chart.title
        assert png.get_supxlabel().replace("\n", " ") == chart.caption
        if len(chart.panels) > 1:  # panel titles: plotly's subplot titles, matplotlib's axes titles
            titles = [p.title for p in chart.panels]
            assert [a.text for a in html_figure.layout.annotations] == titles
            assert [axes.get_title() for axes in panels(png)] == titles


def test_both_renderers_use_the_definitions_ticks_on_log_axes(drawn):
    for key, (chart, html_figure, png) in drawn.items():
        for index, (panel, axes) in enumerate(zip(chart.panels, panels(png), strict=True), start=1):
            suffix = "" if index == 1 else str(index)
            for spec, plotly_axis, png_axis in ((panel.x, f"xaxis{suffix}", axes.xaxis),
                                                (panel.y, f"yaxis{suffix}", axes.yaxis)):
                if spec.log:
                    assert list(html_figure.layout[plotly_axis].tickvals) == list(spec.ticks), key
                    assert list(png_axis.get_majorticklocs()) == pytest.approx(list(spec.ticks)), key


def test_png_log_axes_are_labelled_with_plain_distinct_numbers(drawn):
    for key, (_, _, png) in drawn.items():
        png.canvas.draw()
        for axes in panels(png):
            for axis in (axes.xaxis, axes.yaxis):
                if axis.get_scale() != "log":
                    continue
                labels = [t.get_text() for t in axis.get_majorticklabels()]
                assert labels and len(set(labels)) == len(labels), key
                for label, value in zip(labels, axis.get_majorticklocs(), strict=True):
                    assert float(label.replace(",", "")) == pytest.approx(value, rel=1e-3), (key, label)
                assert not any(t.get_text() for t in axis.get_minorticklabels()), key  # no crowded minor labels


def test_every_png_panel_has_a_legend(drawn):
    for key, (_, _, png) in drawn.items():
        assert all(axes.get_legend() is not None for axes in panels(png)), key


def test_png_heatmap_is_dark_where_the_loss_is_low_as_its_caption_says_and_frames_the_best_cell(drawn):
    chart, _, png = drawn["val_loss_heatmap"]
    axes = panels(png)[0]
    image = axes.images[0]
    low, high = image.cmap(0.0), image.cmap(1.0)
    assert "dark is accurate" in chart.caption and sum(low[:3]) < sum(high[:3])
    z = np.asarray(image.get_array(), dtype=float)
    best_row, best_column = np.unravel_index(np.nanargmin(z), z.shape)
    frame = next(c for c in axes.collections if c.get_label().startswith("best"))
    assert tuple(frame.get_offsets()[0]) == (best_column, best_row)
    assert frame.get_facecolors().size == 0 or frame.get_facecolors()[0][3] == 0  # hollow: the number shows


def test_png_learning_curves_give_each_trial_one_colour(drawn):
    _, _, png = drawn["learning_curves"]
    colours: dict[str, set[str]] = {}
    for line in panels(png)[0].lines:
        trial = line.get_label().rsplit(" ", 1)[0]  # "trial 12 val" -> "trial 12"
        colours.setdefault(trial, set()).add(to_hex(line.get_color()))
    assert colours and all(len(c) == 1 for c in colours.values())
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)


def test_png_pareto_front_is_labelled_and_coloured_even_when_every_trial_is_contended():
    trials = grid_trials(lambda b, t, h: 100 * b / t, per_cell=1, contended=True, contention_reason="load 3")
    chart = next(c for c in report_charts(report_of(trials)) if c.key == "pareto")
    axes = panels(png_figure(chart))[0]
    points = next(c for c in axes.collections if c.get_label().startswith("trials"))
    assert points.get_array() is not None and len(points.get_offsets()) == len(trials)  # coloured by memory
    front = next(c for c in axes.collections if c.get_label().startswith("Pareto front"))
    labels = [t.get_text() for t in axes.texts]
    assert len(labels) == len(front.get_offsets()) and all(label.startswith("#") for label in labels)
    assert any(c.get_label().startswith("contended") for c in axes.collections)  # flagged, not dropped


def test_log_axes_at_searched_values_keep_neighbouring_labels_apart():
    from lstmexp.report.chart import MIN_TICK_RATIO, log_axis

    axis = log_axis("train.lr", [0.001, 0.0011, 0.00105, 0.002, 0.0021, 0.004], at_values=True)
    assert axis.ticks[0] == 0.001 and axis.ticks[-1] == 0.004
    assert all(b >= a * MIN_TICK_RATIO for a, b in zip(axis.ticks, axis.ticks[1:], strict=False))
    assert 0.002 in axis.ticks
    assert log_axis("batch_size", [16, 24, 32, 48, 64], at_values=True).ticks == (16, 24, 32, 48, 64)
