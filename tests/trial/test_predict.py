"""Kept weights of the best configurations, and `lstmexp predict` forecasting with them without training."""

from __future__ import annotations

import csv

import pytest
import torch

from lstmexp.report.run import load_report
from lstmexp.search import run_search
from lstmexp.trial.record import trial_figures
from lstmexp.trial.weights import kept_trials, load_kept, weights_dir
from tests.search_specs import tiny, trials_of


def test_only_the_best_k_configurations_keep_weights_as_tensors_only(tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    run_search(tiny("keep", "search.trials=4", "search.sampler=grid", "search.keep_best=2"), url)
    folder = weights_dir(url, "keep")
    assert folder == tmp_path / "w.weights" / "keep"
    values = sorted((t.value, t.number) for t in trials_of(url, "keep"))
    recommended = {int(r.config["trial"]) for r in load_report(url, "keep").recommendations if r.config}
    # the best two configurations (one trial each here) and whatever else the report recommends
    assert {t.number for t in kept_trials(folder)} == {n for _, n in values[:2]} | recommended
    state, meta = load_kept(folder, "keep", values[0][1])  # torch.load(weights_only=True): tensors only
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert set(meta["scaler"]) == {"offset", "scale"}


def test_predict_reloads_the_weights_and_reproduces_the_trials_test_mse(tmp_path, cli):
    url = f"sqlite:///{tmp_path}/p.db"
    run_search(tiny("pred", "search.trials=2", "train.epochs=2", "data.horizon=3"), url)
    best = min(trials_of(url, "pred"), key=lambda t: t.value)
    out = tmp_path / "forecast.csv"
    result = cli("predict", "pred", "--trial", str(best.number), "--storage", url, "--out", str(out))
    assert result.code == 0, result.err
    assert f"test MSE {trial_figures(best.user_attrs)['test_mse']:.6g}" in result.err
    rows = list(csv.DictReader(out.open()))
    assert rows[0].keys() == {"first_target_row", "step", "forecast_y", "actual_y"}
    assert {r["step"] for r in rows} == {"1", "2", "3"}
    # the units are the data's own: the mean of the actual values is the series' level, not ~0
    actual = [float(r["actual_y"]) for r in rows]
    assert abs(sum(actual) / len(actual)) > 1.0


def test_predict_on_a_trial_without_weights_is_one_line_listing_the_kept_ones(tmp_path, cli):
    url = f"sqlite:///{tmp_path}/q.db"
    run_search(tiny("few", "search.trials=3", "search.keep_best=1", "search.sampler=grid"), url)
    kept = kept_trials(weights_dir(url, "few"))
    # keep_best=1 keeps the best configuration and the fastest pick: at most 2 of the 3 trials
    numbers = {t.number for t in kept}
    other = next(t.number for t in trials_of(url, "few") if t.number not in numbers)
    result = cli("predict", "few", "--trial", str(other), "--storage", url)
    assert result.code == 2
    listed = ", ".join(str(t.number) for t in kept)
    assert f"kept trials: {listed}" in result.err and result.err.count("\n") == 1


@pytest.mark.parametrize("keep", [0])
def test_keep_best_zero_keeps_nothing(tmp_path, keep):
    url = f"sqlite:///{tmp_path}/z.db"
    run_search(tiny("none", "search.trials=1", f"search.keep_best={keep}"), url)
    assert not weights_dir(url, "none").exists()


def test_predict_without_a_trial_uses_the_reports_most_accurate_trial(tmp_path, cli):
    url = f"sqlite:///{tmp_path}/d.db"
    run_search(tiny("dflt", "search.trials=2", "search.sampler=grid"), url)
    recommended = int(load_report(url, "dflt").recommendations[0].config["trial"])
    result = cli("predict", "dflt", "--storage", url)
    assert result.code == 0, result.err
    assert f"trial {recommended}: the most accurate configuration's trial" in result.err
