"""Fault injection: kill -9 at random moments and inside storage writes, a full disk, a read-only
storage, and four workers on one study. Finished trials must never be lost, no trial may stay
RUNNING after a restart, and storage failures must be one clear line."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

from lstmexp.search import SKIPPED_ATTR, count_done
from lstmexp.search.workers import run_workers
from lstmexp.spec import load_spec
from lstmexp.storage.urls import load_existing_study
from tests.conftest import needs_postgres

SMALL_SEARCH = [
    "--sampler", "random", "--pruner", "none",
    "-o", "data.rows=1500", "-o", "train.epochs=2", "-o", "train.device=cpu", "-o", "train.threads=1",
    "-o", "search.space.batch_size=[16,32]", "-o", "search.space.time_step=[4,8]",
    "-o", "search.space.hidden_size=[8,16]",
]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def search_command(url: str, study: str, trials: int) -> list[str]:
    return [sys.executable, "-m", "lstmexp", "search", "--study", study, "--storage", url,
            "--trials", str(trials), *SMALL_SEARCH]


def snapshot(url: str, study: str) -> list[optuna.trial.FrozenTrial]:
    try:
        return load_existing_study(url, study).get_trials()
    except Exception:  # not created yet
        return []


def completed(trials: list[optuna.trial.FrozenTrial]) -> dict[int, float]:
    return {t.number: t.value for t in trials if t.state == TrialState.COMPLETE}


def restart_to_completion(cli, url: str, study: str, trials: int) -> None:
    """The same search run again to its target, in this process (`cli`, in the test's folder): only the
    kill needs a process of its own, and a restart here spares a new interpreter's imports (torch alone
    is seconds of CPU per start)."""
    threads = torch.get_num_threads()
    try:
        result = cli(*search_command(url, study, trials)[3:])  # drop `python -m lstmexp`
    finally:
        torch.set_num_threads(threads)  # the search's train.threads=1 must not outlive it here
    assert result.code == 0, result.err[-2000:]


def assert_whole(url: str, study: str, target: int, kept: dict[int, float]) -> None:
    trials = snapshot(url, study)
    assert not [t.number for t in trials if t.state == TrialState.RUNNING], "a trial is stuck RUNNING"
    now_complete = completed(trials)
    assert {n: now_complete.get(n) for n in kept} == kept, "a completed trial was lost or changed"
    assert count_done(load_existing_study(url, study)) == target


def storage_url(scheme: str, folder: Path) -> str:
    return f"sqlite:///{folder}/faults.db" if scheme == "sqlite" else f"journal:///{folder}/faults.journal"


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_kill_9_at_random_moments_ten_times_in_a_row(tmp_path, workdir, cli, scheme):
    url, study, chance = storage_url(scheme, tmp_path), "faults", random.Random(7)
    kept: dict[int, float] = {}
    for round_ in range(1, 11):
        target = 2 * round_
        process = subprocess.Popen(search_command(url, study, target), cwd=tmp_path, env=ENV,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(chance.uniform(0.5, 4.0))  # start-up, a data load, a training step or a storage write
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = completed(snapshot(url, study))
        assert {n: before.get(n) for n in kept} == kept, f"round {round_}: the kill lost a completed trial"
        restart_to_completion(cli, url, study, target)
        assert_whole(url, study, target, before)
        kept = completed(snapshot(url, study))


KILL_IN_COMMIT = """
import os, signal, sys
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import Engine

commits = {"n": 0}

@event.listens_for(Engine, "commit")
def die_inside_a_commit(connection):
    commits["n"] += 1
    if commits["n"] == int(os.environ["KILL_AT_COMMIT"]):
        os.kill(os.getpid(), signal.SIGKILL)  # SQL statements sent, transaction not committed

from lstmexp.cli.main import main
main(sys.argv[1:])
"""

KILL_IN_JOURNAL_APPEND = """
import os, signal, sys
from optuna.storages.journal import JournalFileBackend

original = JournalFileBackend.append_logs
appends = {"n": 0}

def torn_append(self, logs):
    appends["n"] += 1
    if appends["n"] == int(os.environ["KILL_AT_COMMIT"]):
        import json
        line = json.dumps(logs[0]) + "\\n"
        self._lock.acquire()  # as Optuna's append does: the dead writer leaves its lock behind
        with open(self._file_path, "ab") as log:
            log.write(line[: len(line) // 2].encode())  # half a record on disk, then death
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, logs)

JournalFileBackend.append_logs = torn_append
from lstmexp.cli.main import main
main(sys.argv[1:])
"""


@pytest.mark.slow
@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
@pytest.mark.parametrize("write", [25, 40])  # early and late among the ~50 writes of the search
def test_kill_9_inside_a_storage_write(tmp_path, workdir, cli, scheme, write):
    url, study = storage_url(scheme, tmp_path), "torn"
    wrapper = tmp_path / "die.py"
    wrapper.write_text(textwrap.dedent(KILL_IN_COMMIT if scheme == "sqlite" else KILL_IN_JOURNAL_APPEND))
    env = {**ENV, "KILL_AT_COMMIT": str(write)}
    args = search_command(url, study, 4)[3:]  # drop `python -m lstmexp`
    died = subprocess.run([sys.executable, str(wrapper), *args], cwd=tmp_path, env=env, capture_output=True,
                          timeout=300, check=False)
    assert died.returncode == -signal.SIGKILL, died.stderr[-2000:]
    before = completed(snapshot(url, study))
    restart_to_completion(cli, url, study, 4)
    assert_whole(url, study, 4, before)


def mount_tmpfs(folder: Path, size: str) -> None:
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI=true but tmpfs cannot be mounted: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a small tmpfs to fill (needs root): {done.stderr.strip()}")


def fill(folder: Path) -> None:
    """Write zeros until the file system is full."""
    with contextlib.suppress(OSError), (folder / "ballast").open("wb") as ballast:
        while True:
            ballast.write(b"\0" * 65536)
            ballast.flush()


def test_a_full_disk_is_a_clear_error_and_keeps_finished_trials(tmp_path, cli, tiny_spec):
    disk = tmp_path / "disk"
    mount_tmpfs(disk, "4m")
    try:
        url = f"sqlite:///{disk}/full.db"
        assert cli("search", str(tiny_spec), "--storage", url, "--trials", "1").code == 0
        kept = completed(snapshot(url, "tiny"))
        fill(disk)
        result = cli("search", str(tiny_spec), "--storage", url, "--trials", "3")
        assert result.code == 2, result.err
        lines = result.err.strip().splitlines()
        assert lines[-1].startswith("error: ") and "ran out of disk space" in lines[-1], result.err
        assert "Traceback" not in result.err
        (disk / "ballast").unlink()
        assert {n: v for n, v in completed(snapshot(url, "tiny")).items() if n in kept} == kept
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_read_only_storage_is_a_clear_error(tmp_path, cli, tiny_spec):
    url = f"sqlite:///{tmp_path}/ro.db"
    assert cli("search", str(tiny_spec), "--storage", url, "--trials", "1").code == 0
    database = tmp_path / "ro.db"
    before = database.read_bytes()
    locked = subprocess.run(["chattr", "+i", str(database)], capture_output=True, text=True, check=False)
    if locked.returncode != 0:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"CI=true but chattr +i failed: {locked.stderr.strip()}")
        pytest.skip(f"cannot make the file immutable here: {locked.stderr.strip()}")
    try:
        result = cli("search", str(tiny_spec), "--storage", url, "--trials", "3")
        assert result.code == 2, result.err
        line = result.err.strip().splitlines()[-1]
        assert line.startswith("error: ") and "read-only" in line, result.err
        assert "Traceback" not in result.err
        assert cli("report", "--storage", url).code == 0  # still readable
    finally:
        subprocess.run(["chattr", "-i", str(database)], check=False)
    assert database.read_bytes() == before


GRID_4 = [
    "data.rows=600", "train.epochs=1", "train.device=cpu", "train.warmup_iters=1", "search.pruner=none",
    "search.sampler=grid", "search.trials=100", "search.space.batch_size=[16,32]",
    "search.space.time_step=[4,8]", "search.space.hidden_size=[4,8,12]",
]


class Quiet:
    def study_ready(self, *args: object) -> None:
        pass


def assert_grid_covered_once(study: optuna.Study) -> None:
    trained = [t for t in study.get_trials() if SKIPPED_ATTR not in t.user_attrs]
    assert all(t.state == TrialState.COMPLETE for t in trained), [t.state for t in trained]
    points = sorted(tuple(t.params[k] for k in ("batch_size", "time_step", "hidden_size")) for t in trained)
    expected = sorted((b, t, h) for b in (16, 32) for t in (4, 8) for h in (4, 8, 12))
    assert points == expected  # each of the 12 points exactly once
    assert count_done(study) == 12


# A database server has no folder of its own: kept weights would land in the working tree's results/.
NO_WEIGHTS = "search.keep_best=0"


@pytest.mark.slow
def test_four_workers_on_a_local_journal_cover_a_grid_exactly_once(tmp_path):
    url = f"journal:///{tmp_path}/four.journal"
    summary = run_workers(load_spec(None, [*GRID_4, "study=four"]), url, 4, Quiet())
    assert (summary.done, summary.target) == (12, 12)
    assert_grid_covered_once(load_existing_study(url, "four"))


@pytest.mark.slow
@pytest.mark.postgres
@needs_postgres()
def test_four_workers_on_postgresql_cover_a_grid_exactly_once(fresh_postgres):
    summary = run_workers(load_spec(None, [*GRID_4, "study=four", NO_WEIGHTS]), fresh_postgres, 4, Quiet())
    assert (summary.done, summary.target) == (12, 12)
    assert_grid_covered_once(load_existing_study(fresh_postgres, "four"))
