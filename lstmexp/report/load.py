"""Trials of a study as one pandas DataFrame: a row per trial, parameters and measured figures as columns.

Two readers give the same frame. On an RDB storage (SQLite, PostgreSQL, MySQL: what lstmexp
writes) `load_trials` reads Optuna's tables with four plain SELECTs (`optuna_compat.read_rdb_trials`);
building FrozenTrial objects (`study.get_trials`) and then deep-copying and normalising them
(`trials_dataframe()`) is what makes the standard path slow on large studies. Any other storage
(in-memory, journal) goes through `study.get_trials(deepcopy=False)`.

A SQLite file is read without Optuna at all (`load_sqlite`, through `optuna_compat.read_sqlite_study`):
the read-only fast path of `lstmexp report`, which needs neither Optuna's storage machinery nor torch.

Both decode each trial's attributes with the one reader (`lstmexp.trial.record.trial_figures`), so a
trial written with the record and one written by an older lstmexp (a user attribute per figure) give
the same columns. Per-epoch lists (`curve_` figures) are kept out of the frame, in `curves`. Each
constraint value a trial recorded (Optuna's `trial.constraints`) is a `constraint:NAME` column.
Every path also gives each parameter's distribution as Optuna's JSON (`distribution_json`), from
which the searched ranges and, when importance is computed, Optuna's distribution objects are made.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.report.feasible import constraint_columns
from lstmexp.storage.optuna_compat import (
    StoredStudy,
    StoredTrialRows,
    constraint_values,
    external_value,
    read_rdb_trials,
    searched_range,
)
from lstmexp.trial.record import split_curves, trial_figures

if TYPE_CHECKING:
    from collections.abc import Sequence

    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

BASE_COLUMNS = ["number", "state", "value", "duration_s"]


@dataclass
class LoadedTrials:
    frame: pd.DataFrame
    # trial number -> {"train_loss": [...], "val_loss": [...], ...} (the `curve_` prefix removed)
    curves: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    distribution_json: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ranges(self) -> dict[str, tuple[Any, Any]]:
        """(low, high) of every numeric searched parameter (what "at the edge of the range" means)."""
        found = {name: searched_range(d) for name, d in self.distribution_json.items()}
        return {name: r for name, r in found.items() if r is not None}


def load_trials(study: optuna.Study, storage: object | None = None) -> LoadedTrials:
    """The study's trials; pass the study's RDBStorage as `storage` for the fast SQL reader."""
    # None for other storages, or a schema the reader does not know: the standard path still works.
    stored = read_rdb_trials(storage, study.study_name) if storage is not None else None
    return load_from_study(study) if stored is None else load_from_rdb(stored)


def load_trials_frame(study: optuna.Study) -> pd.DataFrame:
    return load_trials(study).frame


def load_from_study(study: optuna.Study) -> LoadedTrials:
    return load_frozen(study.get_trials(deepcopy=False))


def load_frozen(trials: Sequence[FrozenTrial]) -> LoadedTrials:
    """Trials already read (or held in memory), as the report reads them."""
    rows, curves, distributions = [], {}, {}
    for trial in trials:
        row: dict[str, object] = {
            "number": trial.number,
            "state": trial.state.name.lower(),
            "value": trial.value if trial.values is not None and len(trial.values) == 1 else None,
            "duration_s": trial.duration.total_seconds() if trial.duration is not None else None,
        }
        row.update(trial.params)
        distributions.update(trial.distributions)
        attrs, trial_curves = split_curves(trial_figures(trial.user_attrs))
        row.update(attrs)
        row.update(constraint_columns(trial.constraints))
        if trial_curves:
            curves[trial.number] = trial_curves
        rows.append(row)
    return LoadedTrials(to_frame(rows), curves, distributions, as_json(distributions))


def as_json(distributions: dict[str, BaseDistribution]) -> dict[str, dict[str, Any]]:
    from optuna.distributions import distribution_to_json

    return {name: json.loads(distribution_to_json(d)) for name, d in distributions.items()}


def to_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=BASE_COLUMNS)
    return pd.DataFrame(rows).sort_values("number").reset_index(drop=True)


def load_sqlite(stored: StoredStudy) -> LoadedTrials:
    """Trials read by `optuna_compat.read_sqlite_study`, decoded without importing Optuna."""
    return load_from_rdb(stored.rows, with_objects=False)


def load_from_rdb(stored: StoredTrialRows, with_objects: bool = True) -> LoadedTrials:
    rows: dict[int, dict[str, object]] = {
        trial_id: {"number": number, "state": state, "value": None, "duration_s": duration}
        for trial_id, number, state, duration in stored.trials
    }
    distribution_json = decode_params(stored.params, rows)
    attrs: dict[int, dict[str, Any]] = defaultdict(dict)
    for trial_id, key, value in stored.attrs:
        attrs[trial_id][key] = value
    curves: dict[int, dict[str, list[float]]] = {}
    for trial_id, trial_attrs in attrs.items():
        figures, trial_curves = split_curves(trial_figures(trial_attrs))
        rows[trial_id].update(figures)
        if trial_curves:
            curves[trial_id] = trial_curves
    add_constraints(stored.constraints, rows)
    objectives: dict[int, int] = defaultdict(int)
    for trial_id, _, value in stored.values:
        objectives[trial_id] += 1
        rows[trial_id]["value"] = value
    for trial_id, count in objectives.items():
        if count > 1:  # a multi-objective trial has no single value (as in load_from_study)
            rows[trial_id]["value"] = None
    numbers = {trial_id: number for trial_id, number, _, _ in stored.trials}
    objects = as_objects(distribution_json) if with_objects else {}
    return LoadedTrials(to_frame(list(rows.values())), {numbers[t]: c for t, c in curves.items()}, objects,
                        distribution_json)


def add_constraints(system_attrs: list[tuple[int, str, Any]], rows: dict[int, dict[str, object]]) -> None:
    """Each trial's constraint values as `constraint:NAME` columns (from its constraint system attributes)."""
    by_trial: dict[int, dict[str, Any]] = defaultdict(dict)
    for trial_id, key, value in system_attrs:
        by_trial[trial_id][key] = value
    for trial_id, found in by_trial.items():
        rows[trial_id].update(constraint_columns(constraint_values(found)))


def as_objects(distribution_json: dict[str, dict[str, Any]]) -> dict[str, BaseDistribution]:
    from optuna.distributions import json_to_distribution

    return {name: json_to_distribution(json.dumps(d)) for name, d in distribution_json.items()}


def decode_params(params: list[Any], rows: dict[int, dict[str, object]]) -> dict[str, dict[str, Any]]:
    """Internal float representations back to the values the objective saw (categorical index -> choice)."""
    by_json: dict[str, dict[str, Any]] = {}
    distributions: dict[str, dict[str, Any]] = {}
    for trial_id, name, internal, distribution_json in params:
        if distribution_json not in by_json:
            by_json[distribution_json] = json.loads(distribution_json)
        distribution = by_json[distribution_json]
        distributions[name] = distribution
        rows[trial_id][name] = external_value(distribution, internal)
    return distributions


def trial_curves(study: optuna.Study, numbers: list[int]) -> dict[int, dict[str, list[float]]]:
    """Per-epoch train and val loss of the given trials."""
    wanted = set(numbers)
    return {n: c for n, c in load_from_study(study).curves.items() if n in wanted}
