"""`--workers K`: K processes on one study, each trial using at most usable cores / K torch threads.

Processes, not `study.optimize(n_jobs=K)` threads: CPU training holds the GIL between torch calls
and every trial would share one intra-op thread pool. They start with the spawn method (forking a
process whose torch thread pools exist is unsafe). Each worker opens the storage itself and runs
`search.run_search`; trial numbers keep them from training more than the target between them.
"""

from __future__ import annotations

import multiprocessing
from typing import Any

from lstmexp.errors import LstmexpError, StorageError
from lstmexp.spec import ExperimentSpec
from lstmexp.storage import allows_concurrent_writers, mask_url


def threads_per_worker(workers: int, requested: int | None) -> int:
    """usable cores / K (at least 1) unless the spec fixes the thread count: no oversubscription.
    The most a worker's trial uses: its thread policy may choose fewer (`lstmexp.measure.threads`)."""
    from lstmexp.measure import usable_cores

    return requested if requested is not None else max(1, usable_cores() // workers)


def run_workers(spec: ExperimentSpec, storage_url: str, workers: int, observer: Any) -> Any:
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
        context.Process(target=worker_main, args=(spec.to_dict(), storage_url, index, workers), name=f"worker-{index}")
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


def worker_main(spec_dict: dict[str, Any], storage_url: str, index: int, workers: int = 1) -> None:
    """One worker process: print a line per trial it finishes (a live bar per worker would interleave).

    Its trials share the usable cores with `workers - 1` others: the thread policy divides them."""
    import optuna
    from rich.console import Console

    from lstmexp.measure import set_workers
    from lstmexp.progress import TrialLines
    from lstmexp.search import run_search

    set_workers(workers)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = ExperimentSpec.model_validate(spec_dict)
    lines = TrialLines(Console(stderr=True, soft_wrap=True), prefix=f"[worker {index}] ", announce=False)
    run_search(spec, storage_url, lines, worker_index=index)
