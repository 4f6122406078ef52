"""report/html.py: answer first, tables collapsed, interactive charts that work offline, every user string escaped."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest

from lstmexp.report.build import build_report
from lstmexp.report.html import render_html
from lstmexp.report.load import load_from_study
from lstmexp.report.outline import Outline, outline
from lstmexp.report.sections import Section
from tests.report_studies import grid_trials, make_study, make_trial

EVIL = "<script>alert(1)</script>&"


def hostile_outline() -> Outline:
    frame = pd.DataFrame({f"{EVIL} col": [EVIL], "batch_size": [16]})
    section = Section("k", f"title {EVIL}", frame, caption=f"caption {EVIL}", lines=[f"line {EVIL}"],
                      read=f"read {EVIL}")
    return Outline(f"lstmexp report: {EVIL}", [f"summary {EVIL}"], [section, Section("e", "empty", pd.DataFrame())], [])


def test_every_user_string_is_escaped():
    page = render_html(hostile_outline())
    assert "<script>" not in page
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&amp;"
    for where in (f"<title>lstmexp report: {escaped}</title>", f"<li>summary {escaped}</li>",
                  f"<summary>title {escaped}</summary>", f"<em>caption {escaped}</em>", f"line {escaped}",
                  f"<th>{escaped} col</th>", f"<td>{escaped}</td>", f"Read {escaped}."):
        assert where in page, where


def test_images_are_embedded_and_their_names_escaped():
    png = b"\x89PNG\r\n\x1a\nfake"
    page = render_html(hostile_outline(), {f'"{EVIL}': png})
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    assert 'alt="&quot;&lt;script&gt;' in page
    assert "src=\"http" not in page and "<link" not in page


@pytest.fixture(scope="module")
def page():
    trials = grid_trials(lambda b, t, h: 100 * b / t)
    trials.append(make_trial(32, 8, 16, samples_per_s=5.0, contended=True, contention_reason="load 3 on 2 cores"))
    loaded = load_from_study(make_study(trials))
    report = build_report("known", "memory", {}, loaded.frame, curves=loaded.curves,
                          distributions=loaded.distributions, ranges=loaded.ranges)
    return render_html(outline(report))


def test_the_page_opens_with_the_claims_then_the_answer_then_charts_then_collapsed_tables(page):
    """One row per claim (open), recommendations + command, trade-off charts; tables after, collapsed."""
    order = [page.index(marker) for marker in (
        "<details open><summary>Claims of the source documents", "<td>C5</td>", "<h2>What to run",
        "lstmexp run --batch-size",
        "Accuracy vs speed vs memory", "Speed and memory against batch_size", "Speed and memory against time_step",
        "<h2>Tables", "<details><summary>Configurations ranked",
    )]
    assert order == sorted(order)
    tables = page[page.index("<h2>Tables"):]
    # every table sits in its own collapsed <details>, after a sentence saying what to read from it
    blocks = tables.split("<details>")[1:]
    assert blocks and all("<table" not in b or '<p class="read">' in b.split("<table")[0] for b in blocks)
    assert sum(b.count("<table") for b in blocks) == tables.count("<table") == len(
        [b for b in blocks if "<table" in b])
    answer = page[page.index("<h2>What to run"): page.index("<h2>Tables")]
    assert "<table" not in answer  # nothing tabular between the claims table and the tables


def test_charts_are_interactive_offline_and_plotly_js_is_inline_once(page):
    assert page.count("Plotly.newPlot") >= 4  # three answer charts + heatmap (+ learning curves)
    assert len(re.findall(r"<script[^>]+src=", page)) == 0  # nothing fetched: the page works offline
    assert page.count("plotly.js v") == 1  # the library's banner: embedded once
    assert "trial 1" in page and "batch_size=" in page  # hover text names trial and configuration
    assert "contended (speed unreliable)" in page  # contended trials drawn apart
    assert "hidden_size=16 held fixed" in page  # line plots say what they hold fixed
    assert '"texttemplate":"%{z:.4g}"' in page  # heatmap cells carry their numbers (4 significant figures)
    assert '"text":["#' in page  # Pareto points labelled with their trial number
