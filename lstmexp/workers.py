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
from collections.abc import Callable
from typing import Any

from lstmexp.errors import LstmexpError, StorageError
from lstmexp.spec import ExperimentSpec
from lstmexp.storage import allows_concurrent_writers, mask_url


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
    from lstmexp.search import SearchSummary, count_done, create_or_resume, preflight, target_count
    from lstmexp.storage import open_storage

    if not allows_concurrent_writers(storage_url):
        raise StorageError(
            f"--workers {workers} needs a storage safe for concurrent writers, not {mask_url(storage_url)!r} "
            "(SQLite locks under several writers); use --storage journal:///results/NAME.journal "
            "or postgresql://user@host/db"
        )
    preflight(spec)
    study = create_or_resume(spec, open_storage(storage_url, create=True))
    done_before = count_done(study)
    observer.study_ready(study.study_name, done_before, target_count(spec))
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=share_cores, args=(entry or quiet_worker, spec.to_dict(), storage_url, index, workers),
                        name=f"worker-{index}")
        for index in range(workers)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    done = count_done(create_or_resume(spec, open_storage(storage_url, create=False)))
    failed = [p for p in processes if p.exitcode != 0]
    if failed:
        codes = ", ".join(f"{p.name} exit {p.exitcode}" for p in failed)
        raise LstmexpError(
            f"{len(failed)} of {workers} workers stopped abnormally ({codes}); {done} trials are saved: "
            "run the same command to resume"
        )
    return SearchSummary(study.study_name, mask_url(storage_url), done, target_count(spec), done - done_before)


def quiet_worker(spec_dict: dict[str, Any], storage_url: str, index: int) -> None:
    """One worker process that prints nothing (tests, benchmarks): the study records every trial."""
    from lstmexp.search import run_search

    run_search(ExperimentSpec.model_validate(spec_dict), storage_url, worker_index=index)


def share_cores(entry: WorkerEntry, spec_dict: dict[str, Any], storage_url: str, index: int, workers: int) -> None:
    """Run a worker's entry after telling the thread policy that `workers` processes share the cores."""
    from lstmexp.measure import set_workers

    set_workers(workers)
    entry(spec_dict, storage_url, index)
