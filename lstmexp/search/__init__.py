"""The Optuna study behind `lstmexp search`, one job per module.

- `study`: creating a study, or resuming it (with `resume`'s comparability check), and its target;
- `registry`: sampler and pruner factories by name;
- `objective`: the per-trial objective, objectives' directions, failure and constraint recording;
- `slots`: counting toward the target, claiming a slot, seeding repeats of a configuration;
- `liveness`: which process trains a trial, and recovery of trials left by dead workers;
- `observe`: what the caller hears (observer protocol, summary, best value);
- `run`: one worker's search from preflight to the target.
"""

from __future__ import annotations

from lstmexp.search.liveness import recover_dead_workers, this_worker, worker_is_dead
from lstmexp.search.objective import OBJECTIVE_DEFS
from lstmexp.search.observe import QuietObserver, SearchObserver, SearchSummary, best_value, is_feasible
from lstmexp.search.registry import make_pruner, make_sampler
from lstmexp.search.run import preflight, run_search
from lstmexp.search.slots import SkippedTrial, count_claimed, count_done
from lstmexp.search.study import create_or_resume, sampler_seed_offset, target_count
from lstmexp.vocabulary.attrs import FAILURE_ATTR, REPEAT_ATTR, SKIPPED_ATTR, WORKER_ATTR

__all__ = [
    "FAILURE_ATTR",
    "OBJECTIVE_DEFS",
    "REPEAT_ATTR",
    "SKIPPED_ATTR",
    "WORKER_ATTR",
    "QuietObserver",
    "SearchObserver",
    "SearchSummary",
    "SkippedTrial",
    "best_value",
    "count_claimed",
    "count_done",
    "create_or_resume",
    "is_feasible",
    "make_pruner",
    "make_sampler",
    "preflight",
    "recover_dead_workers",
    "run_search",
    "sampler_seed_offset",
    "target_count",
    "this_worker",
    "worker_is_dead",
]
