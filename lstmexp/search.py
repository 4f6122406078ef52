"""The Optuna study: creation or resume, sampler, pruner, the objective, and the stop at the target count.

Every figure a trial measures is stored as an Optuna user attribute, the val loss per epoch as
intermediate values, the spec and environment as study attributes: any Optuna client can read a
study lstmexp wrote.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import optuna
from optuna.trial import TrialState

from lstmexp.errors import SpecError, StudyNotFoundError
from lstmexp.measure import collect_environment
from lstmexp.spec import SEARCHED_PARAMS, ExperimentSpec, ParamSpace
from lstmexp.storage import mask_url, open_storage
from lstmexp.train import EpochRecord, TrialFailure
from lstmexp.trial import TrialParams, json_safe, run_trial

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

SPEC_ATTR = "lstmexp_spec"
ENV_ATTR = "lstmexp_environment"
FAILURE_ATTR = "failure_reason"
OBJECTIVE_METRIC = "val_loss_best"
# Spec sections whose change makes old and new trials incomparable within one study.
COMPARABLE_KEYS = ("data", "model", "train", "search.space")
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


def run_search(spec: ExperimentSpec, storage_url: str, observer: SearchObserver | None = None) -> SearchSummary:
    observer = observer or QuietObserver()
    preflight(spec)
    storage = open_storage(storage_url, create=True)
    study = create_or_resume(spec, storage)
    target = spec.search.trials
    done_before = count_done(study)
    observer.study_ready(study.study_name, done_before, target)
    remaining = target - done_before
    if remaining > 0:
        study.optimize(
            make_objective(spec, observer),
            n_trials=remaining,
            catch=(TrialFailure,),
            callbacks=[stop_at_target(target), notify_finished(observer)],
            gc_after_trial=True,
        )
    done = count_done(study)
    return SearchSummary(study.study_name, mask_url(storage_url), done, target, done - done_before)


def preflight(spec: ExperimentSpec) -> None:
    """Load the data and check the largest window fits every split, before any study is touched."""
    from lstmexp.measure import resolve_device
    from lstmexp.trial import cached_series

    device = resolve_device(spec.train.device)
    series = cached_series(spec.data.model_dump_json(), str(device))
    longest = spec.search.space.time_step.highest
    for split in ("train", "val", "test"):
        series.sample_starts(split, longest, spec.data.horizon)
    if spec.train.stateful:
        from lstmexp.data.streams import check_stateful_fits

        check_stateful_fits(series, spec.search.space.batch_size.highest, spec.data.horizon)


def create_or_resume(spec: ExperimentSpec, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """Create the study, or resume it when its stored spec is comparable with this one."""
    try:
        study = optuna.load_study(study_name=spec.study, storage=storage)
    except KeyError:
        study = optuna.create_study(
            study_name=spec.study,
            storage=storage,
            direction="minimize",
            sampler=make_sampler(spec),
            pruner=make_pruner(spec),
            load_if_exists=True,  # another worker may have created it a moment ago
        )
        study.set_user_attr(SPEC_ATTR, spec.to_dict())
        study.set_user_attr(ENV_ATTR, collect_environment())
        return study
    stored = study.user_attrs.get(SPEC_ATTR)
    if stored is not None:
        check_comparable(stored, spec.to_dict(), spec.study)
    study.sampler = make_sampler(spec)
    study.pruner = make_pruner(spec)
    return study


def check_comparable(stored: dict[str, Any], current: dict[str, Any], study_name: str) -> None:
    for key in COMPARABLE_KEYS:
        old, new = dig(stored, key), dig(current, key)
        if key == "train":
            old = {k: v for k, v in (old or {}).items() if k not in RUNTIME_TRAIN_KEYS}
            new = {k: v for k, v in (new or {}).items() if k not in RUNTIME_TRAIN_KEYS}
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


def make_sampler(spec: ExperimentSpec) -> optuna.samplers.BaseSampler:
    seed = spec.train.seed
    if spec.search.sampler == "grid":
        grid: dict[str, list[Any]] = {name: getattr(spec.search.space, name).grid() for name in SEARCHED_PARAMS}
        if spec.search.space.normalization:
            grid["normalization"] = list(spec.search.space.normalization)
        return optuna.samplers.GridSampler(grid, seed=seed)
    if spec.search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(spec: ExperimentSpec) -> optuna.pruners.BasePruner:
    if spec.search.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1)
    return optuna.pruners.NopPruner()


def suggest(trial: optuna.Trial, name: str, space: ParamSpace) -> int:
    choices = space.choices()
    if choices is not None:
        return int(trial.suggest_categorical(name, choices))
    assert space.low is not None and space.high is not None
    return trial.suggest_int(name, space.low, space.high, step=space.step, log=space.scale == "log")


def make_objective(spec: ExperimentSpec, observer: SearchObserver):
    def objective(trial: optuna.Trial) -> float:
        space = spec.search.space
        params = TrialParams(**{name: suggest(trial, name, getattr(space, name)) for name in SEARCHED_PARAMS})
        observer.trial_started(trial.number, params)
        trial_spec = spec
        if space.normalization:
            trial_spec = spec.with_normalization(trial.suggest_categorical("normalization", list(space.normalization)))

        def on_epoch(record: EpochRecord) -> bool:
            observer.epoch_done(trial.number, record, spec.train.epochs)
            trial.report(record.val_loss, record.epoch)
            return trial.should_prune()

        try:
            metrics = run_trial(trial_spec, params, on_epoch)
        except TrialFailure as failure:
            trial.set_user_attr(FAILURE_ATTR, failure.reason)
            trial.set_user_attr("failure_detail", failure.detail)
            raise
        for key, value in metrics.items():
            trial.set_user_attr(key, json_safe(value))
        if metrics["stopped_early"]:
            raise optuna.TrialPruned(f"pruned after epoch {metrics['epochs_run']}")
        return float(metrics[OBJECTIVE_METRIC])

    return objective


def count_done(study: optuna.Study) -> int:
    """Trials that count toward the target: completed, pruned, and failures that are data (oom...)."""
    done = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)):
        if trial.state != TrialState.FAIL or FAILURE_ATTR in trial.user_attrs:
            done += 1
    return done


def stop_at_target(target: int):
    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        if count_done(study) >= target:
            study.stop()

    return callback


def notify_finished(observer: SearchObserver):
    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        observer.trial_finished(trial, best_value(study))

    return callback


def best_value(study: optuna.Study) -> float | None:
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return min((t.value for t in completed if t.value is not None), default=None)


def load_existing_study(storage_url: str, study_name: str | None) -> optuna.Study:
    """Load a study for reading; with no name, the storage's only study (or an error listing them)."""
    storage = open_storage(storage_url, create=False)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)]
    if study_name is None:
        if len(names) != 1:
            listed = ", ".join(names) if names else "none"
            raise StudyNotFoundError(
                f"storage {mask_url(storage_url)!r} holds {len(names)} studies ({listed}); pick one with --study"
            )
        study_name = names[0]
    if study_name not in names:
        listed = ", ".join(names) if names else "none"
        raise StudyNotFoundError(
            f"no study {study_name!r} in {mask_url(storage_url)!r} (studies there: {listed}); fix --study"
        )
    return optuna.load_study(study_name=study_name, storage=storage)


def stored_spec(study: optuna.Study) -> dict[str, Any]:
    return json.loads(json.dumps(study.user_attrs.get(SPEC_ATTR, {})))
