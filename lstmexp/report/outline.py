"""The outline of what every format renders: a title, summary lines and the sections, built once.

`report.run` builds one Outline per `lstmexp report` and hands it to each renderer (terminal,
Markdown, HTML, CSV, JSON, files), so no renderer decides content or rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lstmexp.report.answer import Answer, answer_of
from lstmexp.report.build import Report
from lstmexp.report.compare import Comparison, comparison_sections
from lstmexp.report.sections import Section, report_sections, summary_lines


@dataclass
class Outline:
    """What every format renders: a title, summary lines, the answer first, sections, and the reports behind them."""

    title: str
    lines: list[str]
    sections: list[Section]
    reports: list[Report]
    answers: list[tuple[str, Answer]] = field(default_factory=list)  # (study, its answer), shown first
    lead: list[Section] = field(default_factory=list)  # shown before the answer: a claims study's claims table


def outline(document: Report | Comparison) -> Outline:
    """The outline of one study's report, or of several studies side by side."""
    if isinstance(document, Report):
        from lstmexp.report.claims_section import lead_sections

        return Outline(f"lstmexp report: {document.study}", summary_lines(document), report_sections(document),
                       [document], [(document.study, answer_of(document))], lead_sections(document))
    if isinstance(document, Comparison):
        names = " vs ".join(r.study for r in document.reports)
        lines = [f"[{r.study}] {line}" for r in document.reports for line in summary_lines(r)]
        return Outline(f"lstmexp comparison: {names}", lines, comparison_sections(document), document.reports,
                       [(r.study, answer_of(r)) for r in document.reports])
    raise TypeError(f"cannot outline a {type(document).__name__}")
