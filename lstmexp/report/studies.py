"""A study's best as every command names it: the rows of `lstmexp studies` and the trial `lstmexp predict`
forecasts with by default.

"Best" is the report's: the configuration ranked first over its seeds (`report.configs.best_configuration`)
and the trial the report's reproduce command names, not Optuna's luckiest single trial; the search keeps
that trial's weights (`lstmexp.search.keep`).
"""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from lstmexp.errors import DataError
from lstmexp.report.configs import RANK_METRIC, best_configuration, seeds_phrase
from lstmexp.report.load import load_from_study, load_trials
from lstmexp.report.noise import format_number
from lstmexp.storage.urls import load_existing_study, open_storage
from lstmexp.text import printable
from lstmexp.vocabulary.attrs import BUDGET_ATTR


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
            best_text(summary, storage),
            stamp(summary.datetime_start),
            stamp(max(ends) if ends else None),
            str(summary.user_attrs.get(BUDGET_ATTR) or ""),
        ))
    return rows


def best_text(summary: optuna.study.StudySummary, storage: optuna.storages.BaseStorage) -> str:
    if len(summary.directions) > 1:
        return "Pareto front (several objectives)"
    loaded = load_from_study(optuna.load_study(study_name=summary.study_name, storage=storage))
    best = best_configuration(loaded.frame, loaded.distributions)
    if best is None:
        return "-"
    return f"val loss {format_number(best[RANK_METRIC])} {seeds_phrase(best)} (trial {int(best['trial'])})"


def stamp(when: object) -> str:
    return "-" if when is None else f"{when:%Y-%m-%d %H:%M}"


def best_trial_number(storage_url: str, study: str) -> int:
    """The trial the report recommends as most accurate (`report.configs.best_configuration`)."""
    storage = open_storage(storage_url, create=False)
    loaded = load_trials(load_existing_study(storage_url, study, storage), storage)
    best = best_configuration(loaded.frame, loaded.distribution_json)
    if best is None:
        raise DataError(f"study {study!r} has no completed trial to forecast with; run the search first")
    return int(best["trial"])
