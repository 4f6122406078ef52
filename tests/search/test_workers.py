"""lstmexp.search.workers: several processes on one study (journal file, PostgreSQL)."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from lstmexp.search import count_done
from lstmexp.search.workers import run_workers, threads_per_worker
from lstmexp.storage.urls import load_existing_study
from lstmexp.trial.record import trial_figures
from tests.conftest import needs_postgres
from tests.search_specs import Lines, small, trained


def test_threads_are_split_between_workers():
    from lstmexp.measure import cpu_count

    assert threads_per_worker(2, None) == max(1, cpu_count() // 2)
    assert threads_per_worker(2, 3) == 3  # an explicit spec value wins


def test_a_grid_with_two_workers_covers_each_point_exactly_once(tmp_path):
    url = f"journal:///{tmp_path}/grid.journal"
    summary = run_workers(small("grid2", "search.sampler=grid", "search.trials=100"), url, 2, Lines())
    assert (summary.done, summary.target) == (8, 8)  # capped at the grid's 2 x 2 x 2 points
    study = load_existing_study(url, "grid2")
    points = [tuple(t.params[k] for k in ("batch_size", "time_step", "hidden_size")) for t in trained(study)]
    assert sorted(points) == sorted({(b, t, h) for b in (16, 32) for t in (4, 8) for h in (4, 8)})
    assert len({trial_figures(t.user_attrs)["worker"] for t in study.get_trials()}) == 2  # both processes trained
    # a worker that read the study before the other's last trial ended may ask one more, skipped untrained
    assert all(trial_figures(t.user_attrs)["torch_threads"] == threads_per_worker(2, None) for t in trained(study))


def test_workers_refuse_sqlite(tmp_path, cli):
    result = cli("search", "--workers", "2", "--storage", f"sqlite:///{tmp_path}/x.db", "-o", "data.rows=600")
    assert result.code == 2
    assert "needs a storage safe for concurrent writers" in result.err and "journal:///" in result.err


@pytest.mark.postgres
@needs_postgres()
def test_two_workers_on_postgresql_finish_with_exactly_n_trials(fresh_postgres):
    # keep_best=0: a database server has no folder, kept weights would land in the working tree's results/
    spec = small("pg-two", "search.sampler=random", "search.trials=5", "search.keep_best=0")
    summary = run_workers(spec, fresh_postgres, 2, Lines())  # an empty database: the tables are made here
    study = load_existing_study(fresh_postgres, "pg-two")
    assert summary.done == 5 and count_done(study) == 5
    assert len(trained(study)) == 5
    assert all(t.state == TrialState.COMPLETE for t in trained(study))


def test_the_workers_summary_says_why_a_budget_stopped_the_search(tmp_path, cli):
    url = f"journal:///{tmp_path}/budget.journal"
    summary = run_workers(small("cpu2", "search.trials=20", "search.max_cpu_minutes=0.0001"), url, 2, Lines())
    assert summary.done < 20
    assert summary.budget_stop is not None and summary.budget_stop.startswith("max_cpu_minutes 0.0001 reached after")
    result = cli("search", "--workers", "2", "--storage", f"journal:///{tmp_path}/wall.journal", "--trials", "20",
                 "--timeout", "0.0001", "-o", "data.rows=600", "-o", "train.epochs=1")
    assert result.code == 0, result.err
    assert "stopped early: max_minutes 0.0001 reached after" in result.err
