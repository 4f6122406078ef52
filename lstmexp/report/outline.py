"""The outline of what every format renders: a title, summary lines and the sections, built once.

`report.run` builds one Outline per `lstmexp report` and hands it to each renderer (terminal,
Markdown, HTML, CSV, JSON, files), so no renderer decides content or rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lstmexp.report.answer import Answer, answer_of
from lstmexp.report.build import Report
from lstmexp.report.claims_section import claim_part_sections, lead_sections
from lstmexp.report.compare import Comparison, claims_side_by_side, comparison_sections
from lstmexp.report.sections import Section, report_sections, summary_lines


@dataclass
class Outline:
    """What every format renders: a title, summary lines, the answer first, sections, and the reports behind them."""

    title: str
    lines: list[str]
    sections: list[Section]
    reports: list[Report]
    answers: list[tuple[str, Answer]] = field(default_factory=list)  # (study, its answer), shown first
    lead: list[Section] = field(default_factory=list)  # shown first: one row per claim


def outline(document: Report | Comparison) -> Outline:
    """The outline of one study's report, or of several studies side by side."""
    if isinstance(document, Report):
        sections = report_sections(document)
        at = next((i for i, s in enumerate(sections) if s.key == "trials"), len(sections))  # before all trials
        sections[at:at] = [s for s in claim_part_sections(document) if not s.frame.empty or s.lines]
        return Outline(f"lstmexp report: {document.study}", summary_lines(document), sections,
                       [document], [(document.study, answer_of(document))], lead_sections(document))
    if isinstance(document, Comparison):
        names = " vs ".join(r.study for r in document.reports)
        lines = [f"[{r.study}] {line}" for r in document.reports for line in summary_lines(r)]
        return Outline(f"lstmexp comparison: {names}", lines, comparison_sections(document), document.reports,
                       [(r.study, answer_of(r)) for r in document.reports], [claims_side_by_side(document.reports)])
    raise TypeError(f"cannot outline a {type(document).__name__}")
