import math

import numpy as np
import pandas as pd
import pytest
import torch

from lstmexp.data import Scaler, Series, count_samples, count_windows, load_series
from lstmexp.data.synthetic import make_synthetic
from lstmexp.errors import DataError
from lstmexp.spec import DataSpec

CPU = torch.device("cpu")


def ramp_series(rows: int = 100, lookback: bool = False, scaling: str = "none") -> Series:
    """Column a = row index, b = 10 * row index, target y = -row index: every gathered value is checkable."""
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"a": index, "b": 10 * index, "y": -index})
    return Series.from_frame(
        frame, ["y"], ["a", "b"], split=(0.6, 0.2, 0.2), scaling=scaling, device=CPU, lookback=lookback
    )


def test_c2_window_count_of_the_documents_example():
    assert count_windows(30, 5) == 26
    assert count_samples(30, 5, horizon=1) == 25
    assert count_samples(30, 5, horizon=3) == 23
    assert count_windows(4, 5) == 0


def test_sample_count_per_split_is_n_minus_t_minus_h_plus_1():
    series = ramp_series(100)
    for split, rows in (("train", 60), ("val", 20), ("test", 20)):
        assert series.split_rows(split) == rows
        for t, h in ((5, 1), (7, 3)):
            assert series.sample_starts(split, t, h).numel() == count_samples(rows, t, h)


def test_lookback_lets_val_windows_reach_into_train():
    series = ramp_series(100, lookback=True)
    starts = series.sample_starts("val", 10, 1)
    assert starts[0].item() == 60  # first target row is the split's first row
    assert starts.numel() == 20


def test_c1_batch_shapes_and_contents():
    series = ramp_series(100)
    starts = torch.tensor([10, 25])
    inputs, targets = series.batch(starts, time_step=4, horizon=2)
    assert inputs.shape == (2, 4, 2)  # [batch_size, time_step, input_size]
    assert targets.shape == (2, 2, 1)  # [batch_size, horizon, output_size]
    assert inputs[0, :, 0].tolist() == [6, 7, 8, 9]  # rows t-T .. t-1
    assert inputs[1, :, 1].tolist() == [210, 220, 230, 240]
    assert targets[0, :, 0].tolist() == [-10, -11]  # rows t .. t+h-1
    assert series.last_observed_target(starts)[:, 0].tolist() == [-9, -24]


def test_scaler_is_fitted_on_train_rows_only():
    series = ramp_series(100, scaling="standard")
    train_rows = series.inputs[:60]
    assert train_rows.mean(0).abs().max().item() < 1e-5
    assert train_rows.std(0, unbiased=False).sub(1).abs().max().item() < 1e-5
    # val rows lie beyond the train range, so their scaled mean is far from 0
    assert series.inputs[60:80, 0].mean().item() > 1.5
    assert series.scaler.offset[0] == pytest.approx(29.5)  # mean of 0..59, not 0..99


def test_to_units_inverts_the_scaling_exactly():
    series = ramp_series(100, scaling="standard")
    scaled = series.targets[:, :].numpy().astype(np.float64)
    np.testing.assert_allclose(series.to_units(scaled)[:, 0], -np.arange(100), atol=1e-4)


def test_minmax_and_constant_columns():
    frame = pd.DataFrame({"c": np.ones(10), "y": np.arange(10.0)})
    scaler = Scaler.fit(frame.iloc[:6], "minmax")
    assert scaler.scale.tolist() == [1.0, 5.0]  # constant column left unscaled
    assert scaler.transform(frame.to_numpy())[5, 1] == pytest.approx(1.0)


def test_too_short_split_is_a_clear_error():
    series = ramp_series(100)
    with pytest.raises(DataError, match="the val split has 20 rows, too few for time_step=20"):
        series.sample_starts("val", 20, 1)


def test_synthetic_data_is_deterministic_and_multivariate():
    first, second = make_synthetic(500, seed=3), make_synthetic(500, seed=3)
    pd.testing.assert_frame_equal(first, second)
    assert not make_synthetic(500, seed=4).equals(first)
    assert list(first.columns) == ["season", "driver_a", "driver_b", "load", "y"]
    assert len(first) == 500 and not first.isna().any().any()


def test_load_series_splits_the_synthetic_dataset():
    series = load_series(DataSpec(rows=1000), CPU)
    assert series.bounds == {"train": (0, 700), "val": (700, 850), "test": (850, 1000)}
    assert series.input_size == 5 and series.output_size == 1
    assert math.isclose(series.inputs[:700].mean().item(), 0.0, abs_tol=1e-5)


def test_unknown_dataset():
    with pytest.raises(DataError, match="unknown dataset 'nope'; built-in datasets: adding, classify, synthetic"):
        load_series(DataSpec(dataset="nope"), CPU)


def test_by_default_every_time_step_is_scored_on_the_same_val_and_test_targets():
    series = load_series(DataSpec(rows=600), CPU)
    for split in ("val", "test"):
        short, long = series.sample_starts(split, 4), series.sample_starts(split, 64)
        assert torch.equal(short, long) and len(short) == series.split_rows(split)
def test_a_split_too_short_for_the_window_names_every_fix_in_the_o_form():
    frame = pd.DataFrame({"y": np.sin(np.arange(200.0))})
    series = Series.from_frame(frame, ["y"], ["y"], (0.7, 0.15, 0.15), "standard", torch.device("cpu"))
    with pytest.raises(DataError) as caught:
        series.sample_starts("val", 32)
    message = str(caught.value)
    assert message.startswith("the val split has 30 rows, too few for time_step=32 + horizon=1; fix: ")
    assert "-o data.lookback=true" in message and "--time-step 29" in message
    assert "-o data.split.val=" in message and "\n" not in message
    assert Series.from_frame(frame, ["y"], ["y"], (0.7, 0.15, 0.15), "standard", torch.device("cpu"),
                             lookback=True).sample_starts("val", 32).numel() == 30
