"""Render a report outline for people (terminal, Markdown, HTML) and programs (CSV, JSON).

Figures are formatted only at rendering; the Report keeps raw numbers (bytes, seconds, samples/s).
What is shown comes from the Outline (`outline.outline`), built once and the same for every format.
"""

from __future__ import annotations

import io

import pandas as pd

from lstmexp.choices import REPORT_FORMATS
from lstmexp.report.answer import answer_lines
from lstmexp.report.html import render_html
from lstmexp.report.jsondoc import render_json
from lstmexp.report.outline import Outline
from lstmexp.report.people import for_people
from lstmexp.report.sections import Section
from lstmexp.report.terminal import render_terminal

FORMATS = REPORT_FORMATS

__all__ = ["FORMATS", "render", "render_csv", "render_markdown", "section_csv"]


def render(shape: Outline, fmt: str, images: dict[str, bytes] | None = None) -> str:
    """The outline in format `fmt` (one of choices.REPORT_FORMATS); `images` are embedded in HTML."""
    if fmt == "markdown":
        return render_markdown(shape)
    if fmt == "html":
        return render_html(shape, images)
    if fmt == "csv":
        return render_csv(shape)
    if fmt == "json":
        return render_json(shape)
    if fmt == "table":
        return render_terminal(shape)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def render_markdown(shape: Outline, image_paths: dict[str, str] | None = None) -> str:
    out = [f"# {shape.title}", ""]
    out += [f"- {line}" for line in shape.lines]
    for study, answer in shape.answers:  # the answer first: what to run, what the claims say
        prefix = f" ({study})" if len(shape.answers) > 1 else ""
        out += ["", f"## Answer{prefix}", "", "```", *answer_lines(answer), "```", "", f"## Claims{prefix}", ""]
        out += [f"- {sentence}" for sentence in [answer.claims_note, *answer.verdicts] if sentence]
    for section in shape.sections:
        out += ["", f"## {section.title}", ""]
        if section.read:
            out += [section.read[0].upper() + section.read[1:] + ".", ""]
        if section.caption:
            out += [f"_{section.caption}_", ""]
        out.append(for_people(section.frame).to_markdown(index=False) if not section.frame.empty else "_no rows_")
        if section.lines:
            out += ["", "```", *section.lines, "```"]
    if image_paths:
        out += ["", "## Plots", ""]
        out += [f"![{name}]({path})" for name, path in image_paths.items()]
    return "\n".join(out) + "\n"


def render_csv(shape: Outline) -> str:
    """The trials table (for a comparison: every study's, with a `study` column)."""
    reports = shape.reports
    frame = reports[0].trials if len(reports) == 1 else pd.concat(
        [r.trials.assign(study=r.study) for r in reports], ignore_index=True
    )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False)
    return buffer.getvalue()


def section_csv(section: Section) -> str:
    buffer = io.StringIO()
    section.frame.to_csv(buffer, index=False)
    return buffer.getvalue()
