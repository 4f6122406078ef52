"""One worker's search: check the spec runs, open the study, and fill it to its target count."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from lstmexp import interrupt
from lstmexp.errors import LstmexpError, TrialFailure
from lstmexp.search.budget import StopWhenSpent, check_budget
from lstmexp.search.liveness import recover_dead_workers, this_run
from lstmexp.search.objective import make_objective
from lstmexp.search.observe import QuietObserver, SearchObserver, SearchSummary, notify_finished, summarize
from lstmexp.search.registry import grid_points
from lstmexp.search.slots import SkippedTrial, TrialLedger, claimed, counts
from lstmexp.search.study import open_study, sampler_seed_offset, target_count
from lstmexp.spec import ExperimentSpec
from lstmexp.storage.urls import mask_text, mask_url, open_storage, storage_errors
from lstmexp.trial.weights import weights_dir
from lstmexp.vocabulary.attrs import BUDGET_ATTR, REPRODUCE_BASE_ATTR, SKIPPED_ATTR

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial


def run_search(
    spec: ExperimentSpec,
    storage_url: str,
    observer: SearchObserver | None = None,
    worker_index: int = 0,
    reproduce_base: str | None = None,
    run_id: str | None = None,
) -> SearchSummary:
    """Run one worker on the study until it holds its target count of trials or a budget is spent.

    `reproduce_base` is the `lstmexp run SPEC [-o ...]` command each trial's reproduce command starts with;
    `run_id` names the command the trials belong to (default: this process's, see liveness.this_run).
    """
    observer = observer or QuietObserver()
    run_id = run_id or this_run()
    preflight(spec)
    started = time.monotonic()
    with storage_errors(storage_url):
        storage = open_storage(storage_url, create=True)
        study, created = open_study(spec, storage, sampler_seed_offset(storage_url, worker_index))
        base = prepare_study_attrs(study, created, reproduce_base)
        target = target_count(spec)
        ledger = TrialLedger(study, read=not created)
        if recover_dead_workers(study, ledger.trials):
            ledger.refresh()
        done_before = ledger.done()
        observer.study_ready(study.study_name, done_before, target)
        cap = FailureCap(spec.search.max_consecutive_failures)
        spent = StopWhenSpent(spec, started)
        spent.reason = check_budget(spec, study, None) if claimed(ledger.trials) < target else None
        if claimed(ledger.trials) < target and spent.reason is None:
            study.optimize(
                make_objective(spec, observer, target, ledger, weights_dir(storage_url, study.study_name), base,
                               run_id),
                n_trials=None,  # the callbacks stop at the target (every worker's trials) or the budget
                catch=(TrialFailure, SkippedTrial),
                # stop_at_target first: it puts the finished trial in the ledger the others read
                callbacks=[stop_at_target(target, ledger), notify_finished(observer, ledger), spent, cap],
                gc_after_trial=True,
            )
    interrupt.check()  # a Ctrl-C swallowed inside a trial still ends the command as interrupted
    cap.raise_if_reached(study.study_name)
    summary = summarize(study, mask_url(storage_url), target, run_id, spent.reason)
    if summary.budget_stop is None and summary.done < target:  # another worker may have spent the budget
        summary = dataclasses.replace(summary, budget_stop=study.user_attrs.get(BUDGET_ATTR) or None)
    return summary


def prepare_study_attrs(study: optuna.Study, created: bool, reproduce_base: str | None) -> str | None:
    """Store the (masked) reproduce base, clear a resumed study's last budget stop; the base trials use.

    The study's attributes are read once, and not at all on a new study: reads are statements."""
    attrs = {} if created else study.user_attrs
    masked = mask_text(reproduce_base) if reproduce_base is not None else None
    if masked is not None and attrs.get(REPRODUCE_BASE_ATTR) != masked:
        study.set_user_attr(REPRODUCE_BASE_ATTR, masked)
    if attrs.get(BUDGET_ATTR):
        study.set_user_attr(BUDGET_ATTR, "")  # a resumed study: the last run's budget no longer applies
    return reproduce_base or attrs.get(REPRODUCE_BASE_ATTR)


def preflight(spec: ExperimentSpec) -> None:
    """Ask trial/data whether the spec can run here, with every extreme searched value, before any study is touched."""
    from lstmexp.spec.extremes import filled, fillings, named
    from lstmexp.trial.run import check_spec_runs

    if spec.search.sampler == "grid":
        grid_points(spec)  # a float range cannot be a grid: say so before a storage is created
    check_spec_runs(spec)
    for filling in fillings(spec):  # a searched data or device setting is only seen by the data and device here
        try:
            check_spec_runs(filled(spec, filling))
        except LstmexpError as exc:
            raise type(exc)(f"{named(filling)}: {exc}") from None


class FailureCap:
    """Stop after `limit` trials in a row failed without a result (they do not count toward the target).

    Failures that are data (oom, diverged, infeasible) count toward the target, so they end a
    search; a trial that fails otherwise (a NaN objective, an error) does not, and without this cap
    a setting that fails every trial would run forever.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_a_row = 0

    def __call__(self, study: optuna.Study, trial: FrozenTrial) -> None:
        if trial.state != TrialState.FAIL or counts(trial) or SKIPPED_ATTR in trial.user_attrs:
            self.in_a_row = 0
            return
        self.in_a_row += 1
        if self.in_a_row >= self.limit:
            study.stop()

    def raise_if_reached(self, study_name: str) -> None:
        if self.in_a_row >= self.limit:
            raise LstmexpError(
                f"search stopped: the last {self.in_a_row} trials of study {study_name!r} failed without a "
                "result (an objective that is NaN, or an error); run one configuration with `lstmexp run` "
                "to see why, or raise search.max_consecutive_failures"
            )


def stop_at_target(target: int, ledger: TrialLedger) -> Callable[[optuna.Study, FrozenTrial], None]:
    """After each trial: recover dead workers' trials, stop once the target is claimed."""

    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        if recover_dead_workers(study, ledger.note(trial)):
            ledger.refresh()
        if claimed(ledger.trials) >= target:
            study.stop()

    return callback
