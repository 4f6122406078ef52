"""The objective Optuna calls per trial: suggest, claim a slot, train, write the trial's record.

What a trial measured (or why it failed) is written once at its end, as the record attribute and the
headline figures (`lstmexp.trial.record`), and the val loss per epoch as intermediate values, so any
Optuna client can read what lstmexp wrote.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import optuna

from lstmexp import interrupt
from lstmexp.errors import SpecError, TrialFailure
from lstmexp.search.budget import cpu_deadline
from lstmexp.search.keep import ModelCatch, keep_model
from lstmexp.search.liveness import this_worker
from lstmexp.search.slots import SkippedTrial, TrialLedger, claim_slot, seeded_for_repeat
from lstmexp.spec import ExperimentSpec
from lstmexp.spec.searchable import conditional_skip, kind_of, other_paths, param_name, with_values
from lstmexp.storage.urls import mask_text
from lstmexp.trial.record import Failure, Identity, TrialRecord
from lstmexp.trial.reproduce import override_key, run_command
from lstmexp.trial.run import run_trial
from lstmexp.vocabulary.attrs import SKIPPED_ATTR, WORKER_ATTR
from lstmexp.vocabulary.choices import OBJECTIVE_GOALS, SEARCHED_PARAMS, SIZE_PATHS, ObjectiveName
from lstmexp.vocabulary.names import EPOCHS_RUN, PEAK_MEM_BYTES, SAMPLES_PER_S, STOPPED_EARLY

if TYPE_CHECKING:
    from pathlib import Path

    from lstmexp.search.observe import SearchObserver
    from lstmexp.training.loop import EpochRecord


# The objectives' figures and directions are the vocabulary's (lstmexp.vocabulary.choices), listed once.
OBJECTIVE_DEFS = OBJECTIVE_GOALS


def directions(spec: ExperimentSpec) -> list[Literal["minimize", "maximize"]]:
    return [OBJECTIVE_DEFS[name].direction for name in spec.search.objectives]


def suggest_field(trial: optuna.Trial, spec: ExperimentSpec, path: str) -> Any:
    """One dotted-path field, sampled the way its own type says (int or float range, or a list), under its
    Optuna parameter name (`param_name`: a size keeps its short name)."""
    space, name = spec.search.space.fields[path], param_name(path)
    choices = space.choices()
    if choices is not None:
        return trial.suggest_categorical(name, choices)
    low, high, log = space.low, space.high, space.scale == "log"
    if low is None or high is None:  # validation guarantees a range has both ends
        raise SpecError(f"search.space.{path} needs low and high, or a list of values")
    if kind_of(spec, path) == "int":
        return trial.suggest_int(name, int(low), int(high), step=int(space.step or 1), log=log)
    return trial.suggest_float(name, float(low), float(high), step=space.step, log=log)


def suggest_trial(spec: ExperimentSpec, trial: optuna.Trial) -> tuple[ExperimentSpec, dict[str, str]]:
    """The trial's spec (the spec with every searched value set, the sizes included) and the fields left out.

    The sizes are sampled first and the per-window normalisation next, as studies always have (a seed
    draws the same trials). A field that does not apply to this trial (dropout with one layer) is not
    sampled, so it never splits one configuration into several; the reason goes into the record's
    `not_applied`.
    """
    chosen: dict[str, Any] = {path: suggest_field(trial, spec, path) for path in SIZE_PATHS.values()}
    spec = suggest_normalization(trial, spec)
    skipped: dict[str, str] = {}
    for path in other_paths(spec):
        reason = conditional_skip(path, chosen, spec)
        if reason is None:
            chosen[path] = suggest_field(trial, spec, path)
        else:
            skipped[path] = reason
    return with_values(spec, chosen), skipped


def suggest_normalization(trial: optuna.Trial, spec: ExperimentSpec) -> ExperimentSpec:
    """The spec with its searched per-window normalisation sampled (under the short name studies use)."""
    space = spec.search.space
    if not space.normalization:
        return spec
    return spec.with_normalization(trial.suggest_categorical("normalization", list(space.normalization)))


def make_objective(
    spec: ExperimentSpec, observer: SearchObserver, target: int, ledger: TrialLedger, weights: Path | None = None,
    reproduce_base: str | None = None, run_id: str = "",
) -> Callable[[optuna.Trial], float | list[float]]:
    """The objective; with a `weights` folder, the best `search.keep_best` configurations' models are kept there.

    `reproduce_base` starts each trial's reproduce command; `run_id` (the search command) goes in each
    trial's record, so that command's summary counts its own trials however many searches fill the study."""
    single = len(spec.search.objectives) == 1  # Trial.report raises in multi-objective studies
    base = reproduce_base or ""  # no command line (a library call): the report rebuilds it from the stored spec

    def objective(trial: optuna.Trial) -> float | list[float]:
        interrupt.check()  # a Ctrl-C Python swallowed (gc callback) still stops before the next trial
        trial.set_user_attr(WORKER_ATTR, this_worker())  # while it runs: whose process trains it
        trial_spec, not_applied = suggest_trial(spec, trial)
        claim_slot(trial, target, ledger)
        deadline = trial_cpu_deadline(spec, trial, ledger)
        trial_spec, repeat_of = seeded_for_repeat(trial_spec, trial, ledger)
        identity = identity_of(trial, trial_spec.train.seed, base, run_id)
        identity = dataclasses.replace(identity, repeat_of=repeat_of, not_applied=not_applied or None)
        observer.trial_started(trial.number, trial_spec)

        def on_epoch(record: EpochRecord) -> bool:
            interrupt.check()
            observer.epoch_done(trial.number, record, spec.train.epochs)
            if not single:
                return False
            trial.report(record.val_loss, record.epoch)
            return trial.should_prune()

        cpu_start = time.process_time()
        caught = ModelCatch()
        outcome = TrialRecord()
        try:
            outcome = run_trial(trial_spec, on_epoch, caught if weights is not None else None, deadline)
        except TrialFailure as failure:  # its detail masked: a library's message may quote a URL
            outcome = TrialRecord(failure=Failure.of(failure.reason, mask_text(failure.detail), failure.figures))
            raise
        finally:  # written once, whatever happened: every attribute is a statement (a round trip)
            identity = dataclasses.replace(identity, cpu_s=time.process_time() - cpu_start)
            outcome = write_record(trial, spec, outcome, identity)
        figures = outcome.figures()
        if figures[STOPPED_EARLY]:
            raise optuna.TrialPruned(f"pruned after epoch {figures[EPOCHS_RUN]}")
        values = [objective_value(figures, name) for name in spec.search.objectives]
        if weights is not None:
            keep_model(trial, trial_spec, caught, figures, values[0], weights, ledger)
        return values[0] if single else values

    return objective


def trial_cpu_deadline(spec: ExperimentSpec, trial: optuna.Trial, ledger: TrialLedger) -> float | None:
    """The process CPU time at which this trial must stop training (the study's CPU budget spent), or None;
    a trial whose budget other workers already spent is skipped, not trained."""
    deadline = cpu_deadline(spec, ledger.current(trial.number))
    if deadline is not None and deadline <= time.process_time():
        trial.set_user_attr(SKIPPED_ATTR, "the study's CPU budget was spent by other workers")
        raise SkippedTrial(f"trial {trial.number} not trained: max_cpu_minutes already spent")
    return deadline


def identity_of(trial: optuna.Trial, seed: int, base: str, run_id: str) -> Identity:
    """The configuration key (every searched value, not the seed), the command reproducing this trial
    (masked: an older search's base could still carry a password) and the search command that made it."""
    reproduce = mask_text(reproduce_command(base, trial.params, seed)) if base else ""
    return Identity(config=config_key(trial.params), train_seed=seed, reproduce=reproduce, run=run_id)


def write_record(trial: optuna.Trial, spec: ExperimentSpec, outcome: TrialRecord, identity: Identity) -> TrialRecord:
    """The trial's record with its identity, as its user attributes and constraints; returns the record."""
    record = dataclasses.replace(outcome, identity=identity)
    for key, value in record.attributes().items():
        trial.set_user_attr(key, value)
    set_constraints(trial, spec, constraint_figures(record))
    return record


def constraint_figures(record: TrialRecord) -> dict[str, Any]:
    """What the constraints are checked on: the measured figures, or an infeasible trial's memory estimate."""
    failure = record.failure
    if failure is None:
        return record.figures() if record.measured is not None else {}
    if failure.failure_reason == "infeasible" and failure.activation_mem_est_bytes is not None:
        return {PEAK_MEM_BYTES: failure.activation_mem_est_bytes}
    return {}


def config_key(searched: dict[str, Any]) -> str:
    return json.dumps(searched, sort_keys=True, separators=(",", ":"))


def reproduce_command(base: str, searched: dict[str, Any], seed: int) -> str:
    """`base` plus the sizes as flags and every other searched value and the seed as `-o key=value`."""
    values = {override_key(k): v for k, v in searched.items() if k not in SEARCHED_PARAMS}
    values["train.seed"] = seed
    return run_command(base, {name: searched[name] for name in SEARCHED_PARAMS}, values)


def objective_value(metrics: dict[str, Any], name: ObjectiveName) -> float:
    value = metrics.get(OBJECTIVE_DEFS[name].metric)
    # time_to_target_s is None when the target was never reached: the worst value, not a missing one
    return math.inf if value is None else float(value)


def set_constraints(trial: optuna.Trial, spec: ExperimentSpec, figures: dict[str, Any]) -> None:
    """Optuna 5 trial constraints (feasible when <= 0), so samplers steer away from infeasible regions."""
    limits = spec.search.constraints
    if limits.max_memory is not None and figures.get(PEAK_MEM_BYTES) is not None:
        trial.set_constraint("max_memory", float(figures[PEAK_MEM_BYTES] - limits.max_memory))
    speed = figures.get(SAMPLES_PER_S)
    if limits.min_samples_per_s is not None and speed is not None and math.isfinite(speed):
        trial.set_constraint("min_samples_per_s", float(limits.min_samples_per_s - speed))

