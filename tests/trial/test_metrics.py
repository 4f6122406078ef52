"""Metrics: the combination of repeated runs."""

from __future__ import annotations

import numpy as np
import pytest

from lstmexp.trial.metrics import combine_repeats


def test_combine_repeats_statistics():
    runs = [{"val_loss_best": v, "samples_per_s": 10.0, "peak_mem_bytes": m} for v, m in ((1.0, 5), (3.0, 9))]
    combined = combine_repeats(runs)
    assert combined["val_loss_best"] == 2.0
    assert combined["val_loss_best_std"] == pytest.approx(np.sqrt(2.0))
    assert combined["val_loss_best_cv"] == pytest.approx(np.sqrt(2.0) / 2)
    assert combined["samples_per_s_std"] == 0.0
    assert combined["peak_mem_bytes"] == 9


def test_a_metric_missing_from_one_repeat_is_not_averaged():
    runs = [{"time_to_target_s": 1.0, "peak_mem_bytes": 1}, {"time_to_target_s": None, "peak_mem_bytes": 1}]
    combined = combine_repeats(runs)
    assert combined["time_to_target_s"] == 1.0 and "time_to_target_s_std" not in combined
