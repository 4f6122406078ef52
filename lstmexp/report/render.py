"""Render a report outline for people (terminal, Markdown, HTML) and programs (CSV, JSON).

Figures are formatted only at rendering; the Report keeps raw numbers (bytes, seconds, samples/s).
What is shown comes from the Outline (`outline.outline`), built once and the same for every format.
"""

from __future__ import annotations

import html
import io
import re

import pandas as pd

from lstmexp.report.answer import answer_lines
from lstmexp.report.html import render_html
from lstmexp.report.jsondoc import render_json
from lstmexp.report.outline import Outline
from lstmexp.report.people import for_people
from lstmexp.report.sections import Section
from lstmexp.report.terminal import render_terminal
from lstmexp.vocabulary.choices import REPORT_FORMATS

FORMATS = REPORT_FORMATS

__all__ = ["FORMATS", "render", "render_csv", "render_markdown", "section_csv"]


def render(shape: Outline, fmt: str, images: dict[str, bytes] | None = None, detail: bool = True) -> str:
    """The outline in format `fmt` (one of choices.REPORT_FORMATS); `images` are embedded in HTML;
    `detail` False: the terminal's brief report (the other formats always hold everything)."""
    if fmt == "markdown":
        return render_markdown(shape)
    if fmt == "html":
        return render_html(shape, images)
    if fmt == "csv":
        return render_csv(shape)
    if fmt == "json":
        return render_json(shape)
    if fmt == "table":
        return render_terminal(shape, detail)
    raise ValueError(f"unknown report format {fmt!r}; use one of {', '.join(FORMATS)}")


def fenced(lines: list[str]) -> list[str]:
    """A code block whose fence is longer than any backtick run inside it, so every line stays literal."""
    fence = "`" * max(3, 1 + max((len(run) for line in lines for run in BACKTICKS.findall(line)), default=0))
    return [fence, *lines, fence]


def render_markdown(shape: Outline, image_paths: dict[str, str] | None = None) -> str:
    """Markdown with every text escaped: study names and values from any Optuna client are user strings."""
    out = [f"# {md(shape.title)}", ""]
    out += [f"- {md(line)}" for line in shape.lines]
    for section in shape.lead:  # the report opens with one row per claim
        out += section_markdown(section)
    for study, answer in shape.answers:  # then the answer: what to run
        prefix = f" ({md(study)})" if len(shape.answers) > 1 else ""
        out += ["", f"## Answer{prefix}", "", *fenced(answer_lines(answer))]
    for section in shape.sections:
        out += section_markdown(section)
    if image_paths:
        out += ["", "## Plots", ""]
        out += [f"![{md(name)}]({path})" for name, path in image_paths.items()]
    return "\n".join(out) + "\n"


# Markdown passes HTML through and reads [..](..) as links, ` as code and | as a table cell's end.
# A bracket alone is no link (the report's own "[study] samples/s" columns keep theirs): `](` is.
MD_SPECIAL = re.compile(r"([\\`|]|\](?=\())")
BACKTICKS = re.compile(r"`+")


def section_markdown(section: Section) -> list[str]:
    out = ["", f"## {md(section.title)}", ""]
    if section.read:
        out += [md(section.read[0].upper() + section.read[1:] + "."), ""]
    if section.caption:
        out += [f"_{md(section.caption)}_", ""]
    out.append(md_table(for_people(section.frame)) if not section.frame.empty else "_no rows_")
    if section.lines:
        out += ["", *fenced(section.lines)]
    return out


def md(text: object) -> str:
    """A user string as inert Markdown: HTML escaped; link, code and table syntax backslashed."""
    return MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))


def md_table(frame: pd.DataFrame) -> str:
    text_columns = [c for c in frame.columns if frame[c].dtype == object]
    escaped = frame.assign(**{c: frame[c].map(lambda v: v if v is None else md(v)) for c in text_columns})
    escaped.columns = [md(c) for c in frame.columns]
    return escaped.to_markdown(index=False)


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
