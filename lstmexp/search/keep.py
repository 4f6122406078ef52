"""Keeping a trial's trained model when the report's ranking would keep it (the best search.keep_best
configurations and the recommendations, `report.recommend.trials_to_keep`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
import pandas as pd

from lstmexp.report.load import load_frozen
from lstmexp.report.recommend import trials_to_keep
from lstmexp.spec import ExperimentSpec
from lstmexp.storage.optuna_compat import as_frozen
from lstmexp.trial.weights import KeptTrial, keep_listed
from lstmexp.vocabulary.names import CONFIG, REPEATS, TEST_MSE, VAL_LOSS, VAL_LOSS_BEST

if TYPE_CHECKING:
    import torch

    from lstmexp.data import Series
    from lstmexp.search.slots import TrialLedger


class ModelCatch:
    """The `on_model` hook of run_trial: holds the trained weights and scaler until the trial's value is known."""

    def __init__(self) -> None:
        self.state: dict[str, torch.Tensor] | None = None
        self.scaler: dict[str, list[float]] = {}
        self.inputs: list[str] = []  # the input columns, named when a --data file does not fit them

    def __call__(self, model: torch.nn.Module, series: Series) -> None:
        self.state = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
        scaler = series.scaler
        self.scaler = {"offset": [float(v) for v in scaler.offset], "scale": [float(v) for v in scaler.scale]}
        self.inputs = list(series.input_columns)


def keep_model(
    trial: optuna.Trial,
    spec: ExperimentSpec,
    caught: ModelCatch,
    metrics: dict[str, Any],
    value: float,
    folder: Path,
    ledger: TrialLedger,
) -> None:
    """Save the caught model beside the storage when this trial's configuration ranks among the best k."""
    if caught.state is None or spec.search.keep_best == 0:
        return
    meta = {
        "study": trial.study.study_name,
        "spec": spec.to_dict(),
        "params": spec.sizes(),  # also in the spec: kept for readers of weights kept before they were
        "scaler": caught.scaler,
        "input_columns": caught.inputs,
        "seed": spec.train.seed,
        # With train.repeats > 1 the figures are means over seeds; the weights are the first seed's run.
        REPEATS: spec.train.repeats,
        TEST_MSE: metrics.get(TEST_MSE),
        VAL_LOSS: metrics.get(VAL_LOSS_BEST),
    }
    candidate = KeptTrial(trial.number, value, str(metrics.get(CONFIG) or ""), meta)
    trials, names = ranked_frame(trial, ledger)
    keep = trials_to_keep(trials, names, spec.search.keep_best)
    settled = set(trials.loc[trials["state"].isin(["complete", "pruned", "fail"]), "number"].astype(int))
    keep_listed(folder, candidate, caught.state, keep, settled)


def ranked_frame(trial: optuna.Trial, ledger: TrialLedger) -> tuple[pd.DataFrame, list[str]]:
    """The study's trials as the report reads them, this (still running) trial counted as completed.

    From the worker's ledger and the trial as Optuna holds it: no read of the study per trial (every
    read is statements) unless another worker has created a trial since (`TrialLedger.current`)."""
    others = [t for t in ledger.current(trial.number) if t.number != trial.number]
    loaded = load_frozen([*others, as_frozen(trial)])
    frame = loaded.frame
    frame.loc[frame["number"] == trial.number, "state"] = "complete"
    return frame, list(loaded.distributions)
