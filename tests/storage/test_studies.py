"""`lstmexp studies`, metric names for every Optuna client, the compact stored spec, and whole-study budgets."""

from __future__ import annotations

import time

from optuna.trial import TrialState

from lstmexp.report.people import format_number
from lstmexp.search import run_search
from lstmexp.search.budget import cpu_deadline
from lstmexp.spec.stored import SPEC_SCHEMA, SPEC_SCHEMA_ATTR
from lstmexp.storage.urls import SPEC_ATTR, load_existing_study
from lstmexp.trial.record import trial_figures
from lstmexp.vocabulary.names import BUDGET_REACHED, CPU_S, EPOCHS_RUN, STUDY_BUDGET_CUT
from tests.search_specs import tiny


def test_studies_lists_each_study_with_trials_best_value_and_dates(tmp_path, cli):
    url = f"sqlite:///{tmp_path}/l.db"
    run_search(tiny("first", "search.trials=2"), url)
    run_search(tiny("second", "search.trials=1"), url)
    result = cli("studies", "--storage", url)
    assert result.code == 0, result.err
    best = min(load_existing_study(url, "first").trials, key=lambda t: t.value)  # two configurations, one seed each
    first_line = next(line for line in result.out.splitlines() if "first" in line)
    assert f"{format_number(best.value)} over 1 seed (trial {best.number})" in first_line and " 2 " in first_line
    assert "second" in result.out
    assert cli("studies", "--storage", f"sqlite:///{tmp_path}/missing.db").code == 2


def test_the_study_names_its_metrics_and_stores_the_whole_spec_with_its_schema(tmp_path):
    url = f"sqlite:///{tmp_path}/m.db"
    run_search(tiny("named", "search.trials=1"), url)
    study = load_existing_study(url, "named")
    assert study.metric_names == ["val_loss"]
    stored = study.user_attrs[SPEC_ATTR]
    # Every field, defaults included, so a later change of a default cannot alter what this study ran.
    assert stored["data"]["rows"] == 600 and stored["data"]["dataset"] == "synthetic"
    assert "seed" in stored["train"] and "epochs" in stored["train"]
    assert study.user_attrs[SPEC_SCHEMA_ATTR] == SPEC_SCHEMA


def test_a_cpu_budget_stops_the_trial_that_spends_it_and_starts_no_other(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    # 500 epochs of a tiny model (no early stopping) take seconds of CPU; the budget is 0.6 CPU-seconds
    summary = run_search(tiny("cpu", "search.trials=5", "train.epochs=500", "train.patience=null",
                                     "search.max_cpu_minutes=0.01"), url)
    study = load_existing_study(url, "cpu")
    assert len(study.trials) == 1  # the first trial spends the budget; no second one starts
    figures = trial_figures(study.trials[0].user_attrs)
    assert study.trials[0].state == TrialState.COMPLETE and figures[BUDGET_REACHED] and figures[STUDY_BUDGET_CUT]
    assert figures[EPOCHS_RUN] < 500  # stopped where the budget ran out, keeping its best epoch so far
    assert summary.budget_stop == study.user_attrs["budget_stop"]
    assert study.user_attrs["budget_stop"].startswith("max_cpu_minutes 0.01 reached after 1 trials")


def test_a_trial_is_given_the_cpu_the_study_has_left(tmp_path):
    url = f"sqlite:///{tmp_path}/d.db"
    run_search(tiny("left", "search.trials=2"), url)
    trials = load_existing_study(url, "left").trials
    spent = sum(trial_figures(t.user_attrs)[CPU_S] for t in trials)
    assert spent > 0
    spec = tiny("left", "search.max_cpu_minutes=1")
    before = time.process_time()
    deadline = cpu_deadline(spec, trials)
    assert deadline is not None and before + 60 - spent <= deadline <= time.process_time() + 60 - spent
    assert cpu_deadline(tiny("left"), trials) is None
    # a designed study's trials are design points: the one running when the budget is spent finishes
    assert cpu_deadline(tiny("left", "search.max_cpu_minutes=1", "search.designed=true"), trials) is None


def test_a_wall_budget_stops_the_study_and_timeout_sets_it(tmp_path, cli, tiny_spec):
    url = f"sqlite:///{tmp_path}/t.db"
    result = cli("search", str(tiny_spec), "--storage", url, "--study", "wall", "--trials", "5", "--timeout", "0.0001")
    assert result.code == 0, result.err
    assert "stopped early: max_minutes 0.0001 reached after 1 trials" in result.err
    assert len(load_existing_study(url, "wall").trials) == 1
