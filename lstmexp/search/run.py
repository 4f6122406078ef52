"""One worker's search: check the spec runs, open the study, and fill it to its target count."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import optuna

from lstmexp.errors import TrialFailure
from lstmexp.search.liveness import recover_dead_workers
from lstmexp.search.objective import make_objective
from lstmexp.search.observe import QuietObserver, SearchObserver, SearchSummary, notify_finished
from lstmexp.search.slots import SkippedTrial, count_claimed, count_done
from lstmexp.search.study import create_or_resume, sampler_seed_offset, target_count
from lstmexp.spec import ExperimentSpec
from lstmexp.storage import mask_url, open_storage, storage_errors

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial


def run_search(
    spec: ExperimentSpec, storage_url: str, observer: SearchObserver | None = None, worker_index: int = 0
) -> SearchSummary:
    """Run one worker on the study until it holds its target count of trials (create or resume it)."""
    observer = observer or QuietObserver()
    preflight(spec)
    with storage_errors(storage_url):
        storage = open_storage(storage_url, create=True)
        study = create_or_resume(spec, storage, sampler_seed_offset(storage_url, worker_index))
        target = target_count(spec)
        recover_dead_workers(study)
        done_before = count_done(study)
        observer.study_ready(study.study_name, done_before, target)
        if count_claimed(study) < target:
            study.optimize(
                make_objective(spec, observer, target),
                n_trials=None,  # the callback stops at the target, counting every worker's trials
                catch=(TrialFailure, SkippedTrial),
                callbacks=[notify_finished(observer), stop_at_target(target)],
                gc_after_trial=True,
            )
    done = count_done(study)
    return SearchSummary(study.study_name, mask_url(storage_url), done, target, done - done_before)


def preflight(spec: ExperimentSpec) -> None:
    """Ask trial/data whether the spec can run here, before any study is touched."""
    from lstmexp.trial import check_spec_runs

    check_spec_runs(spec)


def stop_at_target(target: int) -> Callable[[optuna.Study, FrozenTrial], None]:
    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        recover_dead_workers(study)
        if count_claimed(study) >= target:
            study.stop()

    return callback
