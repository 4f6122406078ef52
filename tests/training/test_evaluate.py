"""Evaluation: errors in real units, the naive baseline, skill, and stateful scoring on the stateless samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.training.evaluate import evaluate
from lstmexp.training.model import LSTMForecaster, forward_steps

CPU = torch.device("cpu")


def sine_ramp(rows: int = 200, scaling: str = "standard") -> Series:
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"x": np.sin(index), "y": index})
    return Series.from_frame(frame, ["y"], ["x", "y"], (0.6, 0.2, 0.2), scaling, CPU)


def ramp(rows: int = 100) -> Series:
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"x": index, "y": -index})
    return Series.from_frame(frame, ["y"], ["x", "y"], split=(0.6, 0.2, 0.2), scaling="none", device=CPU)


class Constant(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 1, 1), self.value) + 0 * self.dummy


def test_errors_in_units_invert_the_scaling_exactly():
    series = sine_ramp(200)
    ev = evaluate(Constant(0.25), series, "test", time_step=5)
    scale = series.scaler.scale[-1]
    assert ev.mse_units == pytest.approx(ev.mse * scale**2, rel=1e-9)
    assert ev.mae_units == pytest.approx(ev.mae * scale, rel=1e-9)
    assert ev.rmse_units == pytest.approx(np.sqrt(ev.mse_units))


@pytest.mark.parametrize("horizon", [1, 3])
def test_naive_baseline_on_a_ramp_is_known_in_closed_form(horizon):
    # y = row index: repeating the last value is off by 1, 2, ..., h steps -> MSE = mean(k^2)
    ev = evaluate(Constant(0.0), sine_ramp(200, scaling="none"), "val", time_step=5, horizon=horizon)
    expected = np.mean([k**2 for k in range(1, horizon + 1)])
    assert ev.naive_mse_units == pytest.approx(expected)
    assert ev.naive_mse == pytest.approx(expected)  # unscaled: units and scaled agree


def test_skill_score_is_one_minus_the_mse_ratio():
    ev = evaluate(Constant(0.0), sine_ramp(200), "val", time_step=5)
    assert ev.skill == pytest.approx(1 - ev.mse / ev.naive_mse)


def test_stateful_evaluation_warms_up_and_scores_the_stateless_samples():
    series = ramp(100)
    torch.manual_seed(0)
    model = LSTMForecaster(2, 4, 1, horizon=3)
    stateful = evaluate(model, series, "test", time_step=5, horizon=3, stateful=True)
    stateless = evaluate(model, series, "test", time_step=5, horizon=3)
    assert stateful.samples == stateless.samples == 20 - 5 - 3 + 1
    assert stateful.naive_mse == stateless.naive_mse  # same samples, same targets
    # By hand: run rows 0..(last input row) through the LSTM and read the forecast after row t-1.
    starts = series.sample_starts("test", 5, 3)
    with torch.no_grad():
        every, _ = forward_steps(model, series.inputs[: int(starts[-1])].unsqueeze(0), None)
    _, targets = series.batch(starts, 5, 3)
    expected = torch.mean((every[0, starts - 1].double() - targets.double()) ** 2).item()
    assert stateful.mse == pytest.approx(expected)
