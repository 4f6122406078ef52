"""The objective Optuna calls per trial: suggest, claim a slot, train, record figures or the failure.

Every figure a trial measures is stored as an Optuna user attribute and the val loss per epoch as
intermediate values, so any Optuna client can read what lstmexp wrote.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import optuna

from lstmexp import interrupt
from lstmexp.choices import OBJECTIVE_GOALS, SEARCHED_PARAMS, ObjectiveName
from lstmexp.errors import SpecError, TrialFailure
from lstmexp.search.attrs import FAILURE_ATTR, WORKER_ATTR
from lstmexp.search.liveness import this_worker
from lstmexp.search.slots import claim_slot, seeded_for_repeat
from lstmexp.spec import ExperimentSpec, ParamSpace
from lstmexp.trial import TrialParams, json_safe, run_trial

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from lstmexp.search.observe import SearchObserver
    from lstmexp.train import EpochRecord


# The objectives' figures and directions are the vocabulary's (lstmexp.choices), listed once.
OBJECTIVE_DEFS = OBJECTIVE_GOALS


def directions(spec: ExperimentSpec) -> list[Literal["minimize", "maximize"]]:
    return [OBJECTIVE_DEFS[name].direction for name in spec.search.objectives]


def suggest(trial: optuna.Trial, name: str, space: ParamSpace) -> int:
    choices = space.choices()
    if choices is not None:
        return int(trial.suggest_categorical(name, choices))
    if space.low is None or space.high is None:  # the spec gives a range both ends; say so if not
        raise SpecError(f"search.space.{name} needs low and high, or a list of values")
    return trial.suggest_int(name, space.low, space.high, step=space.step, log=space.scale == "log")


def suggest_trial(spec: ExperimentSpec, trial: optuna.Trial) -> tuple[TrialParams, ExperimentSpec]:
    """The searched sizes, and the spec with the searched normalisation (when there is one)."""
    space = spec.search.space
    params = TrialParams(**{name: suggest(trial, name, getattr(space, name)) for name in SEARCHED_PARAMS})
    if space.normalization:
        return params, spec.with_normalization(trial.suggest_categorical("normalization", list(space.normalization)))
    return params, spec


def make_objective(
    spec: ExperimentSpec, observer: SearchObserver, target: int
) -> Callable[[optuna.Trial], float | list[float]]:
    single = len(spec.search.objectives) == 1  # Trial.report raises in multi-objective studies

    def objective(trial: optuna.Trial) -> float | list[float]:
        interrupt.check()  # a Ctrl-C Python swallowed (gc callback) still stops before the next trial
        trial.set_user_attr(WORKER_ATTR, this_worker())
        params, trial_spec = suggest_trial(spec, trial)
        claim_slot(trial, target)
        trial_spec = seeded_for_repeat(trial_spec, trial)
        observer.trial_started(trial.number, params)

        def on_epoch(record: EpochRecord) -> bool:
            interrupt.check()
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


def objective_value(metrics: dict[str, Any], name: ObjectiveName) -> float:
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
