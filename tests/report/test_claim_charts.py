"""The claims table of a claims study's HTML page: a small chart per decided claim, read back from the
plotly JSON in the page, showing the measured figure against the setting and the effect with its interval."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lstmexp.report.build import DESIGN_ATTR, build_report
from lstmexp.report.charts import report_charts
from lstmexp.report.claim_charts import DECIDED
from lstmexp.report.html import render_html
from lstmexp.report.load import load_from_study
from lstmexp.report.outline import outline
from lstmexp.report.plots import figure as png_figure
from tests.report.plotly_json import array, page_figures
from tests.report_studies import make_study, make_trial

TRAIN_ROWS = 1040
BATCHES = (4, 8, 16, 24, 32, 64)
STEPS = (4, 8, 16, 32)
PENDING = {"sequence": "too few rows for a short and a long stretch", "stateful": "left out of this test",
           "chunks": "not in this test"}
DESIGN = {
    "design": {"why_centre": ["batch_size 8, time_step 16"], "seeds": 2, "epochs": 4, "estimate_cpu_s": 60.0,
               "budget_cpu_s": 600.0, "notes": [], "facts": {"train_rows": TRAIN_ROWS, "horizon": 1},
               "arms": [{"name": name, "pending": PENDING.get(name, "")}
                        for name in ("batch", "batch_lr", "time_step", "sequence", "stateful", "chunks")]},
    "fed": {"batch_size": 8, "time_step": 16, "input_size": 1, "horizon": 1, "output_size": 1,
            "inputs": [8, 16, 1], "targets": [8, 1, 1]},
}


def arm_trial(arm: str, batch: int, step: int, seed: int, rng: np.random.Generator):
    """A trial of one arm whose figures follow the claims: faster and hungrier with batch, slower with step."""
    noise = float(rng.lognormal(0, 0.02))
    samples = TRAIN_ROWS - step  # N - T - h + 1 with h = 1
    return make_trial(batch, step, 32, design_arms=[arm], train_seed=seed, stateful=False,
                      samples_per_s=100.0 * batch * 16 / step * noise, train_targets=samples,
                      train_samples_per_epoch=samples, iterations_per_epoch=math.ceil(samples / batch),
                      val_loss_best=(0.6 if batch <= 8 else 0.4) * step ** -0.1 * noise,
                      train_loss_final=(0.5 if batch <= 8 else 0.3) * noise,
                      grad_norm_mean=2.0 * batch ** -0.3 * noise, grad_norm_max=step ** 0.5 * noise)


def claims_report():
    """A claims study's report: a batch arm and a time_step arm over two seeds, the other arms pending."""
    rng = np.random.default_rng(0)
    trials = [arm_trial("batch", b, 16, seed, rng) for b in BATCHES for seed in (0, 1)]
    trials += [arm_trial("time_step", 8, t, seed, rng) for t in STEPS for seed in (0, 1)]
    study = make_study(trials)
    study.set_user_attr(DESIGN_ATTR, DESIGN)
    loaded = load_from_study(study)
    return build_report("known", "memory", {}, loaded.frame, curves=loaded.curves,
                        distributions=loaded.distributions, ranges=loaded.ranges, study_attrs=study.user_attrs)


@pytest.fixture(scope="module")
def report():
    return claims_report()


def test_the_page_has_one_small_chart_per_decided_claim_under_the_claims_table(report):
    page = render_html(outline(report))
    decided = [c.code for c in report.claims if c.verdict in DECIDED]
    assert len(decided) >= 10  # the study decides most claims, so the count below says something
    charts = [(div, data, layout) for div, data, layout in page_figures(page) if div.startswith("chart-claim_")]
    assert [div.split("_")[1].rsplit("-", 1)[0] for div, _, _ in charts] == decided
    table, first_chart = page.index("Claims C1..C14"), page.index('id="chart-claim_')
    assert table < first_chart < page.index("<h2>What to run")


def test_a_claim_chart_shows_the_figure_against_its_setting_and_the_interval_behind_the_verdict(report):
    page = render_html(outline(report))
    claim = next(c for c in report.claims if c.code == "C5")
    effect = claim.parts[0].effect
    assert claim.verdict == "holds" and effect is not None
    _, data, layout = next(f for f in page_figures(page) if f[0].startswith("chart-claim_C5-"))
    measured = [t for t in data if t.get("xaxis", "x") == "x"]
    assert list(array(measured[0]["x"])) == list(BATCHES)  # samples/s at every batch size of the arm
    assert layout["xaxis"]["title"]["text"] == "batch_size" and layout["yaxis"]["title"]["text"] == "samples_per_s"
    factor = next(t for t in data if t.get("xaxis") == "x2" and t["name"].startswith("1:"))
    y = array(factor["y"])[0]
    low, high = y - array(factor["error_y"]["arrayminus"])[0], y + array(factor["error_y"]["array"])[0]
    assert (low, y, high) == pytest.approx((effect.low, effect.factor, effect.high))
    assert any(t["name"] == "no effect (×1)" for t in data)


def test_a_checked_claim_shows_the_recorded_count_beside_the_claims_formula(report):
    chart = next(c for c in report_charts(report) if c.key == "claim_C2")
    (panel,) = chart.panels
    recorded, expected = panel.series
    assert recorded.x == expected.x == STEPS and recorded.y == expected.y == tuple(float(TRAIN_ROWS - t) for t in STEPS)


def test_claim_charts_are_drawn_as_pngs_too_with_the_same_series(report):
    chart = next(c for c in report_charts(report) if c.key == "claim_C6")
    png = png_figure(chart)
    axes = [a for a in png.axes if a.get_label() != "<colorbar>"]
    names = [sorted(a.get_label() for a in [*ax.lines, *ax.collections] if not a.get_label().startswith("_"))
             for ax in axes]
    assert names == [sorted(s.name for s in p.series) for p in chart.panels]
    assert [ax.get_title() for ax in axes] == ["measured", "effect"] and all(ax.get_legend() for ax in axes)
