"""The claims table a claims study's report opens with: one row per claim C1..C14, and how the design
was chosen and sized (the verdicts themselves come from `lstmexp.report.claims_table`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.report.claims import NOT_TESTABLE, ClaimResult
from lstmexp.report.claims_table import DESIGN_ATTR
from lstmexp.report.sections import Section

if TYPE_CHECKING:
    from lstmexp.report.build import Report


def effect_text(claim: ClaimResult) -> str:
    """The first voting part's effect with its interval, or the checked figure, or why there is none."""
    for part in claim.parts:
        if part.effect is not None:
            e = part.effect
            return f"×{e.factor:.3g} {part.unit} (95% CI {e.low:.3g}–{e.high:.3g})"
    notes = [p.note for p in claim.parts if p.note]
    return notes[0] if notes else claim.context


def table_rows(claims: list[ClaimResult]) -> pd.DataFrame:
    """One row per claim: verdict (with the reason when not testable), effect, trials and seeds, arm."""
    rows = []
    for claim in claims:
        verdict = claim.verdict
        if verdict == NOT_TESTABLE or verdict.startswith("not enough"):
            reason = claim.context or next((p.note for p in claim.parts if p.note), "")
            verdict = f"not testable: {reason}" if reason else verdict
        rows.append({"claim": claim.code, "verdict": verdict, "effect": effect_text(claim),
                     "trials": claim.trials, "seeds": claim.seeds, "arm": claim.arm})
    return pd.DataFrame(rows)


def design_lines(stored: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    """How the design was chosen and sized, and how many targets each split scores."""
    design = stored["design"]
    lines = ["centre: " + "; ".join(design["why_centre"]),
             f"{design['seeds']} seeds per setting, {design['epochs']} epochs per trial; estimated "
             f"{design['estimate_cpu_s'] / 60:.1f} of {design['budget_cpu_s'] / 60:.1f} CPU-minutes"]
    lines += [f"budget: {note}" for note in design["notes"]]
    counts = [f"{split} {int(trials[f'{split}_targets'].max()):,}" for split in ("val", "test")
              if f"{split}_targets" in trials.columns and trials[f"{split}_targets"].notna().any()]
    if counts:
        lines.append("targets scored by every trial: " + ", ".join(counts) + " (the same for every time_step)")
    return lines


def lead_sections(report: Report) -> list[Section]:
    """The claims table a claims study's report opens with (none for other studies)."""
    stored = report.study_attrs.get(DESIGN_ATTR)
    if not isinstance(stored, dict):
        return []
    caption = ("effect: the factor on the tested figure with its 95% bootstrap interval over trials and seeds; "
               "speed figures say which clock they came from (samples_per_s_clock)")
    return [Section("claims_table", "Claims C1..C14 (designed experiment, one arm per claim)",
                    table_rows(report.claims), caption, design_lines(stored, report.all_trials),
                    read="one row per claim: the verdict, its effect and interval, and the trials and seeds behind it")]
