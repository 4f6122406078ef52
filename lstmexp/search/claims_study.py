"""The claims study: the design as an ordinary lstmexp study, its trials enqueued in Optuna.

Every setting of the design is enqueued `seeds` times with `study.enqueue_trial` (the arms it belongs
to as user attributes); the search's own repeat seeding gives each copy the next seed, and any worker
(`--workers`, a database server) takes the next waiting trial. A resumed study reads its design back
from the study (never re-sized), recovers trials whose worker died, and enqueues again only the copies
that no finished, running or waiting trial stands for.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from lstmexp.search.design import HIDDEN, Arm, DataFacts, Design, Setting, make_design, step_seconds
from lstmexp.vocabulary.attrs import DESIGN_ARMS_ATTR, DESIGN_ATTR, DESIGN_KEY_ATTR
from lstmexp.vocabulary.choices import LOSS_OBJECTIVE

if TYPE_CHECKING:
    import optuna

    from lstmexp.spec import ExperimentSpec

ARMS_ATTR, KEY_ATTR = DESIGN_ARMS_ATTR, DESIGN_KEY_ATTR  # trial attrs (kept by a lost trial's retry)
CALIBRATION_STEPS = 12


def data_facts(spec: ExperimentSpec) -> tuple[DataFacts, dict[str, Any]]:
    """The train split's length and the shapes of a real batch (C1), from the spec's data."""
    import torch

    from lstmexp.data.streams import check_stateful_fits
    from lstmexp.errors import DataError
    from lstmexp.training.batches import WindowBatches
    from lstmexp.trial.run import series_of

    series = series_of(spec, "cpu")
    try:
        check_stateful_fits(series, 8, spec.data.horizon)
        fits = True
    except DataError:
        fits = False
    facts = DataFacts(series.split_rows("train"), spec.data.horizon, series.input_size, fits)
    batch, time_step = 4, min(8, facts.train_rows // 4)
    inputs, targets, _ = next(WindowBatches(series, batch, time_step, spec.data.horizon, 0).batches())
    torch.manual_seed(0)
    fed = {"batch_size": batch, "time_step": time_step, "input_size": series.input_size,
           "output_size": series.output_size, "horizon": spec.data.horizon, "inputs": list(inputs.shape),
           "targets": list(targets.shape), "input_columns": list(series.input_columns)}
    return facts, fed


def calibrate(spec: ExperimentSpec, centre: Setting) -> float:
    """Measured / modelled CPU seconds of a training step at the centre (the training thread's own clock)."""
    import torch

    from lstmexp.spec.searchable import with_values
    from lstmexp.training.loop import TrainConfig, Trainer
    from lstmexp.training.model import build_model
    from lstmexp.trial.run import series_of

    series = series_of(spec, "cpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model = build_model(with_values(spec, {"model.hidden_size": HIDDEN}), series)
        config = TrainConfig(centre.batch_size, centre.time_step, 1, centre.lr, horizon=spec.data.horizon)
        step = Trainer(model, series, config).step_runner()
        step(), step()  # warm-up: the first steps allocate the optimizer state
        began = time.thread_time()
        for _ in range(CALIBRATION_STEPS):
            step()
        measured = (time.thread_time() - began) / CALIBRATION_STEPS
    finally:
        torch.set_num_threads(threads)
    return max(0.25, min(4.0, measured / step_seconds(centre.batch_size, centre.time_step)))


def design_from_attr(stored: dict[str, Any]) -> Design:
    """The design a study stored (a resumed study keeps its own, whatever the machine measures today)."""
    arms = [Arm(a["name"], tuple(a["claims"]), a["varies"], tuple(Setting(**s) for s in a["settings"]), a["pending"])
            for a in stored["arms"]]
    return Design(DataFacts(**stored["facts"]), Setting(**stored["centre"]), list(stored["why_centre"]), arms,
                  stored["seeds"], stored["epochs"], list(stored["notes"]), stored["estimate_cpu_s"],
                  stored["budget_cpu_s"])


def searched_rows(design: Design) -> bool:
    return any(s.train_rows is not None for s, _ in design.settings().values())


def searched_chunks(design: Design) -> bool:
    return any(s.chunk > 1 for s, _ in design.settings().values())


def design_spec(spec: ExperimentSpec, design: Design, max_cpu_minutes: float) -> ExperimentSpec:
    """The study's spec: every value the design takes in its search space, one thread, no pruning."""
    from lstmexp.spec import ExperimentSpec

    settings = [s for s, _ in design.settings().values()]
    facts = design.facts
    raw = spec.to_dict()
    space = raw["search"]["space"]
    sizes = {"batch_size": {s.batch_size for s in settings}, "time_step": {s.time_step for s in settings},
             "hidden_size": {HIDDEN}}
    for name, values in sizes.items():
        space[name] = {"values": sorted(values)}
    fields = {"train.lr": sorted({s.lr for s in settings}), "train.stateful": sorted({s.stateful for s in settings})}
    if searched_rows(design):
        fields["data.train_last_rows"] = sorted({s.train_rows or facts.train_rows for s in settings})
    if searched_chunks(design):
        fields["model.chunk"] = sorted({s.chunk for s in settings})
    space["fields"] = {path: {"values": values} for path, values in fields.items()}
    space["normalization"] = None
    raw["search"].update(trials=design.trials, sampler="random", pruner="none", max_cpu_minutes=max_cpu_minutes,
                         objectives=[LOSS_OBJECTIVE], designed=True)
    raw["train"].update(epochs=design.epochs, repeats=1, threads=raw["train"]["threads"] or 1)
    return ExperimentSpec.model_validate(raw)


def plan(spec: ExperimentSpec, stored: dict[str, Any] | None, max_cpu_minutes: float) -> tuple[Design, dict[str, Any]]:
    """The stored design of a resumed study, or a new one sized to the budget (with the C1 shapes)."""
    if stored is not None:
        return design_from_attr(stored["design"]), stored["fed"]
    facts, fed = data_facts(spec)
    rough = make_design(facts, spec.train.lr, max_cpu_minutes * 60)
    scale = calibrate(spec, rough.centre)
    design = make_design(facts, spec.train.lr, max_cpu_minutes * 60, scale)
    design.notes.insert(0, f"step cost calibrated on this data and machine: ×{scale:.2f} the built-in model")
    return design, fed


def enqueue_missing(study: optuna.Study, design: Design) -> int:
    """Enqueue the copies of each setting that no counted, running or waiting trial stands for, in rounds.

    Round r holds every setting once, each round in the reverse order of the one before (A B C, C B A,
    A B C): the machine's speed drifts over a study (other work, the host), and with all of a
    setting's seeds run back to back that drift would read as the setting's effect on speed; in
    rounds it becomes spread between seeds, which the intervals count."""
    from optuna.trial import TrialState

    from lstmexp.search.slots import counts

    facts = design.facts
    present = Counter(t.user_attrs.get(KEY_ATTR) for t in study.get_trials(deepcopy=False)
                      if counts(t) or t.state in (TrialState.RUNNING, TrialState.WAITING))
    settings = list(design.settings().items())
    missing = {key: design.seeds - present[key] for key, _ in settings}
    rows, chunks = searched_rows(design), searched_chunks(design)  # the same for every setting
    added = 0
    for round_number in range(max(missing.values(), default=0)):
        for key, (setting, arms) in settings if round_number % 2 == 0 else settings[::-1]:
            if missing[key] > round_number:
                study.enqueue_trial(setting.params(facts.train_rows, rows, chunks),
                                    user_attrs={KEY_ATTR: key, ARMS_ATTR: arms})
                added += 1
    return added


def open_claims_study(spec: ExperimentSpec, storage_url: str, max_cpu_minutes: float) -> tuple[ExperimentSpec, Design]:
    """Create or resume the claims study and enqueue what it still needs; the spec the workers run."""
    import optuna

    from lstmexp.search.liveness import recover_dead_workers
    from lstmexp.search.study import create_or_resume
    from lstmexp.storage.urls import open_storage, storage_errors

    with storage_errors(storage_url):
        storage = open_storage(storage_url, create=True)
        try:
            stored = optuna.load_study(study_name=spec.study, storage=storage).user_attrs.get(DESIGN_ATTR)
        except KeyError:
            stored = None
        design, fed = plan(spec, stored, max_cpu_minutes)
        study_spec = design_spec(spec, design, max_cpu_minutes)
        study = create_or_resume(study_spec, storage)
        if stored is None:
            study.set_user_attr(DESIGN_ATTR, json.loads(json.dumps({"design": design.to_attr(), "fed": fed})))
        recover_dead_workers(study)
        enqueue_missing(study, design)
    return study_spec, design
