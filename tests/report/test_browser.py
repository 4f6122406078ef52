"""The HTML report in a real browser: headless Chromium opens report.html offline.

The charts' own description (the plotly JSON in the page) is read too, so every chart is checked
against its caption: the colour scale's direction, the best cell marked, Pareto points labelled
whatever the contention flags, a legend for every panel, one colour per trial, readable log axes.

Checks: no console message at all (a JS error or warning logs one), every chart drawn (plotly
puts a `plot-container` in each chart's div once its script ran), every image an embedded data
URI, and a screenshot that is not blank. Skipped with the reason where Chromium is missing,
except under CI=true, where `.ci/run` installs Debian's `chromium` and a missing browser fails
(unless `.ci/run` could not reach the package archive: it says so in LSTMEXP_BROWSER_SKIP).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lstmexp.report.html import render_html
from lstmexp.report.outline import outline
from lstmexp.report.run import report_study
from tests.report.plotly_json import array, page_figures
from tests.report.test_claim_charts import claims_report
from tests.report_studies import grid_trials, make_study, make_trial

BROWSERS = ("chromium", "chromium-browser")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--window-size=1280,2400")
CONSOLE = re.compile(r"CONSOLE[^\]]*\]\s*(.*)")


def browser() -> str:
    found = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    if found is None:
        reason = os.environ.get("LSTMEXP_BROWSER_SKIP")  # set by .ci/run when apt could not install it
        if reason:
            pytest.skip(reason)
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing under CI: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium not installed (Debian: apt-get install chromium); the browser test needs it")
    return found


def run_browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{folder}/b.db"
    trials = grid_trials(lambda b, t, h: 100 * b / t, per_cell=1)
    trials.append(make_trial(64, 8, 16, samples_per_s=3.0, contended=True, contention_reason="load 3 on 2 cores"))
    make_study(trials, storage=url)
    report_study(url, [], "html", folder / "out")
    return folder / "out" / "report.html"


def test_the_report_opens_in_chromium_without_console_errors_and_draws_every_chart(page, tmp_path):
    binary = browser()
    done = run_browser(binary, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    messages = CONSOLE.findall(done.stderr)
    assert not messages, messages
    source = page.read_text()
    charts = source.count("Plotly.newPlot")
    assert charts == 6  # 3 trade-off charts, heatmap, learning curves, gradient norm against time_step
    dom = done.stdout
    assert dom.count('class="plot-container') == charts  # every chart's script ran and drew it
    assert dom.count('class="main-svg"') >= charts
    images = re.findall(r"<img[^>]*src=\"([^\"]*)\"", dom)
    assert all(src.startswith("data:") for src in images), images  # nothing fetched: works offline


def test_a_claims_study_page_draws_its_small_claim_charts_without_console_errors(tmp_path):
    binary = browser()
    page = tmp_path / "claims.html"
    page.write_text(render_html(outline(claims_report())))
    done = run_browser(binary, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    assert not CONSOLE.findall(done.stderr)
    small = page.read_text().count('id="chart-claim_')
    assert small >= 10 and done.stdout.count('class="plot-container') == page.read_text().count("Plotly.newPlot")


def test_the_screenshot_is_not_blank(page, tmp_path):
    from PIL import Image

    binary = browser()
    shot = tmp_path / "shot.png"
    done = run_browser(binary, tmp_path / "profile", f"--screenshot={shot}", page.as_uri())
    assert shot.is_file(), done.stderr[-2000:]
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50  # text and charts: many colours (None: more than 65,536)


def plotly_figures(source: str) -> dict[str, dict]:
    """Every chart of the page as plotly JSON ({"data": [...], "layout": {...}}), by its y-axis title."""
    return {json.dumps(layout.get("yaxis", {}).get("title", {}).get("text", "")): {"data": data, "layout": layout}
            for _, data, layout in page_figures(source)}


def luminance(colour: str) -> float:
    if colour.startswith("#"):
        red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    else:
        red, green, blue = (float(v) for v in re.findall(r"[\d.]+", colour)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def by_title(figures: dict[str, dict], words: str) -> dict:
    return next(f for title, f in figures.items() if words in title)


def test_the_heatmap_marks_the_best_cell_and_its_caption_names_the_colour_that_is_best(page):
    source = page.read_text()
    heatmap = by_title(plotly_figures(source), "batch_size")
    cells = next(t for t in heatmap["data"] if t["type"] == "heatmap")
    scale = cells["colorscale"]
    low_end, high_end = (scale[-1], scale[0]) if cells.get("reversescale") else (scale[0], scale[-1])
    darker_is_lower = luminance(low_end[1]) < luminance(high_end[1])
    assert "dark is accurate" in source and darker_is_lower  # the lowest loss (the best) is the darkest
    z = array(cells["z"])
    best = np.unravel_index(np.nanargmin(z), z.shape)
    frame = next(t for t in heatmap["data"] if t.get("name", "").startswith("best"))
    assert (frame["y"][0], frame["x"][0]) == (cells["y"][best[0]], cells["x"][best[1]])
    assert frame["marker"]["symbol"].endswith("-open") and not frame.get("text")  # the cell's number shows


def test_every_panel_has_a_legend_and_each_trial_one_colour(page):
    figures = plotly_figures(page.read_text())
    panels = [f for f in figures.values() if "xaxis2" in f["layout"]]
    assert panels
    for figure in panels:
        legends = {t.get("legend", "legend") for t in figure["data"] if t.get("showlegend", True)}
        assert legends == {"legend", "legend2"} and "legend2" in figure["layout"]
    curves = by_title(figures, "loss (scaled units")
    colours: dict[str, set[str]] = {}
    for trace in curves["data"]:
        colours.setdefault(trace["legendgroup"], set()).add(trace["line"]["color"])
    assert colours and all(len(c) == 1 for c in colours.values())  # val and train of a trial: one colour
    assert len({next(iter(c)) for c in colours.values()}) == len(colours)  # and trials apart
    axis = curves["layout"]["yaxis"]
    assert axis["type"] == "log" and axis["ticktext"] and len(set(axis["ticktext"])) == len(axis["ticktext"])
    assert all(float(label.replace(",", "")) == pytest.approx(v) for label, v in zip(axis["ticktext"],
                                                                                  axis["tickvals"], strict=True))


def test_the_pareto_front_is_labelled_and_coloured_even_when_every_trial_is_contended(tmp_path):
    url = f"sqlite:///{tmp_path}/busy.db"
    trials = grid_trials(lambda b, t, h: 100 * b / t, per_cell=1, contended=True, contention_reason="load 3")
    make_study(trials, storage=url)
    report_study(url, [], "html", tmp_path / "out")
    source = (tmp_path / "out" / "report.html").read_text()
    tradeoff = by_title(plotly_figures(source), "best val loss")
    points = next(t for t in tradeoff["data"] if t["name"].startswith("trials"))
    assert "colorbar" in points["marker"] and len(array(points["x"])) == len(trials)
    front = next(t for t in tradeoff["data"] if t["name"].startswith("Pareto front"))
    assert front["text"] and all(label.startswith("#") for label in front["text"])
    assert any(t["name"].startswith("contended") for t in tradeoff["data"])  # flagged, not dropped
