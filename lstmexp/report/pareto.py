"""The Pareto front of accuracy, speed and memory, from the recorded metrics.

Computed from what every trial measured, whatever objective the study optimised: a completed
trial is on the front when no other completed trial is at least as good on all three figures and
strictly better on one. (Optuna's own non-domination helpers are private API, and they work on a
study's objectives, not on user attributes.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lstmexp.vocabulary.names import PEAK_MEM_BYTES, SAMPLES_PER_S, VAL_LOSS_BEST

# Figure -> True when larger is better.
PARETO_FIGURES = {VAL_LOSS_BEST: False, SAMPLES_PER_S: True, PEAK_MEM_BYTES: False}


def pareto_mask(costs: np.ndarray) -> np.ndarray:
    """Rows of `costs` (lower is better in every column) that no other row dominates."""
    at_most = (costs[:, None, :] <= costs[None, :, :]).all(axis=2)  # [i, j]: i no worse than j everywhere
    strictly = (costs[:, None, :] < costs[None, :, :]).any(axis=2)
    dominated = (at_most & strictly).any(axis=0)
    return np.asarray(~dominated, dtype=bool)


def pareto_front(trials: pd.DataFrame) -> pd.DataFrame:
    """Completed trials on the accuracy/speed/memory front, most accurate first."""
    figures = [f for f in PARETO_FIGURES if f in trials.columns]
    if "state" not in trials.columns or not figures:
        return trials.iloc[0:0]
    complete = trials[trials["state"] == "complete"].dropna(subset=figures)
    if complete.empty:
        return complete
    costs = np.column_stack([
        -complete[f].to_numpy(dtype=float) if PARETO_FIGURES[f] else complete[f].to_numpy(dtype=float)
        for f in figures
    ])
    return complete[pareto_mask(costs)].sort_values(figures[0])
