"""Trials of a study as one pandas DataFrame: a row per trial, parameters and measured figures as columns.

Two readers give the same frame. On an RDB storage (SQLite, PostgreSQL, MySQL: what lstmexp
writes) `load_trials` reads Optuna's tables with four plain SELECTs (`optuna_compat.read_rdb_trials`);
building FrozenTrial objects (`study.get_trials`) and then deep-copying and normalising them
(`trials_dataframe()`) is what makes the standard path slow on large studies. Any other storage
(in-memory, journal) goes through `study.get_trials(deepcopy=False)`.

Per-epoch lists (user attributes prefixed `curve_`) are kept out of the frame, in `curves`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from lstmexp.optuna_compat import StoredTrialRows, read_rdb_trials

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

# Per-epoch lists are kept out of the frame (they are read separately, for learning curves).
CURVE_PREFIX = "curve_"
BASE_COLUMNS = ["number", "state", "value", "duration_s"]


@dataclass
class LoadedTrials:
    frame: pd.DataFrame
    # trial number -> {"train_loss": [...], "val_loss": [...], ...} (the `curve_` prefix removed)
    curves: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)


def load_trials(study: optuna.Study, storage: object | None = None) -> LoadedTrials:
    """The study's trials; pass the study's RDBStorage as `storage` for the fast SQL reader."""
    # None for other storages, or a schema the reader does not know: the standard path still works.
    stored = read_rdb_trials(storage, study.study_name) if storage is not None else None
    return load_from_study(study) if stored is None else load_from_rdb(stored)


def load_trials_frame(study: optuna.Study) -> pd.DataFrame:
    return load_trials(study).frame


def load_from_study(study: optuna.Study) -> LoadedTrials:
    rows, curves, distributions = [], {}, {}
    for trial in study.get_trials(deepcopy=False):
        row: dict[str, object] = {
            "number": trial.number,
            "state": trial.state.name.lower(),
            "value": trial.value if trial.values is not None and len(trial.values) == 1 else None,
            "duration_s": trial.duration.total_seconds() if trial.duration is not None else None,
        }
        row.update(trial.params)
        distributions.update(trial.distributions)
        attrs, trial_curves = split_curves(trial.user_attrs)
        row.update(attrs)
        if trial_curves:
            curves[trial.number] = trial_curves
        rows.append(row)
    return LoadedTrials(to_frame(rows), curves, distributions)


def split_curves(attrs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[float]]]:
    plain = {k: v for k, v in attrs.items() if not k.startswith(CURVE_PREFIX)}
    curves = {k.removeprefix(CURVE_PREFIX): v for k, v in attrs.items() if k.startswith(CURVE_PREFIX)}
    return plain, curves


def to_frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame(columns=BASE_COLUMNS)
    return pd.DataFrame(rows).sort_values("number").reset_index(drop=True)


def load_from_rdb(stored: StoredTrialRows) -> LoadedTrials:
    rows: dict[int, dict[str, object]] = {
        trial_id: {"number": number, "state": state, "value": None, "duration_s": duration}
        for trial_id, number, state, duration in stored.trials
    }
    distributions = decode_params(stored.params, rows)
    curves: dict[int, dict[str, list[float]]] = defaultdict(dict)
    for trial_id, key, value in stored.attrs:
        if key.startswith(CURVE_PREFIX):
            curves[trial_id][key.removeprefix(CURVE_PREFIX)] = value
        else:
            rows[trial_id][key] = value
    objectives: dict[int, int] = defaultdict(int)
    for trial_id, _, value in stored.values:
        objectives[trial_id] += 1
        rows[trial_id]["value"] = value
    for trial_id, count in objectives.items():
        if count > 1:  # a multi-objective trial has no single value (as in load_from_study)
            rows[trial_id]["value"] = None
    numbers = {trial_id: number for trial_id, number, _, _ in stored.trials}
    return LoadedTrials(to_frame(list(rows.values())), {numbers[t]: c for t, c in curves.items()}, distributions)


def decode_params(params: list[Any], rows: dict[int, dict[str, object]]) -> dict[str, BaseDistribution]:
    """Internal float representations back to the values the objective saw (categorical index -> choice)."""
    from optuna.distributions import json_to_distribution

    by_json: dict[str, BaseDistribution] = {}
    distributions: dict[str, BaseDistribution] = {}
    for trial_id, name, internal, distribution_json in params:
        if distribution_json not in by_json:
            by_json[distribution_json] = json_to_distribution(distribution_json)
        distribution = by_json[distribution_json]
        distributions[name] = distribution
        rows[trial_id][name] = distribution.to_external_repr(internal)
    return distributions


def trial_curves(study: optuna.Study, numbers: list[int]) -> dict[int, dict[str, list[float]]]:
    """Per-epoch train and val loss of the given trials."""
    wanted = set(numbers)
    return {n: c for n, c in load_from_study(study).curves.items() if n in wanted}
