"""Trials per hour with `--workers 2` against one worker, for small models (goal >= 1.6x).

Both runs train the same 36 grid points of a small LSTM on the built-in data through
`lstmexp.search.workers.run_workers` on a journal file: one worker with all cores' torch threads (what
`--workers 1` does), then two workers with cores / 2 each. One worker with cores / 2 threads is
printed too, to tell the gain from processes apart from the gain from fewer threads (on a busy
machine, intra-op threads that wait for each other cost a lot). The wall time includes starting the
worker processes, as a user sees it.

Run: .venv/bin/python benchmarks/parallel_workers.py   (about two minutes on 2 CPU cores)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import optuna

from lstmexp.measure import cpu_count
from lstmexp.search.workers import run_workers, threads_per_worker
from lstmexp.spec import load_spec

# The default dataset size (6,000 rows) and 36 grid points of small models, about a second each: a
# search long enough that starting the worker processes (a torch import each) is not most of it.
SPEC = [
    "data.rows=6000",
    "train.epochs=3",
    "train.device=cpu",
    "search.sampler=grid",
    "search.pruner=none",
    "search.trials=36",
    "search.space.batch_size=[16,32,64,128]",
    "search.space.time_step=[8,16,32]",
    "search.space.hidden_size=[16,32,64]",
]


class Silent:
    def study_ready(self, *args: object) -> None:
        pass


def trials_per_hour(workers: int, folder: Path, threads: int | None = None) -> float:
    name = f"workers-{workers}-threads-{threads}"
    spec = load_spec(None, [*SPEC, f"study={name}", f"train.threads={json.dumps(threads)}"])
    started = time.perf_counter()
    summary = run_workers(spec, f"journal:///{folder}/{name}.journal", workers, Silent())
    wall = time.perf_counter() - started
    rate = summary.done / wall * 3600
    print(f"{workers} worker(s), {threads_per_worker(workers, threads)} torch thread(s) each: "
          f"{summary.done} trials in {wall:.1f} s = {rate:.0f} trials/hour")
    return rate


def main() -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"{cpu_count()} CPU cores available")
    with tempfile.TemporaryDirectory() as folder:
        one = trials_per_hour(1, Path(folder))
        two = trials_per_hour(2, Path(folder))
        one_thin = trials_per_hour(1, Path(folder), threads=threads_per_worker(2, None))
    print(f"speed-up with 2 workers: {two / one:.2f}x against 1 worker (goal >= 1.6x for small models); "
          f"{two / one_thin:.2f}x against 1 worker with the same threads per worker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
