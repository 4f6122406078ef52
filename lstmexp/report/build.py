"""From a study's trials to the report's sections, as plain DataFrames and dicts (no formatting here)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lstmexp.spec import SEARCHED_PARAMS

# Trade-off columns: the metric and how it is summarised per value of a searched parameter.
TRADEOFF_METRICS = (
    "samples_per_s",
    "train_s_per_epoch",
    "iterations_per_epoch",
    "peak_mem_bytes",
    "val_loss_best",
    "test_skill",
    "grad_norm_mean",
)
FINISHED = ("complete", "pruned")
TRIAL_COLUMNS = (
    "number",
    "state",
    *SEARCHED_PARAMS,
    "val_loss_best",
    "test_mse",
    "test_mae_units",
    "test_skill",
    "samples_per_s",
    "train_s_per_epoch",
    "iterations_per_epoch",
    "peak_mem_bytes",
    "param_count",
    "failure_reason",
)


@dataclass
class Report:
    study: str
    storage: str
    environment: dict[str, Any]
    trials: pd.DataFrame
    best: pd.DataFrame
    tradeoffs: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def states(self) -> dict[str, int]:
        return self.trials["state"].value_counts().to_dict() if not self.trials.empty else {}


def build_report(study_name: str, storage: str, environment: dict[str, Any], trials: pd.DataFrame) -> Report:
    return Report(
        study=study_name,
        storage=storage,
        environment=environment,
        trials=trial_table(trials),
        best=best_trials(trials),
        tradeoffs={p: tradeoff_table(trials, p) for p in SEARCHED_PARAMS if p in trials.columns},
    )


def trial_table(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[[c for c in TRIAL_COLUMNS if c in trials.columns]]


def best_trials(trials: pd.DataFrame, count: int = 5) -> pd.DataFrame:
    if "val_loss_best" not in trials.columns:
        return trials.head(0)
    complete = trials[trials["state"] == "complete"]
    return trial_table(complete.nsmallest(count, "val_loss_best"))


def tradeoff_table(trials: pd.DataFrame, param: str) -> pd.DataFrame:
    """Per value of `param`: trial count and the median of each measured figure over finished trials."""
    finished = trials[trials["state"].isin(FINISHED)]
    metrics = [m for m in TRADEOFF_METRICS if m in finished.columns]
    if finished.empty or not metrics:
        return pd.DataFrame(columns=[param, "trials", *metrics])
    grouped = finished.groupby(param)
    table = grouped[metrics].median()
    table.insert(0, "trials", grouped.size())
    return table.reset_index().sort_values(param)
