"""Stateful training (C14): stream layout, state carried from batch to batch, reset per epoch, no shuffling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import lstmexp.train as train_module
from lstmexp.data import Series
from lstmexp.data.streams import StreamLayout
from lstmexp.errors import DataError, SpecError
from lstmexp.model import LSTMForecaster, forward_steps
from lstmexp.spec import load_spec
from lstmexp.train import TrainConfig, evaluate, evaluate_stateful, train_stateful
from lstmexp.trial import TrialParams, run_trial

CPU = torch.device("cpu")


def ramp(rows: int = 100) -> Series:
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"x": index, "y": -index})
    return Series.from_frame(frame, ["y"], ["x", "y"], split=(0.6, 0.2, 0.2), scaling="none", device=CPU)


def test_stream_layout_cuts_contiguous_streams_walked_in_chunks():
    layout = StreamLayout.for_split((0, 60), batch_size=4, time_step=5, horizon=2)
    assert layout.length == 14  # (60 - 2) // 4 input rows per stream
    assert layout.chunks == 3 and layout.samples == 56
    assert layout.rows(0, CPU).tolist() == [[0, 1, 2, 3, 4], [14, 15, 16, 17, 18], [28, 29, 30, 31, 32],
                                            [42, 43, 44, 45, 46]]
    assert layout.rows(1, CPU)[:, 0].tolist() == [5, 19, 33, 47]  # batch k+1 continues batch k
    assert layout.rows(2, CPU).tolist()[0] == [10, 11, 12, 13]  # the last chunk is shorter
    walked = torch.cat([layout.rows(k, CPU) for k in range(layout.chunks)], dim=1)
    assert walked.flatten().tolist() == list(range(56))  # every row once, in order: no shuffling
    with pytest.raises(DataError, match=r"needs at least batch_size \+ horizon = 62 train rows"):
        StreamLayout.for_split((0, 60), batch_size=60, time_step=5, horizon=2)


def test_state_after_batch_k_is_the_initial_state_of_batch_k_plus_1(monkeypatch):
    calls: list[tuple[object, tuple[torch.Tensor, torch.Tensor], torch.Tensor]] = []

    def recording(model, inputs, state):
        predictions, new_state = forward_steps(model, inputs, state)
        if model.training:
            calls.append((state, tuple(s.detach().clone() for s in new_state), inputs[:, 0, 0].clone()))
        return predictions, new_state

    monkeypatch.setattr(train_module, "forward_steps", recording)
    series = ramp(100)
    torch.manual_seed(0)
    model = LSTMForecaster(2, 4, 1, horizon=2)
    config = TrainConfig(batch_size=3, time_step=6, epochs=2, lr=1e-2, horizon=2, warmup_iters=0)
    result = train_stateful(model, series, config)
    per_epoch = result.iterations_per_epoch
    assert per_epoch == 4 and len(calls) == 2 * per_epoch  # (60 - 2) // 3 = 19 rows per stream, T=6
    for epoch in range(2):
        first = epoch * per_epoch
        assert calls[first][0] is None  # reset at each epoch start
        for k in range(first + 1, first + per_epoch):
            state_in, previous_out = calls[k][0], calls[k - 1][1]
            assert not state_in[0].requires_grad  # detached: back-propagation is truncated
            torch.testing.assert_close(state_in[0], previous_out[0])
            torch.testing.assert_close(state_in[1], previous_out[1])
        # the first row of each batch: streams start at 0, 19, 38 and advance by T
        assert [calls[first + k][2].tolist() for k in range(2)] == [[0, 19, 38], [6, 25, 44]]


def test_stateful_evaluation_warms_up_and_scores_the_stateless_samples():
    series = ramp(100)
    torch.manual_seed(0)
    model = LSTMForecaster(2, 4, 1, horizon=3)
    stateful = evaluate_stateful(model, series, "test", time_step=5, horizon=3)
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


def test_stateful_and_stateless_trials_of_one_configuration_are_comparable():
    base = ["data.rows=400", "train.epochs=2", "train.device=cpu", "train.warmup_iters=1"]
    params = TrialParams(batch_size=16, time_step=12, hidden_size=8)
    stateful = run_trial(load_spec(None, [*base, "train.stateful=true"]), params)
    stateless = run_trial(load_spec(None, base), params)
    assert stateful["stateful"] is True and stateless["stateful"] is False
    assert stateful["test_naive_mse"] == stateless["test_naive_mse"]  # scored on the same samples
    assert stateful["iterations_per_epoch"] == 2  # ceil(((280 - 1) // 16) / 12)
    for metrics in (stateful, stateless):
        assert metrics["mode"] == "MS" and metrics["horizon"] == 1 and metrics["normalization"] == "none"


def test_stateful_rejects_window_normalisation_and_episode_tasks():
    with pytest.raises(SpecError, match=r"train.stateful walks streams"):
        load_spec(None, ["train.stateful=true", "data.normalization=last"])
    spec = load_spec(None, ["train.stateful=true", "data.dataset=adding", "data.rows=100", "train.device=cpu"])
    with pytest.raises(DataError, match=r"needs a series"):
        run_trial(spec, TrialParams(batch_size=4, time_step=10, hidden_size=4))


def test_stateful_search_that_cannot_fit_stops_before_any_study(cli, workdir):
    storage = f"sqlite:///{workdir / 's.db'}"
    result = cli("search", "-o", "train.stateful=true", "-o", "data.rows=300", "-o", "search.space.batch_size=[256]",
                 "-o", "search.space.time_step=[8]",
                 "--storage", storage, "--trials", "1")
    assert result.code == 2 and "stateful training needs at least batch_size + horizon = 257" in result.err
    import optuna

    assert not (workdir / "s.db").exists() or optuna.get_all_study_names(storage) == []
