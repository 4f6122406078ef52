"""The answer a user came for, shown by every format right after the claims table: what to run.

Banners (a study measured on a busy machine, a budget that ended the study), what the constraints
ruled out (and what to relax when nothing is left), the recommended configurations with the exact
command that reproduces each, and the warnings that say what to do next. The claims are said once,
one row each, by `claims_section`; tables and detail follow in the sections (`sections.py`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.report.configs import mean_text
from lstmexp.report.feasible import feasibility_lines
from lstmexp.report.noise import format_number
from lstmexp.units import MIB
from lstmexp.vocabulary.attrs import BUDGET_ATTR
from lstmexp.vocabulary.names import PEAK_MEM_BYTES, SAMPLES_PER_S, TEST_SKILL

if TYPE_CHECKING:
    from lstmexp.report.build import Report


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
    constraints: list[str] = field(default_factory=list)  # infeasible trials by constraint; what to relax


def answer_of(report: Report) -> Answer:
    picks = [pick_of(rec, report.params) for rec in report.recommendations]
    return Answer(banners(report), picks, feasibility_lines(report.feasibility))


def banners(report: Report) -> list[str]:
    found = [report.banner] if report.banner else []
    stop = report.study_attrs.get(BUDGET_ATTR)
    if stop:
        found.append(f"the study's budget ended it: {stop}")
    return found


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
    value = plain(value)
    return format_number(value).replace(",", "") if isinstance(value, float) else value


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value))


def figures_of(config: dict[str, Any]) -> str:
    parts = [f"val loss {mean_text(config)}"]
    if not is_missing(config.get(SAMPLES_PER_S)):
        parts.append(f"{format_number(config[SAMPLES_PER_S])} samples/s")
    if not is_missing(config.get(PEAK_MEM_BYTES)):
        parts.append(f"{format_number(config[PEAK_MEM_BYTES] / MIB)} MiB peak")
    if not is_missing(config.get(TEST_SKILL)):
        parts.append(f"test skill {format_number(config[TEST_SKILL])}")
    parts.append(f"reproduces trial {int(config['trial'])}")
    return ", ".join(parts)


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
