"""Stateful training (C14): stream layout, no shuffling, trials and preflight (the loop itself: test_train)."""

from __future__ import annotations

import pytest
import torch

from lstmexp.data.streams import StreamLayout
from lstmexp.errors import DataError, SpecError
from lstmexp.spec import load_spec
from lstmexp.trial.run import run_trial
from tests.search_specs import sized

CPU = torch.device("cpu")


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


def test_stateful_and_stateless_trials_of_one_configuration_are_comparable():
    base = ["data.rows=400", "train.epochs=2", "train.device=cpu", "train.warmup_iters=1"]
    base = [*base, "train.batch_size=16", "data.time_step=12", "model.hidden_size=8"]  # set as any field is
    stateful = run_trial(load_spec(None, [*base, "train.stateful=true"])).figures()
    stateless = run_trial(load_spec(None, base)).figures()
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
        run_trial(sized(spec, 4, 10, 4))


def test_stateful_search_that_cannot_fit_stops_before_any_study(cli, workdir):
    storage = f"sqlite:///{workdir / 's.db'}"
    result = cli("search", "-o", "train.stateful=true", "-o", "data.rows=300", "-o", "search.space.batch_size=[256]",
                 "-o", "search.space.time_step=[8]",
                 "--storage", storage, "--trials", "1")
    assert result.code == 2 and "stateful training needs at least batch_size + horizon = 257" in result.err
    import optuna

    assert not (workdir / "s.db").exists() or optuna.get_all_study_names(storage) == []
