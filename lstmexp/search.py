"""The Optuna study: creation or resume, sampler, pruner, the objective, and the stop at the target count.

Every figure a trial measures is stored as an Optuna user attribute, the val loss per epoch as
intermediate values, the spec and environment as study attributes: any Optuna client can read a
study lstmexp wrote.
"""

from __future__ import annotations

import copy
import logging
import math
import os
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import optuna
from optuna.trial import TrialState

from lstmexp.errors import SpecError, TrialFailure
from lstmexp.measure import collect_environment
from lstmexp.spec import SEARCHED_PARAMS, ExperimentSpec, ParamSpace
from lstmexp.storage import (
    ENV_ATTR,
    SPEC_ATTR,
    load_existing_study,  # noqa: F401 (lives in storage, which imports no torch)
    mask_url,
    open_storage,
    scheme_of,
    storage_errors,
)
from lstmexp.train import EpochRecord
from lstmexp.trial import TrialParams, json_safe, run_trial

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

FAILURE_ATTR = "failure_reason"
# Spec sections whose change makes old and new trials incomparable within one study.
COMPARABLE_KEYS = ("data", "model", "train", "search.space", "search.objectives", "search.constraints")
# Settings that may differ between runs of one study (where and how fast, not what is measured).
RUNTIME_TRAIN_KEYS = ("device", "threads")


class SearchObserver(Protocol):
    """What the CLI's progress display listens to. Methods are called from the search's thread."""

    def study_ready(self, study_name: str, done: int, target: int) -> None: ...
    def trial_started(self, number: int, params: TrialParams) -> None: ...
    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None: ...
    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None: ...


class QuietObserver:
    def study_ready(self, study_name: str, done: int, target: int) -> None:
        pass

    def trial_started(self, number: int, params: TrialParams) -> None:
        pass

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        pass

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        pass


@dataclass(frozen=True)
class SearchSummary:
    study_name: str
    storage: str  # masked
    done: int
    target: int
    ran_now: int


class SkippedTrial(Exception):
    """A trial that was not trained and does not count: the target was already claimed by others."""


@dataclass(frozen=True)
class Objective:
    metric: str  # the user attribute (or computed figure) it reads
    direction: str


OBJECTIVE_DEFS = {
    "val_loss": Objective("val_loss_best", "minimize"),
    "samples_per_s": Objective("samples_per_s", "maximize"),
    "s_per_epoch": Objective("train_s_per_epoch", "minimize"),
    "peak_memory": Objective("peak_mem_bytes", "minimize"),
    "time_to_target": Objective("time_to_target_s", "minimize"),
}
WORKER_ATTR = "worker"  # host:pid:process-start of the process training the trial
REPEAT_ATTR = "repeat_of"
SKIPPED_ATTR = "skipped"


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
        # lstmexp prints a line per trial, failures included: Optuna's warning with a traceback for each
        # caught TrialFailure would repeat it.
        logging.getLogger("optuna.study._optimize").setLevel(logging.ERROR)
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


def target_count(spec: ExperimentSpec) -> int:
    """The trial count to reach: a grid has no more points than its combinations."""
    if spec.search.sampler == "grid":
        return min(spec.search.trials, grid_size(spec))
    return spec.search.trials


def preflight(spec: ExperimentSpec) -> None:
    """Whether the spec can run here (data, windows, stateful layout, precision), before any study is touched."""
    from lstmexp.trial import check_spec_runs

    check_spec_runs(spec)


def directions(spec: ExperimentSpec) -> list[str]:
    return [OBJECTIVE_DEFS[name].direction for name in spec.search.objectives]


def sampler_seed_offset(storage_url: str, worker_index: int) -> int:
    """Added to the sampler's seed so that workers of one study do not all suggest the same sequence.

    The i-th local worker adds i (one worker: the seed as given, reproducible). On a database
    server workers on other machines also count from 0, so there the offset comes from this
    process's identity: a distributed search is not reproducible anyway (trial order is timing).
    """
    if scheme_of(storage_url) in ("postgresql", "mysql"):
        return zlib.crc32(this_worker().encode()) % 1_000_003
    return worker_index


def create_or_resume(spec: ExperimentSpec, storage: optuna.storages.BaseStorage, seed_offset: int = 0) -> optuna.Study:
    """Create the study, or resume it when its stored spec is comparable with this one."""
    try:
        study = optuna.load_study(study_name=spec.study, storage=storage)
    except KeyError:
        study = optuna.create_study(
            study_name=spec.study,
            storage=storage,
            directions=directions(spec),
            sampler=make_sampler(spec, seed_offset),
            pruner=make_pruner(spec),
            load_if_exists=True,  # another worker may have created it a moment ago
        )
        study.set_user_attr(SPEC_ATTR, spec.to_dict())
        study.set_user_attr(ENV_ATTR, collect_environment())
        return study
    stored = study.user_attrs.get(SPEC_ATTR)
    if stored is not None:
        check_comparable(with_current_defaults(stored), spec.to_dict(), spec.study)
    study.sampler = make_sampler(spec, seed_offset)
    study.pruner = make_pruner(spec)
    return study


def with_current_defaults(stored: dict[str, Any]) -> dict[str, Any]:
    """A spec stored by an older lstmexp, with fields added since then at their defaults."""
    try:
        return ExperimentSpec.model_validate(stored).to_dict()
    except ValueError:  # pydantic's ValidationError: compare the raw spec, which will then differ
        return stored


def check_comparable(stored: dict[str, Any], current: dict[str, Any], study_name: str) -> None:
    for key in COMPARABLE_KEYS:
        old, new = dig(stored, key), dig(current, key)
        if key == "train":
            old = {k: v for k, v in (old or {}).items() if k not in RUNTIME_TRAIN_KEYS}
            new = {k: v for k, v in (new or {}).items() if k not in RUNTIME_TRAIN_KEYS}
        if not isinstance(old, dict):
            old, new = {key: old}, {key: new}
        if old != new:
            changed = sorted(k for k in set(old or {}) | set(new or {}) if (old or {}).get(k) != (new or {}).get(k))
            raise SpecError(
                f"study {study_name!r} was run with a different {key} ({', '.join(changed)} changed); "
                "its trials would not be comparable: use --study NEW_NAME or restore the spec"
            )


def dig(tree: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        tree = tree.get(part, {}) if isinstance(tree, dict) else {}
    return tree


def grid_points(spec: ExperimentSpec) -> dict[str, list[Any]]:
    """Every searched value: the three sizes, and the per-window normalisations when searched."""
    grid: dict[str, list[Any]] = {name: getattr(spec.search.space, name).grid() for name in SEARCHED_PARAMS}
    if spec.search.space.normalization:
        grid["normalization"] = list(spec.search.space.normalization)
    return grid


def grid_size(spec: ExperimentSpec) -> int:
    size = 1
    for values in grid_points(spec).values():
        size *= len(values)
    return size


def make_sampler(spec: ExperimentSpec, seed_offset: int = 0) -> optuna.samplers.BaseSampler:
    """Every sampler is seeded; constraints reach them through `trial.set_constraint` (Optuna 5)."""
    base_seed = spec.train.seed if spec.search.seed is None else spec.search.seed
    seed = base_seed + seed_offset
    name = spec.search.sampler
    samplers = optuna.samplers
    if name == "grid":
        # Trial number n < grid size gets point n of the grid as shuffled by the seed: every worker
        # must shuffle alike (no offset), then several workers never share a point.
        return samplers.GridSampler(grid_points(spec), seed=base_seed)
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    if name == "gp":
        return samplers.GPSampler(seed=seed)
    if name == "nsga2":
        return samplers.NSGAIISampler(seed=seed)
    if name == "qmc":
        # Categorical parameters (value lists, pow2 ranges) fall back to random sampling inside QMC.
        return samplers.QMCSampler(seed=seed, warn_independent_sampling=False)
    # TPE's default 10 random start-up trials are a quarter of a 36-point space; a small space
    # needs fewer before TPE's model can take over.
    return samplers.TPESampler(seed=seed, n_startup_trials=startup_trials(spec))


def startup_trials(spec: ExperimentSpec) -> int:
    """Random trials before TPE models the space: 10 (Optuna's default), fewer for a small finite space."""
    finite = all(getattr(spec.search.space, name).choices() is not None for name in SEARCHED_PARAMS)
    return max(4, min(10, grid_size(spec) // 8)) if finite else 10


def make_pruner(spec: ExperimentSpec) -> optuna.pruners.BasePruner:
    """Pruners on the val loss per epoch, with warm-ups relative to the epoch budget.

    An LSTM's val loss after one or two epochs mostly tells how many optimizer steps it took: small
    batches lead early and large ones catch up later (C7), so pruning at epoch 1-2 culls large
    batches for the wrong reason (a real 20-trial search pruned 14 trials that way). Nothing is
    pruned before half the epoch budget; successive halving and Hyperband start at a quarter of
    it (their first rung) and keep the best third at each rung.
    """
    epochs = spec.train.epochs
    name = spec.search.pruner
    pruners = optuna.pruners
    if name == "median":
        return pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=max(1, epochs // 2))
    if name == "successive-halving":
        return pruners.SuccessiveHalvingPruner(min_resource=max(1, epochs // 4), reduction_factor=3)
    if name == "hyperband":
        return pruners.HyperbandPruner(min_resource=max(1, epochs // 4), max_resource=epochs, reduction_factor=3)
    return pruners.NopPruner()


def suggest(trial: optuna.Trial, name: str, space: ParamSpace) -> int:
    choices = space.choices()
    if choices is not None:
        return int(trial.suggest_categorical(name, choices))
    assert space.low is not None and space.high is not None
    return trial.suggest_int(name, space.low, space.high, step=space.step, log=space.scale == "log")


def make_objective(spec: ExperimentSpec, observer: SearchObserver, target: int):
    single = len(spec.search.objectives) == 1  # Trial.report raises in multi-objective studies

    def objective(trial: optuna.Trial) -> float | list[float]:
        trial.set_user_attr(WORKER_ATTR, this_worker())
        space = spec.search.space
        params = TrialParams(**{name: suggest(trial, name, getattr(space, name)) for name in SEARCHED_PARAMS})
        trial_spec = spec
        if space.normalization:
            trial_spec = spec.with_normalization(trial.suggest_categorical("normalization", list(space.normalization)))
        claim_slot(trial, target)
        trial_spec = seeded_for_repeat(trial_spec, trial)
        observer.trial_started(trial.number, params)

        def on_epoch(record: EpochRecord) -> bool:
            observer.epoch_done(trial.number, record, spec.train.epochs)
            if not single:
                return False
            trial.report(record.val_loss, record.epoch)
            return trial.should_prune()

        try:
            metrics = run_trial(trial_spec, params, on_epoch)
        except TrialFailure as failure:
            record_failure(trial, spec, failure)
            raise
        for key, value in metrics.items():
            trial.set_user_attr(key, json_safe(value))
        set_constraints(trial, spec, metrics)
        if metrics["stopped_early"]:
            raise optuna.TrialPruned(f"pruned after epoch {metrics['epochs_run']}")
        values = [objective_value(metrics, name) for name in spec.search.objectives]
        return values[0] if single else values

    return objective


def objective_value(metrics: dict[str, Any], name: str) -> float:
    value = metrics.get(OBJECTIVE_DEFS[name].metric)
    # time_to_target_s is None when the target was never reached: the worst value, not a missing one
    return math.inf if value is None else float(value)


def record_failure(trial: optuna.Trial, spec: ExperimentSpec, failure: TrialFailure) -> None:
    trial.set_user_attr(FAILURE_ATTR, failure.reason)
    trial.set_user_attr("failure_detail", failure.detail)
    for key, value in failure.figures.items():
        trial.set_user_attr(key, json_safe(value))
    estimate = failure.figures.get("activation_mem_est_bytes")
    if failure.reason == "infeasible" and estimate is not None:
        set_constraints(trial, spec, {"peak_mem_bytes": estimate})


def set_constraints(trial: optuna.Trial, spec: ExperimentSpec, figures: dict[str, Any]) -> None:
    """Optuna 5 trial constraints (feasible when <= 0), so samplers steer away from infeasible regions."""
    limits = spec.search.constraints
    if limits.max_memory is not None and figures.get("peak_mem_bytes") is not None:
        trial.set_constraint("max_memory", float(figures["peak_mem_bytes"] - limits.max_memory))
    speed = figures.get("samples_per_s")
    if limits.min_samples_per_s is not None and speed is not None and math.isfinite(speed):
        trial.set_constraint("min_samples_per_s", float(limits.min_samples_per_s - speed))


def is_feasible(trial: FrozenTrial) -> bool:
    return all(value <= 0 for value in trial.constraints.values())


# --------------------------------------------------------------------------------------------
# Counting toward the target, repeats, and trials left behind by dead workers
# --------------------------------------------------------------------------------------------


def counts(trial: FrozenTrial) -> bool:
    """Completed, pruned, and failures that are data (oom, diverged, infeasible) count."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and FAILURE_ATTR in trial.user_attrs


def count_done(study: optuna.Study) -> int:
    """Trials that count toward the target: completed, pruned, and failures that are data (oom...)."""
    return sum(counts(t) for t in study.get_trials(deepcopy=False))


def count_claimed(study: optuna.Study, below: int | None = None) -> int:
    """Counted trials plus running ones (a running trial will count), optionally only below a number."""
    return sum(
        (counts(t) or t.state == TrialState.RUNNING) and (below is None or t.number < below)
        for t in study.get_trials(deepcopy=False)
    )


def claim_slot(trial: optuna.Trial, target: int) -> None:
    """Train only if fewer than `target` lower-numbered trials are counted or running.

    Workers decide alone; ordering by trial number makes them agree, so a study ends with exactly
    `target` counted trials even when several workers start their last trials at once.
    """
    if count_claimed(trial.study, below=trial.number) >= target:
        trial.set_user_attr(SKIPPED_ATTR, "target already reached by other workers")
        raise SkippedTrial(f"trial {trial.number} not needed: {target} trials already claimed")


def seeded_for_repeat(spec: ExperimentSpec, trial: optuna.Trial) -> ExperimentSpec:
    """A configuration suggested again is trained with the next seed, not re-run identically.

    Training is deterministic for a seed, so an identical re-run would only copy a known result;
    with seed + k·R the repeat measures the seed-to-seed spread of that configuration instead
    (R = train.repeats: each trial already uses seeds seed..seed+R-1, so the next one starts after).
    """
    earlier = [
        t.number
        for t in trial.study.get_trials(deepcopy=False)
        if t.number < trial.number
        and (counts(t) or t.state == TrialState.RUNNING)
        and t.params == trial.params
    ]
    seed = spec.train.seed + len(earlier) * spec.train.repeats
    trial.set_user_attr("train_seed", seed)
    if not earlier:
        return spec
    trial.set_user_attr(REPEAT_ATTR, earlier[0])
    return spec.model_copy(update={"train": spec.train.model_copy(update={"seed": seed})})


def this_worker() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start(pid)}"


def process_start(pid: int) -> str:
    """The process's start time in clock ticks since boot (tells a live pid from a reused one)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "?"
    return stat.rsplit(")", 1)[1].split()[19]


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


def recover_dead_workers(study: optuna.Study) -> int:
    """Fail the RUNNING trials whose worker died on this machine (kill -9) and retry each once.

    RDB storages also have Optuna's heartbeat (stale after 30 s, for workers on other machines);
    the journal file has none, and a dead local process can be recognised at once.
    """
    storage = study._storage  # Optuna's own stale-trial handling works on the storage the same way
    retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
    failed = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = trial.user_attrs.get(WORKER_ATTR)
        if worker is None or not worker_is_dead(worker):
            continue
        try:
            storage.set_trial_user_attr(trial._trial_id, "lost", f"worker {worker} died while training it")
            if not storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL):
                continue
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # another worker recovered it first
        lost = copy.deepcopy(storage.get_trial(trial._trial_id))
        lost.user_attrs = {}  # the retry starts clean: the dead worker's id and notes stay on the failed trial
        retry(study, lost)
        failed += 1
    return failed


def stop_at_target(target: int):
    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        recover_dead_workers(study)
        if count_claimed(study) >= target:
            study.stop()

    return callback


def notify_finished(observer: SearchObserver):
    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        if SKIPPED_ATTR not in trial.user_attrs:
            observer.trial_finished(trial, best_value(study))

    return callback


def best_value(study: optuna.Study) -> float | None:
    """Best feasible value of a single-objective study (None for several objectives)."""
    if len(study.directions) != 1:
        return None
    values = [
        t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.value is not None and is_feasible(t)
    ]
    if not values:
        return None
    return max(values) if study.direction == optuna.study.StudyDirection.MAXIMIZE else min(values)
