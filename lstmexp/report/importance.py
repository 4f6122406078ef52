"""Parameter importance (Optuna's evaluators, PED-ANOVA by default) for accuracy, speed and memory.

Optuna's evaluators read a Study. The report already holds the trials as a frame, so it hands
them a fresh in-memory study whose trials are the completed trials (the population Optuna's
evaluators use) with the figure of interest as each trial's value: no second read of the storage,
and any figure can be the target, not only the objective the study optimised.
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.report.noise import SPEED_METRICS, quiet
from lstmexp.storage.optuna_compat import importances_over
from lstmexp.vocabulary.choices import SEARCHED_PARAMS
from lstmexp.vocabulary.names import PEAK_MEM_BYTES, SAMPLES_PER_S, VAL_LOSS_BEST

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

# Figure -> optimisation direction that defines "good" trials for PED-ANOVA.
IMPORTANCE_TARGETS = {VAL_LOSS_BEST: "minimize", SAMPLES_PER_S: "maximize", PEAK_MEM_BYTES: "minimize"}
COLUMN_NAMES = {VAL_LOSS_BEST: "accuracy (val loss)", SAMPLES_PER_S: "speed (samples per s)",
                PEAK_MEM_BYTES: "memory (peak)"}
MIN_TRIALS = 4


def param_importances(trials: pd.DataFrame, distributions: dict[str, BaseDistribution],
                      params: list[str] | None = None) -> pd.DataFrame:
    """Rows: every searched parameter (`params`); columns: normalised importance for each target figure.

    Speed importance uses uncontended trials only (a busy machine's speed says nothing about a parameter).
    """
    params = [p for p in (params or SEARCHED_PARAMS) if p in distributions and p in trials.columns]
    complete = trials[trials["state"] == "complete"] if "state" in trials.columns else trials.iloc[0:0]
    columns = {}
    for target, direction in IMPORTANCE_TARGETS.items():
        if target in complete.columns:
            population = quiet(complete)[0] if target in SPEED_METRICS else complete
            scores = importances_for(population, target, direction, params, distributions)
            if scores:
                columns[COLUMN_NAMES[target]] = scores
    if not columns:
        return pd.DataFrame(columns=["param", *COLUMN_NAMES.values()])
    table = pd.DataFrame(columns).reindex(params)
    return table.rename_axis("param").reset_index()


def importances_for(
    complete: pd.DataFrame, target: str, direction: str, params: list[str],
    distributions: dict[str, BaseDistribution],
) -> dict[str, float]:
    import optuna
    from optuna.trial import TrialState

    usable = complete.dropna(subset=[target, *params])
    usable = usable[pd.to_numeric(usable[target], errors="coerce").map(math.isfinite)]
    varying = [p for p in params if not distributions[p].single()]
    if len(usable) < MIN_TRIALS or not varying:
        return {}
    used = {p: distributions[p] for p in params}
    trials = [
        optuna.trial.FrozenTrial(
            number=i, state=TrialState.COMPLETE, value=float(row[target]), datetime_start=None,
            datetime_complete=None, params={p: row[p] for p in params}, distributions=used, user_attrs={},
            system_attrs={}, intermediate_values={}, trial_id=i,
        )
        for i, row in enumerate(usable[[*params, target]].to_dict(orient="records"))
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PED-ANOVA warns when too few trials fall in its quantile
        return importances_over(trials, direction, varying)
