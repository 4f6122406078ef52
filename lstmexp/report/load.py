"""Trials of a study as one pandas DataFrame: a row per trial, parameters and measured figures as columns.

Two readers give the same frame. On an RDB storage (SQLite, PostgreSQL, MySQL: what lstmexp
writes) `load_trials` reads Optuna's tables with four plain SELECTs and decodes each attribute once;
building FrozenTrial objects (`study.get_trials`) and then deep-copying and normalising them
(`trials_dataframe()`) is what makes the standard path slow on large studies. Any other storage
(in-memory, journal) goes through `study.get_trials(deepcopy=False)`.

Per-epoch lists (user attributes prefixed `curve_`) are kept out of the frame, in `curves`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

# Per-epoch lists are kept out of the frame (they are read separately, for learning curves).
CURVE_PREFIX = "curve_"
BASE_COLUMNS = ["number", "state", "value", "duration_s"]
# Optuna stores infinities as a value type next to a NULL value (see optuna.storages._rdb.models).
STORED_INFINITY = {"INF_POS": float("inf"), "INF_NEG": float("-inf")}


@dataclass
class LoadedTrials:
    frame: pd.DataFrame
    # trial number -> {"train_loss": [...], "val_loss": [...], ...} (the `curve_` prefix removed)
    curves: dict[int, dict[str, list[float]]] = field(default_factory=dict)
    distributions: dict[str, BaseDistribution] = field(default_factory=dict)


def load_trials(study: optuna.Study, storage: object | None = None) -> LoadedTrials:
    """The study's trials; pass the study's RDBStorage as `storage` for the fast SQL reader."""
    import optuna

    if isinstance(storage, optuna.storages.RDBStorage):
        import sqlalchemy.exc

        try:
            return load_from_rdb(storage, storage.get_study_id_from_name(study.study_name))
        except sqlalchemy.exc.SQLAlchemyError:
            pass  # a schema this reader does not know (another Optuna version): the standard path still works
    return load_from_study(study)


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


# Optuna's RDB schema (optuna/storages/_rdb/models.py); `:study` is the study id.
TRIALS_SQL = "SELECT trial_id, number, state, datetime_start, datetime_complete FROM trials WHERE study_id = :study"
PARAMS_SQL = (
    "SELECT p.trial_id, p.param_name, p.param_value, p.distribution_json FROM trial_params p "
    "JOIN trials t ON t.trial_id = p.trial_id WHERE t.study_id = :study"
)
ATTRS_SQL = (
    "SELECT a.trial_id, a.key, a.value_json FROM trial_user_attributes a "
    "JOIN trials t ON t.trial_id = a.trial_id WHERE t.study_id = :study"
)
VALUES_SQL = (
    "SELECT v.trial_id, v.objective, v.value, v.value_type FROM trial_values v "
    "JOIN trials t ON t.trial_id = v.trial_id WHERE t.study_id = :study"
)


def load_from_rdb(storage: optuna.storages.RDBStorage, study_id: int) -> LoadedTrials:
    from sqlalchemy import text

    with storage.engine.connect() as connection:
        fetched = {
            name: connection.execute(text(sql), {"study": study_id}).fetchall()
            for name, sql in (("trials", TRIALS_SQL), ("params", PARAMS_SQL), ("attrs", ATTRS_SQL),
                              ("values", VALUES_SQL))
        }
    rows: dict[int, dict[str, object]] = {}
    for trial_id, number, state, start, complete in fetched["trials"]:
        rows[trial_id] = {"number": number, "state": str(state).lower(), "value": None,
                          "duration_s": seconds_between(start, complete)}
    distributions = decode_params(fetched["params"], rows)
    curves = decode_attrs(fetched["attrs"], rows)
    objectives: dict[int, int] = defaultdict(int)
    for trial_id, _, value, value_type in fetched["values"]:
        objectives[trial_id] += 1
        rows[trial_id]["value"] = STORED_INFINITY.get(str(value_type), value)
    for trial_id, count in objectives.items():
        if count > 1:  # a multi-objective trial has no single value (as in load_from_study)
            rows[trial_id]["value"] = None
    numbers = {trial_id: row["number"] for trial_id, row in rows.items()}
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


def decode_attrs(attrs: list[Any], rows: dict[int, dict[str, object]]) -> dict[int, dict[str, list[float]]]:
    """Attribute values are JSON texts: decode them all in one `json.loads` call (one per value is ~4x slower)."""
    values = json.loads("[" + ",".join(value_json for _, _, value_json in attrs) + "]")
    curves: dict[int, dict[str, list[float]]] = defaultdict(dict)
    for (trial_id, key, _), value in zip(attrs, values, strict=True):
        if key.startswith(CURVE_PREFIX):
            curves[trial_id][key.removeprefix(CURVE_PREFIX)] = value
        else:
            rows[trial_id][key] = value
    return curves


def seconds_between(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    if isinstance(start, str):  # some drivers hand back ISO strings
        start, end = datetime.fromisoformat(start), datetime.fromisoformat(str(end))
    return (end - start).total_seconds()


def trial_curves(study: optuna.Study, numbers: list[int]) -> dict[int, dict[str, list[float]]]:
    """Per-epoch train and val loss of the given trials."""
    wanted = set(numbers)
    return {n: c for n, c in load_from_study(study).curves.items() if n in wanted}
