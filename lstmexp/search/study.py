"""Creating a study, or resuming it when its stored spec is comparable with this one."""

from __future__ import annotations

import zlib

import optuna

from lstmexp.errors import StudyNotFoundError
from lstmexp.measure import collect_environment
from lstmexp.search.liveness import this_worker
from lstmexp.search.objective import directions
from lstmexp.search.registry import grid_size, make_pruner, make_sampler
from lstmexp.search.resume import check_comparable
from lstmexp.spec import ExperimentSpec
from lstmexp.spec.stored import SPEC_SCHEMA, SPEC_SCHEMA_ATTR, as_written, stored_form
from lstmexp.storage.urls import ENV_ATTR, SPEC_ATTR, mask_url, scheme_of
from lstmexp.vocabulary.attrs import LR_COTUNED_ATTR


def create_or_resume(spec: ExperimentSpec, storage: optuna.storages.BaseStorage, seed_offset: int = 0) -> optuna.Study:
    """Create the study, or resume it when its stored spec is comparable with this one."""
    return open_study(spec, storage, seed_offset)[0]


def open_study(
    spec: ExperimentSpec, storage: optuna.storages.BaseStorage, seed_offset: int = 0
) -> tuple[optuna.Study, bool]:
    """The study, created or resumed, and whether this call created it (then it has no trials yet)."""
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
        store_spec(study, spec)
        describe_study(study, spec)
        return study, True
    stored = study.user_attrs.get(SPEC_ATTR)
    if stored is None:  # created, then killed before its spec was stored: finish the creation now
        check_unfinished(study, spec)
        store_spec(study, spec)
    else:
        check_comparable(as_written(stored, study.user_attrs.get(SPEC_SCHEMA_ATTR)), spec.to_dict(), spec.study)
    study.sampler = make_sampler(spec, seed_offset)
    study.pruner = make_pruner(spec)
    return study, False


def store_spec(study: optuna.Study, spec: ExperimentSpec) -> None:
    """The spec, its schema version and the machine, on a new study."""
    study.set_user_attr(SPEC_SCHEMA_ATTR, SPEC_SCHEMA)
    study.set_user_attr(SPEC_ATTR, stored_spec(spec))
    study.set_user_attr(ENV_ATTR, collect_environment(spec.train.threads))


def stored_spec(spec: ExperimentSpec) -> dict[str, object]:
    """The spec as stored on the study, where any Optuna client can read it: no credentials.

    The storage URL is where the study lives, not what it measured; stored masked, so a password in
    a spec's `storage:` never reaches optuna-dashboard or an exported study.
    """
    # Every field, not only those off their defaults: a default that changes in a later version must
    # not change what an old study measured (lstmexp.spec.stored).
    stored = stored_form(spec)
    if stored.get("storage"):
        stored["storage"] = mask_url(str(stored["storage"]))
    return stored


def check_unfinished(study: optuna.Study, spec: ExperimentSpec) -> None:
    """Refuse, before writing anything, a study without lstmexp's spec that is not an unfinished creation.

    A study without the spec is either one a process created and was killed before storing the
    spec (no trials yet, the spec's objectives: safe to finish), or another program's: with trials,
    or with other objectives, it is refused.
    """
    wanted = [d.upper() for d in directions(spec)]
    present = [d.name for d in study.directions]
    if study.get_trials(deepcopy=False):
        raise StudyNotFoundError(
            f"study {spec.study!r} was not made by lstmexp (no {SPEC_ATTR} attribute, "
            f"{len(study.get_trials(deepcopy=False))} trials); nothing was written: use --study NEW_NAME"
        )
    if present != wanted:
        raise StudyNotFoundError(
            f"study {spec.study!r} optimises {', '.join(present).lower()}, not the spec's "
            f"{', '.join(wanted).lower()} ({', '.join(spec.search.objectives)}); nothing was written: "
            "use --study NEW_NAME"
        )


def describe_study(study: optuna.Study, spec: ExperimentSpec) -> None:
    """Objective names for every Optuna client (dashboards show "Objective 0" otherwise), and whether
    the learning rate is tuned per batch size (the report then judges C5-C9 at each size's best lr)."""
    study.set_metric_names(list(spec.search.objectives))
    space = spec.search.space
    if "train.lr" in space.fields and space.size("batch_size").size() > 1:
        study.set_user_attr(LR_COTUNED_ATTR, True)


def target_count(spec: ExperimentSpec) -> int:
    """The trial count to reach: a grid has no more points than its combinations."""
    if spec.search.sampler == "grid":
        return min(spec.search.trials, grid_size(spec))
    return spec.search.trials


def sampler_seed_offset(storage_url: str, worker_index: int) -> int:
    """Added to the sampler's seed so that workers of one study do not all suggest the same sequence.

    The i-th local worker adds i (one worker: the seed as given, reproducible). On a database
    server workers on other machines also count from 0, so there the offset comes from this
    process's identity: a distributed search is not reproducible anyway (trial order is timing).
    """
    if scheme_of(storage_url) in ("postgresql", "mysql"):
        return zlib.crc32(this_worker().encode()) % 1_000_003
    return worker_index
