"""The linear skip beside the LSTM (model.skip=linear): what it adds, what it leaves alone, what it costs
in activation memory, and where it is refused (its FLOPs are checked with the other network options in
test_chunked_model.py)."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import torch

from lstmexp.data import Series
from lstmexp.errors import DataError, SpecError
from lstmexp.measure import estimate_activation_bytes, lstm_training_flops_per_sample
from lstmexp.spec import load_spec
from lstmexp.training.model import ChannelIndependent, LinearSkip, LSTMForecaster, WindowNormalized, build_model
from lstmexp.trial.run import cached_series
from tests.search_specs import sized

CPU = torch.device("cpu")


def seeded(**options: object) -> LSTMForecaster:
    torch.manual_seed(0)
    return LSTMForecaster(input_size=3, hidden_size=8, output_size=2, horizon=5, time_step=16, **options)  # type: ignore[arg-type]


def test_skip_maps_each_listed_column_over_time_with_one_shared_linear_layer():
    torch.manual_seed(0)
    skip = LinearSkip(time_step=6, horizon=4, columns=[2, 0])
    windows = torch.randn(3, 6, 3)
    out = skip(windows)
    assert out.shape == (3, 4, 2)
    for k, column in enumerate((2, 0)):
        torch.testing.assert_close(out[:, :, k], skip.linear(windows[:, :, column]))
    with pytest.raises(ValueError, match="windows of 6 steps, not 8"):
        skip(torch.randn(3, 8, 3))


@pytest.mark.parametrize("options", [{}, {"chunk": 4}, {"chunk": 4, "head": "segment"}])
def test_the_forecast_is_the_lstms_plus_the_skips(options):
    model = seeded(skip_columns=[1, 2], **options)
    assert isinstance(model.skip, LinearSkip)
    windows = torch.randn(4, 16, 3)
    lstm_alone = model.lstm_prediction(windows, None)
    torch.testing.assert_close(model(windows), lstm_alone + model.skip(windows))
    assert not torch.allclose(model(windows), lstm_alone)


def test_without_the_skip_the_model_is_unchanged_and_with_it_the_lstm_starts_from_the_same_weights():
    plain, skipped = seeded(chunk=4), seeded(chunk=4, skip_columns=[0, 1])
    assert plain.skip is None and set(plain.state_dict()) == {k for k in skipped.state_dict()
                                                              if not k.startswith("skip.")}
    for name, weight in plain.state_dict().items():
        assert torch.equal(weight, skipped.state_dict()[name]), name


def test_activation_estimate_keeps_the_skips_window():
    without = estimate_activation_bytes(32, 336, 64, 1, 1, chunk=24)
    assert estimate_activation_bytes(32, 336, 64, 1, 1, chunk=24, skip_columns=1) == without + 32 * 336 * 4


def three_columns(tmp_path) -> str:
    frame = np.random.default_rng(0).standard_normal((700, 3)).cumsum(0)
    path = tmp_path / "three.csv"
    path.write_text("a,b,c\n" + "\n".join(",".join(f"{v:.5f}" for v in row) for row in frame))
    return str(path)


def test_with_channel_independence_every_channel_gets_the_same_skip(tmp_path):
    spec = load_spec(None, [f"data.path={three_columns(tmp_path)}", "data.mode=M", "model.channels=independent",
                            "model.chunk=4", "model.skip=linear", "data.normalization=last", "data.horizon=6",
                            "train.device=cpu"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    model = build_model(sized(spec, 8, 16, 8), series)
    assert isinstance(model, ChannelIndependent)
    inner = model.inner
    assert isinstance(inner, WindowNormalized) and isinstance(inner.inner, LSTMForecaster)
    skip = inner.inner.skip
    assert isinstance(skip, LinearSkip) and skip.columns.tolist() == [0]  # each sample is one channel
    inputs, targets = series.batch(series.sample_starts("val", 16, 6), 16, 6)
    assert model(inputs).shape == targets.shape == (inputs.shape[0], 6, 3)


def test_joint_input_skips_the_target_columns_only(tmp_path):
    spec = load_spec(None, [f"data.path={three_columns(tmp_path)}", "data.mode=MS", "data.target=b",
                            "model.skip=linear", "data.horizon=6", "train.device=cpu"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    model = build_model(sized(spec, 8, 16, 8), series)
    assert isinstance(model, LSTMForecaster) and model.skip is not None
    assert model.skip.columns.tolist() == series.target_input_index == [1]


def test_skip_is_refused_where_a_target_is_not_an_input():
    frame = pd.DataFrame({"x": np.arange(300.0), "y": np.arange(300.0) ** 0.5})
    series = Series.from_frame(frame, ["y"], ["x"], (0.6, 0.2, 0.2), "standard", CPU)
    spec = sized(load_spec(None, ["model.skip=linear", "train.device=cpu"]), 8, 8, 8)
    with pytest.raises(DataError, match=re.escape("use -o model.skip=none")):
        build_model(spec, series)


def test_stateful_training_refuses_the_skip():
    with pytest.raises(SpecError, match=re.escape("use -o model.skip=none")):
        load_spec(None, ["train.stateful=true", "model.skip=linear"])
    with pytest.raises(SpecError, match=re.escape("use -o model.skip=none")):
        load_spec(None, ["train.stateful=true", "search.space.model.skip=[none,linear]"])
    with pytest.raises(SpecError, match=r"model\.skip"):
        load_spec(None, ["model.skip=nlinear"])


def test_trial_records_the_skip_and_counts_it():
    from lstmexp.trial.run import compute_of, setup_of

    plain = ["data.rows=900", "train.device=cpu", "model.chunk=4", "data.horizon=3", "train.batch_size=32",
             "data.time_step=16", "model.hidden_size=8"]
    spec, skipped = load_spec(None, plain), load_spec(None, [*plain, "model.skip=linear"])
    series, skipped_series = (cached_series(s.data.model_dump_json(), "cpu") for s in (spec, skipped))
    assert setup_of(spec, series).figures()["skip"] == "none"
    assert setup_of(skipped, skipped_series).figures()["skip"] == "linear"
    compute = compute_of(skipped, skipped_series, CPU)
    width = skipped_series.input_size
    assert compute.flops_per_sample == lstm_training_flops_per_sample(width, 8, 1, 16, 1, 3, 4, linear_skip=True)
    assert compute.activation_bytes == estimate_activation_bytes(32, 16, 8, 1, width, 4, skip_columns=1)
