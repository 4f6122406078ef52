"""lstmexp.search.liveness: a worker killed with -9 loses no completed trial; its trial is retried once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.trial import TrialState

from lstmexp.search import count_done
from lstmexp.storage.urls import load_existing_study


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
            # a running trial that holds its whole configuration: killed between two suggestions it
            # would hold only some parameters, and its retry could not be compared with it
            and any(t.state == TrialState.RUNNING and len(t.params) == 3 for t in states(url, "killed")),
            timeout=180,
            what="a completed trial while another trains",
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


def test_a_finished_process_is_dead_and_a_live_one_is_not():
    from lstmexp.search.liveness import process_start, this_worker, worker_is_dead

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        host = this_worker().split(":")[0]
        alive = f"{host}:{child.pid}:{process_start(child.pid)}"
        assert process_start(child.pid) != "?"  # psutil knows the start time, /proc or not
        assert not worker_is_dead(alive)
        assert worker_is_dead(f"{host}:{child.pid}:12345.00")  # same pid, another start: a reused pid
    finally:
        child.kill()
        child.wait()
    assert worker_is_dead(alive)
    assert not worker_is_dead(this_worker())
