"""Which process trains a trial, whether it is still alive, and recovery of trials left by dead workers.

RDB storages also have Optuna's heartbeat (stale after 30 s, for workers on other machines); the
journal file has none, and a dead process on this machine can be recognised at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

import optuna
import psutil
from optuna.trial import TrialState

from lstmexp.storage.optuna_compat import fail_running_trial
from lstmexp.vocabulary.attrs import KEPT_ON_RETRY, LOST_ATTR, WORKER_ATTR

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

RUN_ENV = "LSTMEXP_RUN_ID"  # a search command's id, handed to its worker processes


def this_run() -> str:
    """The id of the search command this process serves: its parent's (workers), else a new one."""
    return os.environ.get(RUN_ENV) or uuid.uuid4().hex


def this_worker() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start(pid)}"


def process_start(pid: int) -> str:
    """The process's start time (tells a live pid from a reused one), through psutil so that it works
    where there is no /proc (macOS, Windows); "?" when the platform cannot tell."""
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.Error, OSError):
        return "?"


def worker_is_dead(worker: str) -> bool:
    """True only when the worker ran on this machine and its process is gone (other hosts: heartbeat)."""
    host, _, rest = worker.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return started != "?" and process_start(pid) != started


def recover_dead_workers(study: optuna.Study, trials: Sequence[FrozenTrial] | None = None) -> int:
    """Fail the RUNNING trials whose worker died on this machine (kill -9) and retry each once.

    `trials`: the study's trials as just read (else they are read here)."""
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
    failed = 0
    if trials is None:
        trials = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in (t for t in trials if t.state == TrialState.RUNNING):
        worker = trial.user_attrs.get(WORKER_ATTR)
        if worker is None or not worker_is_dead(worker):
            continue
        lost = fail_running_trial(study, trial, LOST_ATTR, f"worker {worker} died while training it")
        if lost is None:
            continue  # another worker recovered it first
        # the retry starts clean (the dead worker's id and notes stay on the failed trial) but keeps what it is
        lost.user_attrs = {key: value for key, value in lost.user_attrs.items() if key in KEPT_ON_RETRY}
        retry(study, lost)
        failed += 1
    return failed
