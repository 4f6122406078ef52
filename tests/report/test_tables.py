"""Trade-off tables, Pareto front, recommendations and the fast loader, on studies with known metrics."""

from __future__ import annotations

import itertools
import math

import numpy as np
import optuna
import pandas as pd
import pytest

from lstmexp.report.build import build_report, tradeoff_table
from lstmexp.report.load import load_from_rdb, load_from_study
from lstmexp.report.pareto import pareto_front, pareto_mask
from lstmexp.report.recommend import recommend, spec_overrides
from lstmexp.spec import ExperimentSpec, load_spec
from lstmexp.storage.optuna_compat import read_rdb_trials
from lstmexp.units import MIB
from tests.report_studies import make_study, make_trial


def brute_force_front(costs: np.ndarray) -> list[bool]:
    def dominates(a, b):
        return all(x <= y for x, y in zip(a, b, strict=True)) and any(x < y for x, y in zip(a, b, strict=True))

    return [not any(dominates(other, point) for other in costs) for point in costs]


@pytest.mark.parametrize("seed", range(5))
def test_pareto_mask_matches_brute_force_with_ties(seed):
    costs = np.random.default_rng(seed).integers(0, 6, size=(120, 3)).astype(float)  # many ties
    assert pareto_mask(costs).tolist() == brute_force_front(costs)


def test_pareto_front_uses_completed_trials_and_maximises_speed():
    trials = [
        make_trial(16, 8, val_loss_best=0.1, samples_per_s=100, peak_mem_bytes=10),  # most accurate
        make_trial(32, 8, val_loss_best=0.2, samples_per_s=500, peak_mem_bytes=10),  # faster
        make_trial(64, 8, val_loss_best=0.3, samples_per_s=400, peak_mem_bytes=20),  # dominated by #1
        make_trial(128, 8, val_loss_best=0.4, samples_per_s=50, peak_mem_bytes=1),   # smallest memory
        make_trial(16, 16, state="pruned", val_loss_best=0.01, samples_per_s=9999, peak_mem_bytes=1),
    ]
    frame = load_from_study(make_study(trials)).frame
    front = pareto_front(frame)
    assert sorted(front["number"]) == [0, 1, 3]
    figures = frame.loc[frame.state == "complete", ["val_loss_best", "samples_per_s", "peak_mem_bytes"]]
    costs = figures.to_numpy() * np.array([1, -1, 1])
    expected = [n for n, keep in zip(figures.index, brute_force_front(costs), strict=True) if keep]
    assert sorted(front.index) == expected


def test_tradeoff_accuracy_from_completed_trials_speed_from_finished_trials():
    trials = [make_trial(16, 8, val_loss_best=0.2, samples_per_s=100),
              make_trial(16, 8, val_loss_best=0.4, samples_per_s=300),
              make_trial(16, 8, state="pruned", val_loss_best=5.0, samples_per_s=200),
              make_trial(16, 8, state="fail", failure_reason="oom", samples_per_s=1.0)]
    table = tradeoff_table(load_from_study(make_study(trials)).frame, "batch_size")
    row = table.iloc[0]
    assert row["trials"] == 3 and row["complete"] == 2
    assert row["val_loss_best"] == pytest.approx(0.3)  # the pruned 5.0 is left out
    assert row["samples_per_s"] == pytest.approx(200)  # the pruned trial's speed counts
    assert row["samples_per_s_iqr"] == pytest.approx(100)


def test_recommendations_pick_known_trials_and_commands_reproduce_the_spec():
    spec = load_spec(None, ["train.epochs=3", "data.rows=1500", 'train.device="cpu"', "model.dropout=0.1"]).to_dict()
    trials = [make_trial(16, 8, val_loss_best=0.100, samples_per_s=100, peak_mem_bytes=900 * 2**20),
              make_trial(64, 8, val_loss_best=0.105, samples_per_s=800, peak_mem_bytes=500 * 2**20),
              make_trial(256, 8, val_loss_best=0.300, samples_per_s=5000, peak_mem_bytes=100 * 2**20),
              make_trial(32, 16, val_loss_best=0.2, samples_per_s=300, peak_mem_bytes=200 * 2**20)]
    frame = load_from_study(make_study(trials)).frame
    picks = recommend(frame, spec, within_pct=10, max_memory=300 * MIB)
    assert [p.trial["number"] for p in picks] == [0, 1, 3]
    assert picks[1].command.startswith("lstmexp run --batch-size 64 --time-step 8 --hidden-size 16 ")
    overrides = [value for word, value in itertools.pairwise(picks[0].command.split()) if word == "-o"]
    rebuilt = load_spec(None, [o.strip("'") for o in overrides]).to_dict()
    assert {k: rebuilt[k] for k in ("data", "model", "train")} == {k: spec[k] for k in ("data", "model", "train")}
    assert spec_overrides(ExperimentSpec().to_dict()) == []
    none_fit = recommend(frame, spec, max_memory=MIB)[2]
    assert none_fit.trial is None and "smallest peak was 100 MiB" in none_fit.why


def test_fast_sql_loader_matches_optuna_get_trials(tmp_path):
    url = f"sqlite:///{tmp_path}/s.db"
    trials = [make_trial(b, t, h, state=s, val_loss_best=v)
              for (b, t, h, s, v) in [(16, 8, 16, "complete", 0.3), (32, 16, 32, "pruned", 0.6),
                                      (64, 8, 16, "complete", math.inf), (16, 32, 32, "complete", 0.2)]]
    trials.append(make_trial(256, 8, state="fail", failure_reason="oom", failure_detail="CUDA out of memory"))
    make_study(trials, storage=url)
    make_study([make_trial(8, 8)], name="other", storage=url)  # another study in the same file is not read
    storage = optuna.storages.RDBStorage(url)
    study = optuna.load_study(study_name="known", storage=storage)
    fast = load_from_rdb(read_rdb_trials(storage, "known"))
    plain = load_from_study(study)
    pd.testing.assert_frame_equal(fast.frame.sort_index(axis=1), plain.frame.sort_index(axis=1), check_dtype=False)
    assert fast.curves == plain.curves and set(fast.curves) == {0, 1, 2, 3, 4}
    assert fast.distributions == plain.distributions
    assert fast.frame["value"].tolist()[2] == math.inf
    assert fast.frame.loc[4, "failure_reason"] == "oom"


def test_build_report_sections_are_filled():
    trials = [make_trial(b, t, val_loss_best=0.1 * b / 16 + 0.01 * t, samples_per_s=100.0 * b / t)
              for b in (16, 32, 64) for t in (8, 16) for _ in range(2)]
    loaded = load_from_study(make_study(trials))
    report = build_report("known", "mem", {}, loaded.frame, curves=loaded.curves, distributions=loaded.distributions)
    assert report.matrices["val_loss_best"].shape == (3, 2)
    assert report.matrices["val_loss_best"].loc[16, 8] == pytest.approx(0.18)
    assert set(report.importance["param"]) == {"batch_size", "time_step", "hidden_size"}
    assert report.importance["accuracy (val loss)"].sum() == pytest.approx(1.0)
    assert set(report.curves) == set(report.best["number"])
    assert report.compute["epochs"] == 48


def test_optional_metrics_get_their_own_tradeoff_table_only_when_recorded():
    plain = load_from_study(make_study([make_trial(16, 8), make_trial(32, 8)])).frame
    assert build_report("s", "m", {}, plain, importance=False).extra_tradeoffs == {}
    trials = [make_trial(16, 8, hw_efficiency_pct=10.0, time_to_target_s=5.0),
              make_trial(32, 8, hw_efficiency_pct=20.0, time_to_target_s=3.0),
              make_trial(32, 8, state="pruned", hw_efficiency_pct=30.0, time_to_target_s=1.0)]
    report = build_report("s", "m", {}, load_from_study(make_study(trials)).frame, importance=False)
    table = report.extra_tradeoffs["batch_size"].set_index("batch_size")
    assert table.loc[32, "hw_efficiency_pct"] == 25.0  # a cost: the pruned trial counts
    assert table.loc[32, "time_to_target_s"] == 3.0  # not a cost: completed trials only


def test_loader_falls_back_to_get_trials_when_the_schema_is_unknown(tmp_path, monkeypatch):
    import lstmexp.report.load as load
    import lstmexp.storage.optuna_compat as compat

    url = f"sqlite:///{tmp_path}/s.db"
    make_study([make_trial(16, 8), make_trial(32, 8)], storage=url)
    storage = optuna.storages.RDBStorage(url)
    # a column this reader expects but another Optuna's schema lacks
    monkeypatch.setattr(compat, "TRIALS_SQL", compat.TRIALS_SQL.replace("datetime_start", "no_such_column"))
    assert compat.read_rdb_trials(storage, "known") is None
    loaded = load.load_trials(optuna.load_study(study_name="known", storage=storage), storage)
    assert list(loaded.frame["batch_size"]) == [16, 32]


def test_the_sqlite_file_reader_needs_no_optuna_and_matches_the_standard_reader(tmp_path):
    """The report's read-only path opens the file itself, without Optuna's storage."""
    import subprocess
    import sys

    from lstmexp.report.load import load_sqlite
    from lstmexp.storage.optuna_compat import read_sqlite_study

    path = tmp_path / "s.db"
    trials = [make_trial(b, 8, extra={"train.lr": lr, "normalization": norm}, val_loss_best=0.1 * b)
              for b in (16, 32) for lr in (0.001, 0.003) for norm in ("none", "revin")]
    trials.append(make_trial(64, 8, state="pruned"))
    make_study(trials, storage=f"sqlite:///{path}", spec={"train": {"epochs": 4}})
    make_study([make_trial(8, 8)], name="other", storage=f"sqlite:///{path}")
    stored = read_sqlite_study(path, "known")
    fast = load_sqlite(stored)
    plain = load_from_study(optuna.load_study(study_name="known", storage=f"sqlite:///{path}"))
    pd.testing.assert_frame_equal(fast.frame.sort_index(axis=1), plain.frame.sort_index(axis=1), check_dtype=False)
    assert fast.distribution_json == plain.distribution_json and fast.curves == plain.curves
    assert fast.ranges["train.lr"] == (1e-4, 1e-2) and "normalization" not in fast.ranges
    assert stored.user_attrs["lstmexp_spec"] == {"train": {"epochs": 4}} and stored.directions == ["minimize"]
    assert read_sqlite_study(path, "missing") is None and read_sqlite_study(path, None) is None  # two studies
    assert read_sqlite_study(tmp_path / "none.db", "known") is None
    (tmp_path / "junk.db").write_text("not a database")
    assert read_sqlite_study(tmp_path / "junk.db", "known") is None
    probe = ("import sys; from lstmexp.report.run import load_report; "
             f"r = load_report('sqlite:///{path}', 'known'); "
             "print(len(r.all_trials), sorted(m for m in ('sqlalchemy', 'torch', 'alembic') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["9", "[]"]  # every trial, and neither torch nor Optuna's storage machinery
