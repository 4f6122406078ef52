"""A report as an ordered list of titled sections: what every output format shows, in one place.

Renderers (terminal, Markdown, HTML, CSV files, JSON) only format these; they never choose content.
`outline.outline` puts them together with the title and summary lines for a report or a comparison.
A section is a table with a caption, optionally followed by lines (commands, notes). Sections
marked `detail` (the rows behind each claim, every trial of a large study) are left out of the
terminal, which must stay readable at 120 columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.choices import SEARCHED_PARAMS
from lstmexp.report.build import TRADEOFF_CAPTION
from lstmexp.report.claims import NO_DATA
from lstmexp.units import MIB

if TYPE_CHECKING:
    from lstmexp.report.build import Report

TERMINAL_TRIAL_ROWS = 40
MATRIX_TITLES = {
    "val_loss_best": "Median best val loss (completed trials)",
    "samples_per_s": "Median samples/s (completed and pruned trials)",
    "peak_mem_bytes": "Median peak memory in MiB (completed and pruned trials)",
}


@dataclass
class Section:
    key: str  # file-name-safe identifier (CSV file names, JSON keys)
    title: str
    frame: pd.DataFrame
    caption: str = ""
    lines: list[str] = field(default_factory=list)
    detail: bool = False


def summary_lines(report: Report) -> list[str]:
    states = ", ".join(f"{n} {s}" for s, n in sorted(report.states.items())) or "no trials"
    env = report.environment
    machine = f"{env.get('cpu_model', '?')}, {env.get('gpu') or 'no GPU'}, torch {env.get('torch', '?')}"
    lines = [f"study {report.study} in {report.storage}", f"trials: {states}", f"machine: {machine}"]
    if env.get("hostname") or env.get("torch_threads"):
        lines.append(f"host: {env.get('hostname', '?')}, torch threads {env.get('torch_threads', '?')}")
    if report.failures:
        lines.append("failures: " + ", ".join(f"{n} {r}" for r, n in report.failures.items()))
    compute = report.compute
    if "trial_seconds" in compute:
        epochs = f", {compute['epochs']:.0f} epochs" if "epochs" in compute else ""
        lines.append(f"compute used: {compute['trial_seconds'] / 60:.1f} min of trial time{epochs}")
    return lines


def report_sections(report: Report) -> list[Section]:
    parts = [Section("best", "Best trials (lowest best val loss, completed trials)", report.best)]
    parts.append(recommendation_section(report))
    parts += [
        Section(f"tradeoffs_{param}", f"Trade-offs by {param} (medians)", table, TRADEOFF_CAPTION)
        for param, table in report.tradeoffs.items()
    ]
    parts += [
        Section(f"tradeoffs_extra_{param}", f"Hardware efficiency, time to target and accuracy by {param} (medians)",
                table, TRADEOFF_CAPTION)
        for param, table in report.extra_tradeoffs.items()
    ]
    parts += [matrix_section(metric, table) for metric, table in report.matrices.items()]
    parts.append(Section(
        "pareto", "Pareto front: best val loss vs samples/s vs peak memory", report.pareto,
        "completed trials that no other completed trial beats on all three figures",
    ))
    if not report.importance.empty:
        parts.append(Section(
            "importance", "Parameter importance (Optuna PED-ANOVA, completed trials)", report.importance,
            "share of each figure's variation among good trials explained by each parameter (columns sum to 1)",
        ))
    parts += claim_sections(report)
    many = len(report.trials) > TERMINAL_TRIAL_ROWS
    parts.append(Section("trials", "All trials", report.trials,
                         "in the terminal only up to 40 trials: use --format csv or --out" if many else "",
                         detail=many))
    return parts


def recommendation_section(report: Report) -> Section:
    rows, lines = [], []
    for rec in report.recommendations:
        trial = rec.trial or {}
        rows.append({"goal": rec.goal, "number": trial.get("number"),
                     **{p: trial.get(p) for p in SEARCHED_PARAMS},
                     "val_loss_best": trial.get("val_loss_best"), "samples_per_s": trial.get("samples_per_s"),
                     "peak_mem_bytes": trial.get("peak_mem_bytes")})
        lines.append(f"{rec.goal} ({rec.why})" + (":" if rec.command else ""))
        if rec.command:
            lines.append(f"  {rec.command}")
    caption = "why each was chosen, and the command that reproduces it:"
    return Section("recommendations", "Recommendations", pd.DataFrame(rows), caption, lines)


def matrix_section(metric: str, table: pd.DataFrame) -> Section:
    shown = table / MIB if metric == "peak_mem_bytes" else table
    shown = shown.rename(columns=lambda t: f"T={t}").rename_axis(columns=None).reset_index()
    return Section(f"matrix_{metric}", f"{MATRIX_TITLES[metric]}: batch_size × time_step", shown,
                   "rows: batch_size; columns: time_step (T); empty: no trial")


def claim_sections(report: Report) -> list[Section]:
    """One row per tested statement (a claim may have several), then the rows behind each one."""
    rows: list[dict[str, object]] = []
    details: list[Section] = []
    notes: list[str] = []
    for claim in report.claims:
        for index, part in enumerate(claim.parts or [None]):
            effect = part.effect if part else None
            rows.append({
                "claim": claim.code if index == 0 else "",
                "verdict": claim.verdict if index == 0 else "",
                "tested statement": part.statement if part else claim.text,
                "its verdict": part.verdict if part else NO_DATA,
                "effect (95% CI)": f"×{effect.factor:.3g} ({effect.low:.3g}–{effect.high:.3g})" if effect else "",
                "per": part.unit if effect and part else "",
                "trials": effect.rows if effect else None,
            })
            if part is not None and part.note:
                notes.append(f"{claim.code}: {part.note}")
        if claim.experiment:
            notes.append(f"{claim.code}: not testable here; run {claim.experiment}")
        if claim.context:
            notes.append(f"{claim.code}: {claim.context}")
        for index, part in enumerate(claim.parts):
            if not part.rows.empty:
                why = f" ({part.note})" if part.note else ""
                caption = f"{claim.code} ({claim.text}) {part.statement}: {part.verdict}{why}. Test: {part.test}."
                details.append(Section(f"claim_{claim.code}_{index}", f"{claim.code}: {part.statement}",
                                       part.rows, caption, detail=True))
    verdicts = Section(
        "claims", "Claims of the source documents (C5-C14)", pd.DataFrame(rows),
        "effect: factor on the figure (per doubling, or between the two groups), other settings held equal, with "
        "a 95% bootstrap interval over trials; the rows behind each verdict are in the Markdown/HTML/JSON reports",
        list(dict.fromkeys(notes)),
    )
    return [verdicts, *details]
