"""Evaluation: a model's errors on a split, scaled and in the target's units, against the naive forecast.

Stateless models are scored on windows; stateful ones on one stream from row 0 (its state warmed up
on every row before the split); either way on the same samples, so both are comparable (C14).
Both honour the run's autocast setting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.training.model import LSTMForecaster, forward_steps
from lstmexp.training.step import MixedPrecision

EVAL_BATCH = 2048  # evaluation batch: large enough to be fast, small enough to bound memory


@dataclass(frozen=True)
class Evaluation:
    """Errors on one split, scaled and in the target's own units, with the naive baseline's MSE."""

    mse: float
    mae: float
    mse_units: float
    mae_units: float
    naive_mse: float
    naive_mse_units: float
    samples: int

    @property
    def rmse(self) -> float:
        return math.sqrt(self.mse)

    @property
    def rmse_units(self) -> float:
        return math.sqrt(self.mse_units)

    @property
    def skill(self) -> float:
        """1 - MSE / MSE of repeating the last observed value: > 0 beats the naive forecast."""
        return 1.0 - self.mse / self.naive_mse if self.naive_mse > 0 else float("nan")


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    series: Series,
    split: str,
    time_step: int,
    horizon: int = 1,
    starts: torch.Tensor | None = None,
    amp: str | None = None,
    stateful: bool = False,
) -> Evaluation:
    """MSE/MAE of the model on a split (scaled and in units), and of repeating the last value.

    Stateless: windows of time_step rows. Stateful: one stream from row 0, so the state is warmed up
    on every row before the split; either way the samples (first target rows) are the same.
    """
    model.eval()
    if starts is None:
        starts = series.sample_starts(split, time_step, horizon)
    with MixedPrecision(series.device, amp).autocast():
        predict = predict_stream if stateful else predict_windows
        predictions, targets = predict(model, series, starts, time_step, horizon)
    naive = series.last_observed_target(starts).unsqueeze(1).expand_as(targets)
    return score(series, predictions, targets, naive)


def predict_windows(
    model: nn.Module, series: Series, starts: torch.Tensor, time_step: int, horizon: int
) -> tuple[torch.Tensor, torch.Tensor]:
    predictions, targets = [], []
    for chunk in torch.split(starts, EVAL_BATCH):
        inputs, target = series.batch(chunk, time_step, horizon)
        predictions.append(model(inputs).float())
        targets.append(target)
    return torch.cat(predictions), torch.cat(targets)


def predict_stream(
    model: nn.Module, series: Series, starts: torch.Tensor, time_step: int, horizon: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run one stream from row 0 up to the last input row; the forecasts made after row t - 1 target
    rows [t, t + h), so they are read at `starts - 1`."""
    if not isinstance(model, LSTMForecaster):
        raise TypeError(f"stateful evaluation needs an LSTMForecaster, got {type(model).__name__}")
    last_input_row = int(starts[-1].item())  # rows [0, last_input_row) are fed
    every_step, _ = forward_steps(model, series.inputs[:last_input_row].unsqueeze(0), None)
    _, targets = series.batch(starts, 1, horizon)
    return every_step[0, starts - 1].float(), targets


def score(series: Series, predictions: torch.Tensor, targets: torch.Tensor, naive: torch.Tensor) -> Evaluation:
    """Errors of predictions and of the naive forecast against the targets, scaled and in units."""
    pred = predictions.double().cpu().numpy()
    true = targets.double().cpu().numpy()
    last = naive.double().cpu().numpy()
    pred_units, true_units, last_units = (series.to_units(a) for a in (pred, true, last))
    return Evaluation(
        mse=float(np.mean((pred - true) ** 2)),
        mae=float(np.mean(np.abs(pred - true))),
        mse_units=float(np.mean((pred_units - true_units) ** 2)),
        mae_units=float(np.mean(np.abs(pred_units - true_units))),
        naive_mse=float(np.mean((last - true) ** 2)),
        naive_mse_units=float(np.mean((last_units - true_units) ** 2)),
        samples=int(pred.shape[0]),
    )


@torch.inference_mode()
def accuracy(model: nn.Module, series: Series, split: str, time_step: int) -> float:
    """Share of samples whose most probable class is the labelled one (classification tasks)."""
    model.eval()
    hits = 0
    starts = series.sample_starts(split, time_step, 1)
    for chunk in torch.split(starts, EVAL_BATCH):
        inputs, target = series.batch(chunk, time_step, 1)
        hits += int((model(inputs).argmax(dim=-1) == target.argmax(dim=-1)).sum().item())
    return hits / starts.numel()
