"""The rows of `lstmexp studies`: each study's trial counts, best value, dates and budget stop."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from lstmexp.search.attrs import BUDGET_ATTR
from lstmexp.text import printable


def study_rows(storage: optuna.storages.BaseStorage) -> list[tuple[str, ...]]:
    """One row per study, oldest first; Optuna's own summaries (read-only)."""
    summaries = optuna.get_all_study_summaries(storage, include_best_trial=True)
    rows: list[tuple[str, ...]] = []
    for summary in sorted(summaries, key=lambda s: (s.datetime_start is None, s.datetime_start or 0, s.study_name)):
        trials = storage.get_all_trials(storage.get_study_id_from_name(summary.study_name), deepcopy=False)
        complete = sum(t.state == TrialState.COMPLETE for t in trials)
        ends = [t.datetime_complete for t in trials if t.datetime_complete is not None]
        rows.append((
            printable(summary.study_name),
            str(summary.n_trials),
            str(complete),
            best_text(summary),
            stamp(summary.datetime_start),
            stamp(max(ends) if ends else None),
            str(summary.user_attrs.get(BUDGET_ATTR) or ""),
        ))
    return rows


def best_text(summary: optuna.study.StudySummary) -> str:
    if len(summary.directions) > 1:
        return "Pareto front (several objectives)"
    best = summary.best_trial
    if best is None or best.value is None:
        return "-"
    names = summary.metric_names if hasattr(summary, "metric_names") else None
    label = f"{names[0]} " if names else ""
    return f"{label}{best.value:.6g} (trial {best.number})"


def stamp(when: object) -> str:
    return "-" if when is None else f"{when:%Y-%m-%d %H:%M}"
