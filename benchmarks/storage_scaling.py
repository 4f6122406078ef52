"""The distributed mode on PostgreSQL: N worker processes of very short trials on one study each.

For N in 1, 2, 4, 8, 16: a fresh study (unique name, deleted after) with N x --trials-per-worker
trials of a tiny model (one epoch of a few hundred rows), filled by N spawned processes that each run
`lstmexp.search.run_search`, as `lstmexp search --storage postgresql://...` on N machines would.
Each worker counts its SQL statements (a SQLAlchemy `before_cursor_execute` listener: one
statement is one round-trip to the server) and times every call into Optuna's RDBStorage (commits,
connection checks and heartbeats included, nested calls counted once). Printed per N:

- trials/hour: counted trials over the wall time from the first worker's start to the last's end;
- statements per trial: SQL statements of all workers (each a round trip to the server) / trials
  created (skipped ones included), table creation and study set-up included;
- storage share: time inside the storage / time inside run_search, summed over workers;
- exact: the study holds exactly its target of counted trials, none RUNNING.

The storage share is what says when to put Optuna's gRPC storage proxy in front of PostgreSQL
(see docs/safety.md, "Many workers on one database").

Usage: python benchmarks/storage_scaling.py [--workers 1 2 4 8 16] [--trials-per-worker 6]
       [--url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing
import threading
import time
import uuid
from typing import Any

URL = "postgresql://postgres@127.0.0.1:5432/test"
TINY = [
    "data.rows=400", "train.epochs=1", "train.device=cpu", "train.warmup_iters=1", "train.threads=1",
    "search.sampler=random", "search.pruner=none", "search.space.batch_size=[16,32]",
    "search.space.time_step=[4,8]", "search.space.hidden_size=[4,8]",
]


def count_storage_work() -> dict[str, float]:
    """Install, in this process, the statement counter and the timer around every RDBStorage call."""
    import optuna
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    totals = {"statements": 0.0, "storage_s": 0.0}
    depth = threading.local()

    @event.listens_for(Engine, "before_cursor_execute")
    def count(*args: Any) -> None:
        totals["statements"] += 1

    def timed(method: Any) -> Any:
        @functools.wraps(method)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            level = getattr(depth, "level", 0)
            depth.level = level + 1
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                depth.level = level
                if level == 0:  # a call made by another storage call is already inside its time
                    totals["storage_s"] += time.perf_counter() - started
        return wrapper

    storage_class = optuna.storages.RDBStorage
    for name, member in list(vars(storage_class).items()):
        if callable(member) and not name.startswith("_"):
            setattr(storage_class, name, timed(member))
    return totals


def worker(spec_dict: dict[str, Any], url: str, index: int, results: Any) -> None:
    from lstmexp.cli.launch import quiet_libraries
    from lstmexp.search import run_search
    from lstmexp.spec import ExperimentSpec

    quiet_libraries()
    totals = count_storage_work()
    started = time.time()
    run_search(ExperimentSpec.model_validate(spec_dict), url, worker_index=index)
    results.put({**totals, "started": started, "ended": time.time()})


def measure(workers: int, per_worker: int, url: str) -> dict[str, float]:
    import optuna
    from optuna.trial import TrialState

    from lstmexp.search import count_done, create_or_resume
    from lstmexp.spec import load_spec
    from lstmexp.storage.urls import open_storage

    name = f"scaling-{workers}-{uuid.uuid4().hex[:8]}"
    spec = load_spec(None, [*TINY, f"study={name}", f"search.trials={workers * per_worker}",
                            "search.keep_best=0"])  # no weights folder in the working tree's results/
    create_or_resume(spec, open_storage(url, create=True))
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    processes = [context.Process(target=worker, args=(spec.to_dict(), url, i, results)) for i in range(workers)]
    for process in processes:
        process.start()
    rows = [results.get() for _ in processes]
    for process in processes:
        process.join()
    try:
        study = optuna.load_study(study_name=name, storage=open_storage(url, create=True))
        trials = study.get_trials(deepcopy=False)
        done = count_done(study)
        stuck = sum(t.state == TrialState.RUNNING for t in trials)
    finally:
        optuna.delete_study(study_name=name, storage=open_storage(url, create=True))
    wall = max(r["ended"] for r in rows) - min(r["started"] for r in rows)
    searching = sum(r["ended"] - r["started"] for r in rows)
    return {
        "workers": workers, "target": workers * per_worker, "done": done, "created": len(trials),
        "stuck": stuck, "trials_per_hour": done / wall * 3600,
        "statements_per_trial": sum(r["statements"] for r in rows) / max(1, len(trials)),
        "storage_share": sum(r["storage_s"] for r in rows) / searching,
        "exit_codes_ok": all(p.exitcode == 0 for p in processes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--trials-per-worker", type=int, default=6)
    parser.add_argument("--url", default=URL)
    args = parser.parse_args()
    from lstmexp.cli.launch import quiet_libraries

    quiet_libraries()
    print(f"{'N':>3} {'target':>6} {'done':>5} {'made':>5} {'stuck':>5} {'trials/h':>9} "
          f"{'stmts/trial':>11} {'storage %':>9}  exact")
    for workers in args.workers:
        row = measure(workers, args.trials_per_worker, args.url)
        exact = row["done"] == row["target"] and row["stuck"] == 0 and row["exit_codes_ok"]
        print(f"{row['workers']:>3} {row['target']:>6} {row['done']:>5} {row['created']:>5} {row['stuck']:>5} "
              f"{row['trials_per_hour']:>9.0f} {row['statements_per_trial']:>11.1f} "
              f"{100 * row['storage_share']:>8.1f}%  {'yes' if exact else 'NO'}", flush=True)


if __name__ == "__main__":
    main()
