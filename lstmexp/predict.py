"""Forecasting with a kept trial's weights (`lstmexp predict`): no training, forecasts in the data's units.

The trial's spec is rebuilt with `data.path` pointing at the given file, the model is rebuilt with the
trial's sizes and its saved state_dict loaded (weights only), and every window of the chosen split is
forecast. The file is scaled as in training (a scaler fitted on its train rows); when that scaler
differs from the one the trial saw, the file is not the trial's data and the result says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from lstmexp.data import Series
from lstmexp.errors import DataError
from lstmexp.evaluate import evaluate, predict_windows
from lstmexp.spec import ExperimentSpec
from lstmexp.trial import TrialParams, build_model, cached_series
from lstmexp.weights import load_kept, weights_dir


@dataclass(frozen=True)
class Forecast:
    frame: pd.DataFrame  # one row per (window, step): first_target_row, step, forecast_<col>, actual_<col>
    mse: float  # scaled, as the benchmark tables report it
    mae: float
    trial_test_mse: float | None  # what the search recorded for this trial (test split)
    same_scaler: bool  # False: the file's train rows give another scaler than the trial's data did


def best_trial_number(storage_url: str, study: str) -> int:
    """The trial the report recommends as most accurate (`report.configs.best_configuration`)."""
    from lstmexp.report.configs import best_configuration
    from lstmexp.report.load import load_trials
    from lstmexp.storage import load_existing_study, open_storage

    storage = open_storage(storage_url, create=False)
    loaded = load_trials(load_existing_study(storage_url, study, storage), storage)
    best = best_configuration(loaded.frame, loaded.distribution_json)
    if best is None:
        raise DataError(f"study {study!r} has no completed trial to forecast with; run the search first")
    return int(best["trial"])


def forecast(storage_url: str, study: str, number: int, data_path: str | None, split: str = "test") -> Forecast:
    """Forecast every `split` window of `data_path` (default: the trial's own data) with kept trial `number`."""
    state, meta = load_kept(weights_dir(storage_url, study), number)
    raw = meta["spec"]
    if data_path is not None:
        raw["data"]["path"] = data_path
    spec = ExperimentSpec.model_validate(raw)
    params = TrialParams(**meta["params"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    if not isinstance(series, Series):
        raise DataError("lstmexp predict forecasts series (a file or a built-in series), not episode tasks")
    model = build_model(spec, params, series)
    model.load_state_dict(state)
    scores = evaluate(model, series, split, params.time_step, spec.data.horizon)
    return Forecast(
        frame=forecast_frame(model, series, split, params, spec.data.horizon),
        mse=scores.mse,
        mae=scores.mae,
        trial_test_mse=meta.get("test_mse"),
        same_scaler=same_scaler(series, meta["scaler"]),
    )


@torch.inference_mode()
def forecast_frame(
    model: torch.nn.Module, series: Series, split: str, params: TrialParams, horizon: int
) -> pd.DataFrame:
    """Long table of forecasts and actual values, in the data's own units."""
    model.eval()
    starts = series.sample_starts(split, params.time_step, horizon)
    predictions, targets = predict_windows(model, series, starts, params.time_step, horizon)
    shape = predictions.shape  # (windows, horizon, outputs)
    pred = series.to_units(predictions.double().cpu().numpy()).reshape(-1, shape[-1])
    true = series.to_units(targets.double().cpu().numpy()).reshape(-1, shape[-1])
    frame = pd.DataFrame({
        "first_target_row": np.repeat(starts.cpu().numpy(), shape[1]),
        "step": np.tile(np.arange(1, shape[1] + 1), shape[0]),
    })
    for index, column in enumerate(series.target_columns):
        frame[f"forecast_{column}"] = pred[:, index]
        frame[f"actual_{column}"] = true[:, index]
    return frame


def same_scaler(series: Series, saved: dict[str, list[float]]) -> bool:
    offset, scale = np.asarray(saved["offset"]), np.asarray(saved["scale"])
    current = series.scaler
    return offset.shape == current.offset.shape and bool(
        np.allclose(offset, current.offset) and np.allclose(scale, current.scale)
    )
