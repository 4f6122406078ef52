"""The network's wrappers: per-window normalisation (last value, RevIN-style)."""

from __future__ import annotations

import torch

from lstmexp.training.model import LSTMForecaster, WindowNormalized


def forecaster() -> LSTMForecaster:
    torch.manual_seed(0)
    return LSTMForecaster(input_size=3, hidden_size=8, output_size=2, horizon=4)


def test_last_value_normalisation_predicts_the_change_from_the_last_value():
    model = WindowNormalized(forecaster(), "last", target_index=[2, 0])
    windows = torch.randn(5, 12, 3)
    shift = torch.tensor([3.0, -7.0, 100.0])
    out, shifted = model(windows), model(windows + shift)
    assert out.shape == (5, 4, 2)
    # A level shift of the inputs moves the forecast of each target by that target's shift, exactly.
    torch.testing.assert_close(shifted - out, shift[[2, 0]].expand(5, 4, 2), atol=1e-4, rtol=0)
    # The inner model sees the window minus its last value: for a constant window, the forecast is
    # that constant plus what the inner model says for an all-zero window.
    constant = torch.full((1, 12, 3), 9.0)
    torch.testing.assert_close(model(constant), model.inner(torch.zeros(1, 12, 3)) + 9.0)


def test_revin_normalisation_restores_the_window_scale_and_level():
    model = WindowNormalized(forecaster(), "revin", target_index=[1, 2])
    windows = torch.randn(4, 16, 3)
    out = model(windows)
    scaled = model(windows * 10.0 + 5.0)  # the same shape at another level and scale
    torch.testing.assert_close(scaled, out * 10.0 + 5.0, atol=1e-3, rtol=1e-4)
