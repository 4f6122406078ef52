"""The record's repeats: means over runs with their spread, the first run's value when a run lacks a figure."""

from __future__ import annotations

import numpy as np
import pytest

from lstmexp.trial.metrics import Spreads


class Run:
    def __init__(self, value: float | None) -> None:
        self.value = value


def test_repeated_figures_are_means_with_std_and_cv():
    spreads = Spreads([Run(1.0), Run(3.0)])  # type: ignore[list-item]
    assert spreads.mean("val_loss_best", lambda r: r.value) == 2.0
    std, cv = spreads.spread["val_loss_best"]
    assert std == pytest.approx(np.sqrt(2.0)) and cv == pytest.approx(np.sqrt(2.0) / 2)


def test_a_figure_missing_from_one_repeat_is_not_averaged():
    spreads = Spreads([Run(1.0), Run(None)])  # type: ignore[list-item]
    assert spreads.mean("time_to_target_s", lambda r: r.value) == 1.0
    assert "time_to_target_s" not in spreads.spread


def test_one_run_has_no_spread():
    spreads = Spreads([Run(5.0)])  # type: ignore[list-item]
    assert spreads.mean("test_mse", lambda r: r.value) == 5.0 and spreads.spread == {}
