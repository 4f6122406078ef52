"""Several processes on one study: --workers on a journal file, kill -9 and resume, PostgreSQL workers."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid

import optuna
import pytest
from optuna.trial import TrialState

from lstmexp.search import SKIPPED_ATTR, count_done
from lstmexp.spec import load_spec
from lstmexp.storage import load_existing_study
from lstmexp.workers import run_workers, threads_per_worker
from tests.conftest import POSTGRES_URL, needs_postgres

SMALL = [
    "data.rows=600",
    "train.epochs=1",
    "train.device=cpu",
    "train.warmup_iters=1",
    "search.pruner=none",
    "search.space.batch_size=[16,32]",
    "search.space.time_step=[4,8]",
    "search.space.hidden_size=[4,8]",
]


class Lines:
    """Observer that keeps nothing (worker processes print their own lines)."""

    def study_ready(self, *args: object) -> None:
        pass


def small(study: str, *overrides: str):
    return load_spec(None, [*SMALL, f"study={study}", *overrides])


def trained(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials() if SKIPPED_ATTR not in t.user_attrs]


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
    assert len({t.user_attrs["worker"] for t in study.get_trials()}) == 2  # both processes trained
    assert all(t.user_attrs["torch_threads"] == threads_per_worker(2, None) for t in study.get_trials())


def test_workers_refuse_sqlite(tmp_path, cli):
    result = cli("search", "--workers", "2", "--storage", f"sqlite:///{tmp_path}/x.db", "-o", "data.rows=600")
    assert result.code == 2
    assert "needs a storage safe for concurrent writers" in result.err and "journal:///" in result.err


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def states(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return load_existing_study(url, name).get_trials()
    except Exception:  # the study or file may not exist yet
        return []


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_kill_minus_9_then_restart_loses_no_completed_trial(tmp_path, scheme):
    url = f"{scheme}:///{tmp_path}/killed.{'db' if scheme == 'sqlite' else 'journal'}"
    command = [
        sys.executable, "-m", "lstmexp", "search", "--study", "killed", "--storage", url, "--trials", "5",
        "--sampler", "random", "--pruner", "none", "-o", "data.rows=3000", "-o", "train.epochs=4",
        "-o", "train.device=cpu", "-o", "train.threads=1", "-o", "search.space.hidden_size=[32]",
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(
            lambda: any(t.state == TrialState.COMPLETE for t in states(url, "killed"))
            and any(t.state == TrialState.RUNNING for t in states(url, "killed")),
            timeout=180,
            what="a completed trial while another runs",
        )
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait()
    before = states(url, "killed")
    completed = {t.number: t.value for t in before if t.state == TrialState.COMPLETE}
    lost = [t.number for t in before if t.state == TrialState.RUNNING]
    assert len(lost) == 1

    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0, again.stderr
    study = load_existing_study(url, "killed")
    after = {t.number: t for t in study.get_trials()}
    assert {n: after[n].value for n in completed} == completed  # every completed trial is still there
    assert after[lost[0]].state == TrialState.FAIL and "died" in after[lost[0]].user_attrs["lost"]
    retries = [t for t in after.values() if t.system_attrs.get("failed_trial") == lost[0]]
    assert len(retries) == 1 and retries[0].params == after[lost[0]].params  # retried once, same configuration
    assert retries[0].state == TrialState.COMPLETE and "lost" not in retries[0].user_attrs
    assert count_done(study) == 5


@pytest.mark.postgres
@needs_postgres()
def test_two_workers_on_postgresql_finish_with_exactly_n_trials():
    name = f"pg-test-{uuid.uuid4().hex[:12]}"
    try:
        summary = run_workers(small(name, "search.sampler=random", "search.trials=5"), POSTGRES_URL, 2, Lines())
        study = load_existing_study(POSTGRES_URL, name)
        assert summary.done == 5 and count_done(study) == 5
        assert len(trained(study)) == 5
        assert all(t.state == TrialState.COMPLETE for t in trained(study))
    finally:
        from lstmexp.storage import open_storage

        with contextlib.suppress(KeyError):
            optuna.delete_study(study_name=name, storage=open_storage(POSTGRES_URL, create=False))


def test_each_worker_samples_its_own_sequence():
    from lstmexp.search import make_sampler, sampler_seed_offset

    assert [sampler_seed_offset("journal:///r.journal", i) for i in (0, 1)] == [0, 1]  # one worker: seed as given
    assert sampler_seed_offset(POSTGRES_URL, 0) == sampler_seed_offset(POSTGRES_URL, 0)  # per process, from host:pid

    def suggestions(offset: int) -> list[int]:
        study = optuna.create_study(sampler=make_sampler(small("seq", "search.sampler=random"), offset))
        study.optimize(lambda t: t.suggest_categorical("b", [16, 32, 64, 128]), n_trials=6)
        return [t.params["b"] for t in study.trials]

    assert suggestions(0) == suggestions(0)  # seeded
    assert suggestions(0) != suggestions(1)  # two workers of one study do not repeat each other
