"""The answer a user came for, shown first by every format: what to run, and what the claims say.

Banners (a study measured on a busy machine, a budget that ended the study), what the constraints
ruled out (and what to relax when nothing is left), the recommended configurations with the exact
command that reproduces each, the warnings that say what to do next, and one sentence per claim
(holds / does not hold / mixed / not testable here, with the effect). Tables and detail follow in
the sections (`sections.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.report.claims import FAILS, HOLDS, MIXED, NO_DATA, NOT_TESTABLE, ClaimResult
from lstmexp.report.configs import RANK_METRIC, seeds_phrase
from lstmexp.report.feasible import feasibility_lines
from lstmexp.units import MIB

if TYPE_CHECKING:
    from lstmexp.report.build import Report

# The verdict in a sentence, in the words of the claims table (one wording for one verdict).
VERDICT_WORDS = {HOLDS: "holds", FAILS: "does not hold", MIXED: "is mixed", NOT_TESTABLE: "is not testable here",
                 NO_DATA: "has not enough data"}


@dataclass
class Pick:
    """One recommended configuration, in words."""

    goal: str
    setting: str  # "batch_size=64, time_step=16, hidden_size=32, train.lr=0.001"
    figures: str  # "val loss 0.123 ± 0.004 over 3 seeds, 12,300 samples/s, 4.2 MiB"
    why: str
    command: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class Answer:
    banners: list[str]
    picks: list[Pick]
    verdicts: list[str]
    claims_note: str = ""
    constraints: list[str] = field(default_factory=list)  # infeasible trials by constraint; what to relax


def answer_of(report: Report) -> Answer:
    picks = [pick_of(rec, report.params) for rec in report.recommendations]
    verdicts = [verdict_sentence(c) for c in (*report.claims, *report.claims_best_lr)]
    return Answer(banners(report), picks, verdicts, claims_note(report), feasibility_lines(report.feasibility))


def banners(report: Report) -> list[str]:
    found = [report.banner] if report.banner else []
    stop = report.study_attrs.get("budget_stop")
    if stop:
        found.append(f"the study's budget ended it: {stop}")
    return found


def claims_note(report: Report) -> str:
    if report.claims_best_lr:
        return ("learning rate co-tuned: C5-C9 are tested at the fixed lr (trials compared at equal train.lr) and, "
                "as 'C5@best lr' ..., at each batch size's best lr")
    return ""


def pick_of(rec: Any, params: list[str]) -> Pick:
    config = rec.config
    if config is None:
        return Pick(rec.goal, "none", "", rec.why, "")
    setting = ", ".join(f"{p}={shown(config[p])}" for p in params if p in config and not is_missing(config[p]))
    return Pick(rec.goal, setting, figures_of(config), rec.why, rec.command, list(rec.warnings))


def plain(value: Any) -> Any:
    """16, not 16.0 (a frame row turns every number into a float)."""
    if hasattr(value, "item"):
        value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def shown(value: Any) -> Any:
    """A searched value for reading: floats to 4 significant figures (the command keeps every digit)."""
    from lstmexp.report.people import format_number

    value = plain(value)
    return format_number(value).replace(",", "") if isinstance(value, float) else value


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def figures_of(config: dict[str, Any]) -> str:
    parts = []
    sd = config.get(f"{RANK_METRIC}_sd")
    spread = f" ± {sd:.2g}" if not is_missing(sd) else ""
    parts.append(f"val loss {config[RANK_METRIC]:.4g}{spread} {seeds_phrase({'seeds': 1, **config})}")
    if not is_missing(config.get("samples_per_s")):
        parts.append(f"{config['samples_per_s']:,.0f} samples/s")
    if not is_missing(config.get("peak_mem_bytes")):
        parts.append(f"{config['peak_mem_bytes'] / MIB:,.1f} MiB peak")
    if not is_missing(config.get("test_skill")):
        parts.append(f"test skill {config['test_skill']:.3g}")
    parts.append(f"reproduces trial {int(config['trial'])}")
    return ", ".join(parts)


def verdict_sentence(claim: ClaimResult) -> str:
    """'C5 holds: samples/s rises with batch_size (×1.9 per 2× batch_size, 95% CI 1.8–2.0).'"""
    words = VERDICT_WORDS.get(claim.verdict, claim.verdict)
    voting = [p for p in claim.parts if p.effect is not None]
    # Parts share notes (contended trials left out, which trials were chunked): each said once.
    notes = list(dict.fromkeys(piece for p in claim.parts for piece in p.note.split("; ") if piece))
    if voting:
        effects = "; ".join(
            f"{p.statement}{'' if p.verdict == claim.verdict else f' ({p.verdict})'}: ×{p.effect.factor:.3g} "
            f"{p.unit} (95% CI {p.effect.low:.3g}–{p.effect.high:.3g})" for p in voting if p.effect is not None)
        return f"{claim.code} {words}: {effects}" + (f" [{'; '.join(notes)}]" if notes else "") + "."
    reasons = notes or ([f"run {claim.experiment}"] if claim.experiment else [])
    return f"{claim.code} {words}: {claim.text.rstrip('.')}" + (f" ({'; '.join(reasons)})" if reasons else "") + "."


def answer_lines(answer: Answer) -> list[str]:
    """The answer as plain lines (terminal, Markdown)."""
    lines = [*answer.banners, *answer.constraints]
    for pick in answer.picks:
        lines.append(f"{pick.goal}: {pick.setting}" + (f" ({pick.figures})" if pick.figures else ""))
        lines.append(f"  why: {pick.why}")
        lines += [f"  warning: {w}" for w in pick.warnings]
        if pick.command:
            lines.append(f"  {pick.command}")
    return lines
