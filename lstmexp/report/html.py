"""A self-contained HTML report, answer first: one file that works offline, every user string escaped.

Order: one row per claim (open) with a small chart per decided claim under it; banners, the
recommended configurations with their reproduce commands and warnings, the trade-off charts; then
every table collapsed (`<details>`) with a sentence saying what to read from it; then the other
charts. Charts are the report's chart definitions (`charts.py`, `claim_charts.py`) drawn with plotly
(`figures.py`; interactive: hover shows the trial, its configuration and figures), with plotly.js
included inline once, so the page needs no network. PNG images passed in are embedded as base64.

Study names, column names, cell values and captions all pass through `html.escape` (tables through
pandas' `to_html(escape=True)`), so a study called `<script>` shows as text.
"""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

from lstmexp.report.answer import Answer
from lstmexp.report.outline import Outline
from lstmexp.report.people import for_people
from lstmexp.report.sections import Section

if TYPE_CHECKING:
    from lstmexp.report.chart import Chart

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em;max-width:80em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:.9em}
th,td{border:1px solid #ccc;padding:.2em .5em;text-align:right}
th{background:#f3f3f3} caption{caption-side:bottom;text-align:left;color:#555;font-size:.85em}
pre{background:#f6f6f6;padding:.5em;overflow-x:auto;white-space:pre-wrap} img{max-width:100%}
.pick{border-left:4px solid #2a7;padding:.2em 1em;margin:1em 0} .warn{color:#a30;font-weight:600}
.banner{background:#fde8e0;border:1px solid #e99;padding:.6em 1em;font-weight:600}
details{margin:.6em 0} summary{font-size:1.15em;font-weight:600;cursor:pointer} .read{color:#444}
.chart{margin:1em 0 2em} .claims-charts{display:flex;flex-wrap:wrap;gap:0 1.5em}
.chart.small{flex:0 0 auto} .chart.small h3{font-size:1em} .chart.small .read{font-size:.85em}
"""


def escape(text: str) -> str:
    return html.escape(text, quote=True)


def answer_html(study: str, answer: Answer, several: bool) -> list[str]:
    suffix = f" ({escape(study)})" if several else ""
    body = [f'<div class="banner">{escape(b)}</div>' for b in (*answer.banners, *answer.constraints)]
    body.append(f"<h2>What to run{suffix}</h2>")
    for pick in answer.picks:
        body.append(f'<div class="pick"><h3>{escape(pick.goal)}: {escape(pick.setting)}</h3>')
        if pick.figures:
            body.append(f"<p>{escape(pick.figures)}</p>")
        body.append(f"<p>why: {escape(pick.why)}</p>")
        body += [f'<p class="warn">warning: {escape(w)}</p>' for w in pick.warnings]
        if pick.command:
            body.append(f"<pre>{escape(pick.command)}</pre>")
        body.append("</div>")
    return body


def section_html(section: Section) -> list[str]:
    """One table, collapsed, with the sentence that says what to read from it."""
    body = [f"<details><summary>{escape(section.title)}</summary>"]
    if section.read:
        body.append(f'<p class="read">{escape(section.read[0].upper() + section.read[1:])}.</p>')
    if section.caption:
        body.append(f"<p><em>{escape(section.caption)}</em></p>")
    if not section.frame.empty:
        body.append(for_people(section.frame).to_html(index=False, escape=True, border=0))
    if section.lines:
        body.append("<pre>" + escape("\n".join(section.lines)) + "</pre>")
    body.append("</details>")
    return body


class ChartWriter:
    """Embeds plotly charts (`figures.chart_html`): plotly.js inline with the first one only."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, chart: Chart) -> list[str]:
        from lstmexp.report.figures import chart_html, small_width

        snippet = chart_html(chart, f"chart-{chart.key}-{self.count}", include_plotlyjs=self.count == 0)
        self.count += 1
        opening = f'<div class="chart small" style="width:{small_width(chart)}px">' if chart.small else \
            '<div class="chart">'
        return [f"{opening}<h3>{escape(chart.title)}</h3>",
                f'<p class="read">{escape(chart.caption)}</p>', snippet, "</div>"]


def lead_html(shape: Outline, writer: ChartWriter, interactive: bool) -> list[str]:
    """A claims study's table of one row per claim, shown open, and a small chart per decided claim under it."""
    from lstmexp.report.claim_charts import claim_charts

    body = []
    for section in shape.lead:
        body += [line.replace("<details>", "<details open>", 1) for line in section_html(section)]
    small = [c for r in shape.reports for c in claim_charts(r)] if interactive else []
    if small:
        body.append('<div class="claims-charts">')
        for chart in small:
            body += writer.write(chart)
        body.append("</div>")
    return body


def render_html(shape: Outline, images: dict[str, bytes] | None = None, interactive: bool = True) -> str:
    from lstmexp.report.charts import ANSWER_CHARTS, MORE_CHARTS, charts

    title = escape(shape.title)
    body = [f"<h1>{title}</h1>", "<ul>", *[f"<li>{escape(line)}</li>" for line in shape.lines], "</ul>"]
    writer = ChartWriter()
    several = len(shape.answers) > 1
    body += lead_html(shape, writer, interactive)
    for study, answer in shape.answers:
        body += answer_html(study, answer, several)
    if interactive:
        for report in shape.reports:
            for chart in charts(report, ANSWER_CHARTS):
                body += writer.write(chart)
    body.append("<h2>Tables</h2>")
    for section in shape.sections:
        body += section_html(section)
    more = [c for r in shape.reports for c in charts(r, MORE_CHARTS)] if interactive else []
    if more or images:
        body.append("<h2>More plots</h2>")
    for chart in more:
        body += writer.write(chart)
    for name, data in (images or {}).items():
        encoded = base64.b64encode(data).decode("ascii")
        body.append(f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{encoded}">'
                    f"<figcaption>{escape(name)}</figcaption></figure>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
