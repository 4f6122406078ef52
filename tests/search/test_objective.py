"""lstmexp.search.objective: objectives, budgets, constraints, and failures recorded as data."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from lstmexp.errors import SpecError
from lstmexp.search import run_search
from lstmexp.storage.urls import load_existing_study
from lstmexp.trial.record import trial_figures
from tests.search_specs import journal, tiny, trials_of
from tests.trial.test_run import make_trials_diverge, raise_oom_in_forward


def test_two_objectives_give_a_pareto_study_and_pruning_there_is_refused(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("pareto", "search.objectives=[val_loss,samples_per_s]"), url)
    study = load_existing_study(url, "pareto")
    assert [d.name for d in study.directions] == ["MINIMIZE", "MAXIMIZE"]
    complete = study.get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 3
    for trial in complete:
        figures = trial_figures(trial.user_attrs)
        assert trial.values == [figures["val_loss_best"], figures["samples_per_s"]]
    assert study.best_trials  # Optuna's Pareto front over the recorded values
    with pytest.raises(SpecError, match="cannot prune a multi-objective study"):
        tiny("x", "search.objectives=[val_loss,peak_memory]", "search.pruner=median")
    with pytest.raises(SpecError, match=r"needs train\.target_val_loss"):
        tiny("x", "search.objectives=time_to_target")


def test_time_to_target_objective_is_training_seconds_until_the_target(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("ttt", "search.objectives=time_to_target", "train.target_val_loss=100", "train.epochs=2"), url)
    for trial in trials_of(url, "ttt"):
        # any val loss is below 100: reached after the first of the two epochs
        attrs = trial_figures(trial.user_attrs)
        assert attrs["epochs_to_target"] == 1
        assert 0 < trial.value < 2 * (attrs["train_s_per_epoch"] + attrs["eval_s_per_epoch"])
    run_search(tiny("never", "search.objectives=time_to_target", "train.target_val_loss=1e-9", "search.trials=1"), url)
    assert trials_of(url, "never")[0].value == float("inf")


def test_a_too_low_speed_floor_marks_trials_infeasible_through_optuna_constraints(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("slow", "search.constraints.min_samples_per_s=1e12"), url)
    trials = trials_of(url, "slow")
    assert all(t.constraints["min_samples_per_s"] > 0 for t in trials)
    from lstmexp.search import best_value

    assert best_value(load_existing_study(url, "slow")) is None  # nothing infeasible is recommended


def test_the_memory_estimate_skips_configurations_that_cannot_fit(tmp_path):
    url = journal(tmp_path)
    # batch 16 x T 4 x (6*8 + 5 inputs) floats = 13.3 KiB of activations fits under 20KiB; double either: 26.5 KiB
    summary = run_search(tiny("cap", "search.constraints.max_memory=20KiB", "search.sampler=grid",
                              "search.trials=4"), url)
    assert summary.done == 4
    trials = trials_of(url, "cap")
    skipped = [t for t in trials if trial_figures(t.user_attrs).get("failure_reason") == "infeasible"]
    assert sorted((t.params["batch_size"], t.params["time_step"]) for t in skipped) == [(16, 8), (32, 4), (32, 8)]
    assert all(t.state == TrialState.FAIL and t.constraints["max_memory"] > 0 for t in skipped)
    assert all("train_s_per_epoch" not in trial_figures(t.user_attrs) for t in skipped)  # never trained


def test_forced_oom_and_divergence_are_recorded_while_the_study_finishes(tmp_path, monkeypatch):
    url = journal(tmp_path)
    raise_oom_in_forward(monkeypatch, from_batch=32)
    summary = run_search(tiny("oom", "search.sampler=grid", "search.trials=4"), url)
    assert summary.done == 4
    by_batch = {}
    for trial in trials_of(url, "oom"):
        by_batch.setdefault(trial.params["batch_size"], []).append(trial)
    assert all(t.state == TrialState.COMPLETE for t in by_batch[16])
    for trial in by_batch[32]:
        figures = trial_figures(trial.user_attrs)
        assert trial.state == TrialState.FAIL and figures["failure_reason"] == "oom"
        assert trial.params["time_step"] in (4, 8) and isinstance(figures["peak_mem_bytes"], int)
    monkeypatch.undo()

    make_trials_diverge(monkeypatch)
    summary = run_search(tiny("diverge"), url)
    assert summary.done == 3
    reasons = {trial_figures(t.user_attrs).get("failure_reason") for t in trials_of(url, "diverge")}
    assert reasons == {"diverged"}


def test_a_samples_budget_stops_training_mid_epoch(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("budget", "train.epochs=5", "train.max_samples=100", "search.space.batch_size=[16]"), url)
    for trial in trials_of(url, "budget"):
        attrs = trial_figures(trial.user_attrs)
        assert attrs["budget_reached"] is True and attrs["epochs_run"] == 1
        assert 100 <= attrs["samples_seen"] < 100 + 16
        assert attrs["iterations_per_epoch"] * 16 > attrs["samples_seen"]  # the epoch was cut short


def test_a_seconds_budget_compares_batch_sizes_at_equal_training_time(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("seconds", "train.epochs=500", "train.patience=null", "train.max_seconds=0.3", "search.trials=2",
                    "search.sampler=grid", "search.space.time_step=[4]"), url)
    for trial in trials_of(url, "seconds"):
        attrs = trial_figures(trial.user_attrs)
        trained_s = attrs["train_s_per_epoch"] * attrs["epochs_run"]
        assert attrs["budget_reached"] is True and attrs["epochs_run"] < 500
        assert 0.3 <= trained_s < 0.3 + 2 * attrs["train_s_per_epoch"] + 0.5  # stops within the epoch that crosses
