"""report/render.py, terminal.py, people.py and outline.py on a built report (no CLI, no training)."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

import lstmexp.report.outline as outline_module
from lstmexp.report.build import build_report
from lstmexp.report.compare import compare
from lstmexp.report.load import load_from_study
from lstmexp.report.outline import Outline, outline
from lstmexp.report.people import for_people, format_cell, format_number, people_frame
from lstmexp.report.render import render
from lstmexp.report.run import report_study
from lstmexp.report.terminal import TERMINAL_WIDTH, terminal_view
from lstmexp.units import MIB
from lstmexp.vocabulary.choices import REPORT_FORMATS
from tests.report_studies import grid_trials, make_study


@pytest.fixture(scope="module")
def report():
    frame = load_from_study(make_study(grid_trials(lambda b, t, h: 100 * b / t))).frame
    return build_report("known", "memory", {"cpu_model": "test cpu"}, frame, importance=False)


def test_every_listed_format_renders(report):
    shape = outline(report)
    for fmt in REPORT_FORMATS:
        assert render(shape, fmt).strip(), fmt
    with pytest.raises(ValueError, match="use one of table, markdown, html, csv, json"):
        render(shape, "pdf")


def test_terminal_lines_fit_the_width_and_leave_detail_sections_out(report):
    shape = outline(report)
    text = render(shape, "table")
    assert max(len(line) for line in text.splitlines()) <= TERMINAL_WIDTH
    details = [s.title for s in shape.sections if s.detail]
    assert details and not any(title in text for title in details)
    assert all(s.title in render(shape, "markdown") for s in shape.sections)


def test_json_and_csv_keep_raw_figures(report):
    shape = outline(report)
    document = json.loads(render(shape, "json"))
    assert document["trials"][0]["peak_mem_bytes"] == report.all_trials["peak_mem_bytes"].iloc[0]
    assert render(shape, "csv").splitlines()[0].startswith("number,state,batch_size")


def test_people_see_mib_a_spread_in_percent_and_short_headers():
    frame = pd.DataFrame({"batch_size": [16], "peak_mem_bytes": [3 * MIB], "peak_mem_bytes_iqr": [MIB * 0.3],
                          "samples_per_s": [1234.5678]})
    shown = for_people(frame)
    assert list(shown.columns) == ["batch", "mem MiB", "samples/s"]
    assert shown.iloc[0].tolist() == ["16", "3 ±10%", "1,235"]
    assert format_cell(float("nan")) == "" and format_cell((2.0, None)) == "2"
    single = people_frame(pd.DataFrame({"m": [0.0], "m_iqr": [1.0]}))
    assert single["m"].iloc[0] == (0.0, None, 4)  # no percentage of a zero median


def test_speed_carries_the_significant_figures_its_spread_allows():
    """No 1.384e+04 next to 3484; a ±10% speed shows 2 figures, a ±1% one 3."""
    frame = pd.DataFrame({"samples_per_s": [13843.7, 3484.2, 12.345], "samples_per_s_spread": [0.12, 0.01, None],
                          "val_loss_best": [0.012345, 1.5e-5, 2.0]})
    shown = for_people(frame)
    assert shown["samples/s"].tolist() == ["14,000 ±12%", "3,480 ±1%", "12.35"]
    assert shown["val loss"].tolist() == ["0.01235", "0.000015", "2"]
    assert not shown.apply(lambda column: column.str.contains("e[+-]", regex=True)).any().any()
    assert format_number(1234567.891) == "1,235,000" and format_number(0.5) == "0.5"
    assert format_cell(True) == "yes" and format_cell(12345) == "12,345"


def test_terminal_hides_a_state_all_rows_share_but_keeps_a_mixed_one():
    same = pd.DataFrame({"state": ["complete", "complete"], "test_mse": [1, 2], "x": [1, 2]})
    assert list(terminal_view(same).columns) == ["x"]
    mixed = same.assign(state=["complete", "pruned"])
    assert list(terminal_view(mixed).columns) == ["state", "x"]


def test_a_comparison_outline_prefixes_each_study(report):
    other = build_report("other", "memory", {}, report.trials, importance=False)
    shape = outline(compare([report, other]))
    assert shape.title == "lstmexp comparison: known vs other"
    assert any(line.startswith("[other] study other") for line in shape.lines)
    assert shape.reports == [report, other]
    with pytest.raises(TypeError, match="cannot outline a str"):
        outline("known")  # type: ignore[arg-type]


def test_report_study_builds_the_outline_once_for_every_output(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/r.db"
    make_study(grid_trials(lambda b, t, h: 100 * b / t), storage=url)
    built: list[Outline] = []

    def counting(document):
        built.append(outline(document))
        return built[-1]

    monkeypatch.setattr(outline_module, "outline", counting)
    text = report_study(url, [], "markdown", tmp_path / "out")
    assert len(built) == 1
    assert text.startswith("# lstmexp report: known")
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("<details><summary>") == len(built[0].sections)  # every section, once, collapsed


def test_the_default_terminal_report_fits_two_screens_and_says_each_claim_once(report):
    shape = outline(report)
    brief = render(shape, "table", detail=False)
    lines = brief.splitlines()
    assert len(lines) <= 80 and max(len(line) for line in lines) <= TERMINAL_WIDTH
    assert "Trade-offs by batch_size" not in brief and "more: --detail" in brief
    assert "Trade-offs by batch_size" in render(shape, "table", detail=True)
    for claim in report.claims:
        said = [line for line in lines if re.match(rf"{claim.code}\b", line)]
        assert len(said) == 1, claim.code  # one row, no sentence or footnote repeating it
        if claim.verdict == "not enough data":
            assert re.match(rf"{claim.code} +not testable +why: ", said[0])  # the one wording, with its reason


def test_terminal_tables_never_break_a_number_or_a_word():
    from rich.console import Console

    from lstmexp.report.terminal import section_table

    frame = pd.DataFrame({"goal": ["fastest within 10% of the best loss", "most accurate"],
                          "note": ["incomparably", "ok"], **{f"figure_{i}": [123456.789, 0.001234] for i in range(8)}})
    console = Console(width=TERMINAL_WIDTH, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(section_table(frame))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= TERMINAL_WIDTH
    shown = [f"figure_{i}" for i in range(8) if f"figure_{i}" in text.splitlines()[0]]
    assert 0 < len(shown) < 8 and "not shown at 100 columns: figure_" in text  # folded, and said so
    assert text.count("123,500") == len(shown) and text.count("0.001234") == len(shown)  # numbers whole
    words = {word for line in text.splitlines() for word in line.split()}
    assert {"fastest", "within", "best", "loss", "accurate"} <= words  # wrapped at spaces, never inside a word


def test_every_format_says_each_claim_once_in_one_wording(report):
    """One row per claim in the terminal, Markdown and HTML, with the same verdict and effect words;
    the verdict words of the sentences and footnotes of before ('has not enough data', 'is not testable
    here') are gone, and the part-by-part table never restates a claim's verdict."""
    from lstmexp.report.claims_section import effect_text, verdict_text
    from lstmexp.report.html import render_html

    shape = outline(report)
    texts = {"brief": render(shape, "table", detail=False), "detail": render(shape, "table"),
             "markdown": render(shape, "markdown"), "html": render_html(shape, interactive=False)}
    assert {c.verdict for c in report.claims} >= {"holds", "not enough data"}  # both kinds are in the fixture
    for name, text in texts.items():
        for old in ("not enough data", "is not testable here", "has not enough data", "not testable here"):
            assert old not in text, (name, old)
    lead = texts["markdown"].split("## Answer")[0]
    for claim in report.claims:
        rows = [line for line in lead.splitlines() if line.startswith(f"| {claim.code} ")]
        assert len(rows) == 1, claim.code
        cells = [c.strip() for c in rows[0].split("|")[1:-1]]
        assert cells[1:3] == [verdict_text(claim), effect_text(claim).replace("|", "\\|")], claim.code
        assert texts["markdown"].count(f"| {claim.code} ") <= 2  # the lead row, and its first part's row
    c5 = next(c for c in report.claims if c.code == "C5")
    assert all(effect_text(c5) in text for text in texts.values())  # the same effect words in every format


def test_a_spread_under_one_percent_is_shown_not_rounded_to_zero():
    frame = pd.DataFrame({"samples_per_s": [1000.0, 1000.0, 1000.0], "samples_per_s_iqr": [3.0, 0.0, 40.0]})
    shown = for_people(frame)["samples/s"].tolist()
    assert shown == ["1,000 ±0.3%", "1,000", "1,000 ±4%"]  # a spread of 0 is none, never '±0%'
