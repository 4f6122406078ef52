"""Trials of a study as one pandas DataFrame: a row per trial, parameters and measured figures as columns.

Reads the storage's trials once without deep copies; `optuna.Study.trials_dataframe()` deep-copies
every trial and normalises nested attributes, which dominates report time on large studies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import optuna

# Per-epoch lists are kept out of the frame (they are read separately, for learning curves).
CURVE_PREFIX = "curve_"


def load_trials_frame(study: optuna.Study) -> pd.DataFrame:
    rows = []
    for trial in study.get_trials(deepcopy=False):
        row: dict[str, object] = {
            "number": trial.number,
            "state": trial.state.name.lower(),
            "value": trial.value if trial.values is not None and len(trial.values) == 1 else None,
            "duration_s": trial.duration.total_seconds() if trial.duration is not None else None,
        }
        row.update(trial.params)
        row.update({k: v for k, v in trial.user_attrs.items() if not k.startswith(CURVE_PREFIX)})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        return pd.DataFrame(columns=["number", "state", "value", "duration_s"])
    return frame.sort_values("number").reset_index(drop=True)


def trial_curves(study: optuna.Study, numbers: list[int]) -> dict[int, dict[str, list[float]]]:
    """Per-epoch train and val loss of the given trials."""
    wanted = set(numbers)
    curves = {}
    for trial in study.get_trials(deepcopy=False):
        if trial.number in wanted:
            curves[trial.number] = {
                k.removeprefix(CURVE_PREFIX): v for k, v in trial.user_attrs.items() if k.startswith(CURVE_PREFIX)
            }
    return curves
