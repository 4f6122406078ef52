"""Whole-study budgets: wall minutes of this run, checked between trials, and CPU minutes of the study.

The CPU budget sums every finished trial's own CPU seconds (the `cpu_s` attribute, measured by the
process that trained it), so it counts every worker's CPU and carries over when a study is resumed:
"the best model within N CPU-minutes" means the same on a busy or an idle machine. No trial starts
once it is spent, and the trial that spends it stops training there (`cpu_deadline`), so a search
ends at its budget, not a trial past it (a designed study lets that trial finish).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import optuna

from lstmexp.search.slots import count_done
from lstmexp.spec import ExperimentSpec
from lstmexp.trial.record import trial_figures
from lstmexp.vocabulary.attrs import BUDGET_ATTR, CPU_ATTR

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial


def study_cpu_seconds(study: optuna.Study) -> float:
    return spent_cpu_seconds(study.get_trials(deepcopy=False))


def spent_cpu_seconds(trials: Sequence[FrozenTrial]) -> float:
    return sum(float(trial_figures(t.user_attrs).get(CPU_ATTR) or 0.0) for t in trials)


def cpu_deadline(spec: ExperimentSpec, trials: Sequence[FrozenTrial]) -> float | None:
    """The process CPU time (`time.process_time`) at which the study's CPU budget is spent for a trial
    starting now, given the study's `trials` as last read; None without a CPU budget, and for a designed
    study (`lstmexp claims`), whose trials are design points sized to fit: one cut short would measure less
    than it is designed to, so the running one finishes and the budget is checked between trials.

    Other workers' running trials are counted once they finish, so with several workers the trials
    running together can still pass the budget by what they spend at once; one worker never does."""
    if spec.search.max_cpu_minutes is None or spec.search.designed:
        return None
    return time.process_time() + spec.search.max_cpu_minutes * 60 - spent_cpu_seconds(trials)


def budget_reason(spec: ExperimentSpec, study: optuna.Study, elapsed_s: float | None) -> str | None:
    """Why the study must stop now (a budget is spent), or None while both budgets last.

    `elapsed_s` None: before this run's first trial, when only the CPU budget (the study's) can be spent.
    """
    limits = spec.search
    if limits.max_minutes is not None and elapsed_s is not None and elapsed_s >= limits.max_minutes * 60:
        return f"max_minutes {limits.max_minutes:g} reached after {count_done(study)} trials"
    if limits.max_cpu_minutes is not None:
        used = study_cpu_seconds(study)
        if used >= limits.max_cpu_minutes * 60:
            return (
                f"max_cpu_minutes {limits.max_cpu_minutes:g} reached after {count_done(study)} trials "
                f"({used / 60:.1f} CPU-minutes)"
            )
    return None


class StopWhenSpent:
    """An optimize callback: after each trial, stop the study (and say why) once a budget is spent.

    `reason` keeps why, so the search's summary need not read the study attribute back."""

    def __init__(self, spec: ExperimentSpec, started: float) -> None:
        self.spec = spec
        self.started = started
        self.reason: str | None = None

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self.reason = check_budget(self.spec, study, self.started)
        if self.reason is not None:
            study.stop()


def check_budget(spec: ExperimentSpec, study: optuna.Study, started: float | None) -> str | None:
    """Why a budget is spent (then recorded as the study's `budget_stop`), or None while both last.

    `started` None: the check before this run's first trial (a resumed study may have spent its CPU).
    """
    reason = budget_reason(spec, study, None if started is None else time.monotonic() - started)
    if reason is not None:
        study.set_user_attr(BUDGET_ATTR, reason)
    return reason
