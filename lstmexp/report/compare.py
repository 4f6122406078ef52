"""Several studies side by side (e.g. the same space on CPU and on GPU, or stateless vs stateful).

Trade-offs are joined on the value of each searched parameter, one column per study and figure;
claims and recommendations are listed per study. Each study keeps its own populations and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lstmexp.report.build import Report
from lstmexp.report.claims_section import claim_part_sections, effect_text, verdict_text
from lstmexp.report.sections import Section, recommendation_section
from lstmexp.vocabulary.names import PEAK_MEM_BYTES, SAMPLES_PER_S, VAL_LOSS_BEST

COMPARED_METRICS = (SAMPLES_PER_S, PEAK_MEM_BYTES, VAL_LOSS_BEST)


@dataclass
class Comparison:
    reports: list[Report]


def compare(reports: list[Report]) -> Comparison:
    return Comparison(reports)


def labelled(report: Report, frame: pd.DataFrame, *, column: str = "study") -> pd.DataFrame:
    return frame.assign(**{column: report.study})[[column, *frame.columns]]


def comparison_sections(comparison: Comparison) -> list[Section]:
    reports = comparison.reports
    parts = [Section("best", "Best trial per study", pd.concat([labelled(r, r.best.head(1)) for r in reports]))]
    for param in dict.fromkeys(p for r in reports for p in r.tradeoffs):
        parts.append(Section(f"tradeoffs_{param}", f"Trade-offs by {param}, side by side (medians)",
                             side_by_side(reports, param),
                             "columns per study: [study] figure; same populations as in each study's report"))
    for report in reports:
        section = recommendation_section(report)
        section.key, section.title = f"recommendations_{report.study}", f"Recommendations for {report.study}"
        parts.append(section)
    parts += [detail for r in reports for detail in renamed_details(r)]
    return parts


def side_by_side(reports: list[Report], param: str) -> pd.DataFrame:
    joined: pd.DataFrame | None = None
    for report in reports:
        table = report.tradeoffs.get(param)
        if table is None or table.empty:
            continue
        wanted = [m for m in COMPARED_METRICS if m in table.columns]
        piece = table[[param, *wanted]].rename(columns={m: f"[{report.study}] {m}" for m in wanted})
        joined = piece if joined is None else joined.merge(piece, on=param, how="outer")
    return joined.sort_values(param) if joined is not None else pd.DataFrame(columns=[param])


def claims_side_by_side(reports: list[Report]) -> Section:
    rows: dict[str, dict[str, str]] = {}
    for report in reports:
        for claim in report.claims:
            row = rows.setdefault(claim.code, {"claim": claim.code})
            row[f"[{report.study}] verdict"] = verdict_text(claim)
            row[f"[{report.study}] effect"] = effect_text(claim)
    return Section("claims", "Claims per study", pd.DataFrame(list(rows.values())),
                   "each study tested on its own trials (the rows behind each effect follow)",
                   read="one row per claim: each study's verdict and its effect with the interval")


def renamed_details(report: Report) -> list[Section]:
    details = [s for s in claim_part_sections(report) if s.detail]
    for section in details:
        section.key, section.title = f"{report.study}_{section.key}", f"[{report.study}] {section.title}"
    return details
