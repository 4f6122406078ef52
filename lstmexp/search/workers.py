"""`--workers K`: K processes on one study, each trial using at most usable cores / K torch threads.

Processes, not `study.optimize(n_jobs=K)` threads: CPU training holds the GIL between torch calls
and every trial would share one intra-op thread pool. They start with the spawn method (forking a
process whose torch thread pools exist is unsafe). Each worker opens the storage itself and runs
`search.run_search`; trial numbers keep them from training more than the target between them.

What a worker process shows is its caller's choice: `entry` is the function each process runs
(the CLI passes one that prints a line per trial; the default prints nothing). It must be a
module-level function, since spawn pickles it by name.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from typing import Any

from lstmexp.errors import LstmexpError, StorageError
from lstmexp.interrupt import starting_children
from lstmexp.spec import ExperimentSpec
from lstmexp.storage.urls import allows_concurrent_writers, mask_url


def threads_per_worker(workers: int, requested: int | None) -> int:
    """usable cores / K (at least 1) unless the spec fixes the thread count: no oversubscription.
    The most a worker's trial uses: its thread policy may choose fewer (`lstmexp.measure.threads`)."""
    from lstmexp.measure import usable_cores

    return requested if requested is not None else max(1, usable_cores() // workers)


# (spec as a dict, storage URL, worker index): what each worker process runs.
WorkerEntry = Callable[[dict[str, Any], str, int], None]


def run_workers(
    spec: ExperimentSpec, storage_url: str, workers: int, observer: Any, entry: WorkerEntry | None = None
) -> Any:
    """Create (or resume) the study here, then let `workers` processes fill it to its target."""
    from lstmexp.search import count_done, create_or_resume, preflight, target_count
    from lstmexp.search.liveness import this_run
    from lstmexp.search.observe import summarize
    from lstmexp.storage.urls import open_storage
    from lstmexp.vocabulary.attrs import BUDGET_ATTR

    if not allows_concurrent_writers(storage_url):
        raise StorageError(
            f"--workers {workers} needs a storage safe for concurrent writers, not {mask_url(storage_url)!r} "
            "(SQLite locks under several writers); use --storage journal:///results/NAME.journal "
            "or postgresql://user@host/db"
        )
    preflight(spec)
    study = create_or_resume(spec, open_storage(storage_url, create=True))
    if study.user_attrs.get(BUDGET_ATTR):
        study.set_user_attr(BUDGET_ATTR, "")  # a resumed study: the last run's budget no longer applies
    done_before = count_done(study)
    started = time.monotonic()
    observer.study_ready(study.study_name, done_before, target_count(spec))
    run_id = this_run()
    processes = start_workers(entry or quiet_worker, spec, storage_url, workers, run_id)
    for process in processes:
        process.join()
    study = create_or_resume(spec, open_storage(storage_url, create=True))
    done = count_done(study)
    failed = [p for p in processes if p.exitcode != 0]
    if failed:
        codes = ", ".join(f"{p.name} exit {p.exitcode}" for p in failed)
        raise LstmexpError(
            f"{len(failed)} of {workers} workers stopped abnormally ({codes}); {done} trials are saved: "
            "run the same command to resume"
        )
    target = target_count(spec)
    stopped = budget_stop(spec, study, done < target, time.monotonic() - started)
    return summarize(study, mask_url(storage_url), target, run_id, stopped)


def start_workers(
    entry: WorkerEntry, spec: ExperimentSpec, storage_url: str, workers: int, run_id: str
) -> list[Any]:
    """Spawn the worker processes; they inherit this command's run id, so its summary counts their trials."""
    from lstmexp.search.liveness import RUN_ENV

    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=share_cores, args=(entry, spec.to_dict(), storage_url, index, workers),
                        name=f"worker-{index}")
        for index in range(workers)
    ]
    previous = os.environ.get(RUN_ENV)
    os.environ[RUN_ENV] = run_id  # a spawned process starts with this process's environment
    try:
        with starting_children(processes):  # they ignore Ctrl-C; this process forwards a stop to them
            for process in processes:
                process.start()
    finally:
        if previous is None:
            os.environ.pop(RUN_ENV, None)
        else:
            os.environ[RUN_ENV] = previous
    return processes


def budget_stop(spec: ExperimentSpec, study: Any, short: bool, elapsed_s: float) -> str | None:
    """Why a budget ended the workers' search, as the single process says it (None: it did not).

    A worker records the reason on the study when its budget check stops it; one that started late
    may have cleared that record as a resumed study's, so the reason is also worked out here.
    """
    from lstmexp.search.budget import budget_reason
    from lstmexp.vocabulary.attrs import BUDGET_ATTR

    if not short:
        return None
    return study.user_attrs.get(BUDGET_ATTR) or budget_reason(spec, study, elapsed_s)


def quiet_worker(spec_dict: dict[str, Any], storage_url: str, index: int) -> None:
    """One worker process that prints nothing (tests, benchmarks): the study records every trial."""
    from lstmexp.search import run_search

    run_search(ExperimentSpec.model_validate(spec_dict), storage_url, worker_index=index)


def share_cores(entry: WorkerEntry, spec_dict: dict[str, Any], storage_url: str, index: int, workers: int) -> None:
    """Run a worker's entry after telling the thread policy that `workers` processes share the cores."""
    from lstmexp.measure import set_workers

    set_workers(workers)
    entry(spec_dict, storage_url, index)
