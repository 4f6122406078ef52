"""Per-window input normalisation (last value, RevIN-style) and the `lstmexp datasets` command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lstmexp.data import Series
from lstmexp.errors import DataError
from lstmexp.model import LSTMForecaster, WindowNormalized
from lstmexp.spec import load_spec
from lstmexp.trial import TrialParams, build_model, cached_series

CPU = torch.device("cpu")


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


def test_normalisation_in_the_spec_wraps_the_model_and_needs_targets_among_inputs():
    spec = load_spec(None, ["data.rows=400", "data.normalization=revin", "data.mode=S"])
    series = cached_series(spec.data.model_dump_json(), "cpu")
    assert isinstance(build_model(spec, TrialParams(16, 8, 8), series), WindowNormalized)
    outside = Series.from_frame(
        pd.DataFrame({"x": np.arange(50.0), "y": np.arange(50.0)}), ["y"], ["x"], (0.6, 0.2, 0.2), "none", CPU
    )
    with pytest.raises(DataError, match=r"needs every target among the inputs"):
        build_model(spec, TrialParams(16, 8, 8), outside)


def test_normalisation_is_searchable():
    spec = load_spec(None, ["search.space.normalization=[none, last, revin]"])
    assert spec.search.space.normalization == ("none", "last", "revin")
    assert spec.with_normalization("last").data.normalization == "last"


def test_datasets_lists_builtins_and_describes_a_file(cli, workdir):
    listed = cli("datasets")
    assert listed.code == 0
    for name in ("synthetic", "adding", "classify"):
        assert name in listed.out
    (workdir / "d.csv").write_text("date,a,y\n2020-01-01,1,2\n2020-01-02,2,3\n2020-01-03,3,5\n2020-01-04,4,7\n")
    described = cli("datasets", "describe", "d.csv", "-o", "data.split.rows={train: 2, val: 1, test: 1}")
    assert described.code == 0, described.err
    for figure in ("rows", "4", "a, y", "date", "2020-01-01 00:00:00 to 2020-01-04 00:00:00", "rows [2, 3): 1"):
        assert figure in described.out
    missing = cli("datasets", "describe", "nope.csv")
    assert missing.code == 2 and "nope.csv does not exist" in missing.err
    adding = cli("datasets", "describe", "adding")
    assert adding.code == 0 and "6,000 sequences" in adding.out
