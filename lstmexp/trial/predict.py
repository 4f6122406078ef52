"""Forecasting with a kept trial's weights (`lstmexp predict`): no training, forecasts in the data's units.

The trial's spec is rebuilt with `data.path` pointing at the given file, the model is rebuilt with the
trial's sizes and its saved state_dict loaded (weights only, each file checked to be this trial's by
lstmexp.trial.weights), and every window of the chosen split is forecast. Whatever does not fit (a spec the
index cannot give, a --data file for a study of built-in data, weights of another shape) is one line.
The file is scaled as in training (a scaler fitted on its train rows); when that scaler
differs from the one the trial saw, the file is not the trial's data and the result says so.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from pydantic import ValidationError

from lstmexp.data import Series
from lstmexp.errors import DataError, LstmexpError
from lstmexp.spec import ExperimentSpec
from lstmexp.spec.loading import describe_validation_error
from lstmexp.spec.searchable import sized, with_values
from lstmexp.training.evaluate import evaluate, predict_windows
from lstmexp.training.model import build_model
from lstmexp.trial.run import series_of
from lstmexp.trial.weights import load_kept, remedy, weights_dir
from lstmexp.vocabulary.names import TEST_MSE


@dataclass(frozen=True)
class Forecast:
    frame: pd.DataFrame  # one row per (window, step): first_target_row, step, forecast_<col>, actual_<col>
    mse: float  # scaled, as the benchmark tables report it
    mae: float
    trial_test_mse: float | None  # what the search recorded for this trial (test split)
    same_scaler: bool  # False: the file's train rows give another scaler than the trial's data did


def forecast(storage_url: str, study: str, number: int, data_path: str | None, split: str = "test") -> Forecast:
    """Forecast every `split` window of `data_path` (default: the trial's own data) with kept trial `number`."""
    folder = weights_dir(storage_url, study)
    state, meta = load_kept(folder, study, number)
    spec = trial_setup(meta, folder / f"trial_{number}.json", data_path)
    series = series_of(spec, "cpu")
    if not isinstance(series, Series):
        raise DataError("lstmexp predict forecasts series (a file or a built-in series), not episode tasks")
    model = build_model(spec, series)
    check_fits(model, state, series, folder / f"trial_{number}.pt", data_path, meta.get("input_columns"))
    model.load_state_dict(state)
    scores = evaluate(model, series, split, spec.data.time_step, spec.data.horizon)
    return Forecast(
        frame=forecast_frame(model, series, split, spec.data.time_step, spec.data.horizon),
        mse=scores.mse,
        mae=scores.mae,
        trial_test_mse=meta.get(TEST_MSE),
        same_scaler=same_scaler(series, meta["scaler"]),
    )


def trial_setup(meta: dict[str, Any], meta_file: Path, data_path: str | None) -> ExperimentSpec:
    """The trial's spec (its data swapped for `data_path`), from its checked index.

    The index's `params` (the sizes) are set on the spec: a trial kept before the sizes were spec
    fields stored them only there."""
    raw = copy.deepcopy(meta["spec"])
    data = raw.get("data")
    if data_path is not None and isinstance(data, dict):
        if data.get("path") is None:
            raise LstmexpError(
                f"study {meta['study']!r} was trained on the built-in dataset {data.get('dataset')!r}, so --data "
                "cannot apply (its weights expect that dataset's columns): drop --data to forecast the built-in "
                f"data, or search a study on your file (-o data.path={data_path} -o data.target=COLUMN)")
        data["path"] = data_path
    try:
        return with_values(ExperimentSpec.model_validate(raw), sized(meta["params"]))
    except (ValidationError, TypeError) as exc:
        sizes = "sizes other than batch_size, time_step, hidden_size"
        problem = describe_validation_error(exc) if isinstance(exc, ValidationError) else sizes
        trial = int(meta["number"])
        raise LstmexpError(f"kept index {meta_file} describes no trial this lstmexp can rebuild ({problem}); "
                           f"{remedy(meta_file.parent, trial)}") from None


def check_fits(
    model: torch.nn.Module,
    state: dict[str, torch.Tensor],
    series: Series,
    weights: Path,
    data_path: str | None,
    trained_on: list[str] | None,
) -> None:
    """The kept tensors must be exactly the model's (names and shapes): else say which side does not fit."""
    expected = model.state_dict()
    wrong = sorted(name for name in expected.keys() | state.keys()
                   if name not in state or name not in expected or state[name].shape != expected[name].shape)
    if not wrong:
        return
    name = wrong[0]
    kept = tuple(state[name].shape) if name in state else "absent"
    built = tuple(expected[name].shape) if name in expected else "absent"
    wanted = f"the input columns the trial was trained on ({listed(trained_on)})" if trained_on else \
        "the columns the trial was trained on"
    if data_path is not None:
        raise DataError(f"--data {data_path} gives the model {series.input_size} input columns "
                        f"({listed(series.input_columns)}), which the kept weights {weights} do not fit "
                        f"({name}: kept {kept}, built {built}): give a file with {wanted}")
    raise DataError(f"kept weights {weights} do not fit the model their trial's spec builds from its data "
                    f"({name}: kept {kept}, built {built}): the data changed since the search; "
                    f"pass --data FILE with {wanted}")


def listed(columns: list[str], most: int = 8) -> str:
    return ", ".join(map(str, columns[:most])) + (f", ... ({len(columns)} in all)" if len(columns) > most else "")


@torch.inference_mode()
def forecast_frame(
    model: torch.nn.Module, series: Series, split: str, time_step: int, horizon: int
) -> pd.DataFrame:
    """Long table of forecasts and actual values, in the data's own units."""
    model.eval()
    starts = series.sample_starts(split, time_step, horizon)
    predictions, targets = predict_windows(model, series, starts, time_step, horizon)
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
