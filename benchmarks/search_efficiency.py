"""How much compute TPE with pruning needs to get within 2% of the full grid's best val loss.

On the built-in synthetic data (2,000 rows, 6 epochs), over the default spec's space (60 points):
the full grid (every point, no pruning) gives the best val loss and the grid's compute (sum of
trial seconds). TPE with the median pruner then runs, resumed 4 trials at a time, until a
completed trial is within 2% of that best; its compute up to and including that trial, over the
grid's, is the figure (goal <= 25%). TPE with successive halving, and random sampling with the
median pruner (the baseline TPE must beat, one seed), run the same way. Three sampler seeds for
each TPE search (search.seed); the training seed is the same everywhere, so every search trains the grid's models.

Run: .venv/bin/python benchmarks/search_efficiency.py   (a few minutes on 2 CPU cores)
"""

from __future__ import annotations

import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from lstmexp.search import run_search
from lstmexp.spec import load_spec
from lstmexp.storage.urls import load_existing_study

WITHIN = 0.02
CHUNK = 4
SEEDS = (0, 1, 2)
# (sampler, pruner, seeds): random sampling is the baseline, one seed (it runs the full 60 trials
# when it never gets within 2%, which is what it did on 3 of 3 seeds in the first runs).
STRATEGIES = (("tpe", "median", SEEDS), ("tpe", "successive-halving", SEEDS), ("random", "median", (0,)))
SPACE = [
    "data.rows=2000",
    "train.epochs=6",
    "train.device=cpu",
    "train.threads=1",
    # the default spec's space: 5 x 4 x 3 = 60 points
    "search.space.batch_size=[16,32,64,128,256]",
    "search.space.time_step=[4,8,16,32]",
    "search.space.hidden_size=[16,32,64]",
]


def trial_seconds(trial: optuna.trial.FrozenTrial) -> float:
    return (trial.datetime_complete - trial.datetime_start).total_seconds()


def run_grid(url: str) -> tuple[float, float, int]:
    spec = load_spec(None, [*SPACE, "study=grid", "search.sampler=grid", "search.pruner=none", "search.trials=1000"])
    run_search(spec, url)
    trials = load_existing_study(url, "grid").get_trials(states=(TrialState.COMPLETE,))
    return min(t.value for t in trials), sum(trial_seconds(t) for t in trials), len(trials)


def run_until_within(url: str, sampler: str, pruner: str, seed: int, goal: float, max_trials: int):
    """Compute until the first completed trial within the goal (None if never within max_trials)."""
    name = f"{sampler}-{pruner}-{seed}"
    for target in range(CHUNK, max_trials + CHUNK, CHUNK):
        spec = load_spec(None, [*SPACE, f"study={name}", f"search.sampler={sampler}", f"search.pruner={pruner}",
                                f"search.seed={seed}", f"search.trials={min(target, max_trials)}"])
        run_search(spec, url)
        compute = 0.0
        for trial in sorted(load_existing_study(url, name).get_trials(), key=lambda t: t.number):
            if trial.state.is_finished() and trial.datetime_complete is not None:
                compute += trial_seconds(trial)
            if trial.state == TrialState.COMPLETE and trial.value <= goal:
                return compute, trial.number + 1
    return None, max_trials


def main() -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = f"journal:///{Path(folder)}/bench.journal"
        started = time.perf_counter()
        best, grid_compute, points = run_grid(url)
        goal = best * (1 + WITHIN)
        print(f"grid: {points} points, best val loss {best:.4f}, compute {grid_compute:.1f} s")
        for sampler, pruner, seeds in STRATEGIES:
            fractions = []
            for seed in seeds:
                compute, trials = run_until_within(url, sampler, pruner, seed, goal, points)
                label = f"{sampler}+{pruner} seed {seed}"
                if compute is None:
                    print(f"{label}: not within {WITHIN:.0%} of the grid best in {trials} trials")
                    fractions.append(float("inf"))
                    continue
                fractions.append(compute / grid_compute)
                print(f"{label}: within {WITHIN:.0%} after {trials} trials, compute {compute:.1f} s "
                      f"= {compute / grid_compute:.1%} of the grid's")
            median = statistics.median(fractions)
            shown = f"{median:.1%}" if math.isfinite(median) else "never within 2%"
            print(f"{sampler}+{pruner}: median compute fraction {shown} (goal <= 25%)")
        print(f"wall {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
