"""Tiny search specs and readers shared by the search, storage and worker tests."""

from __future__ import annotations

from pathlib import Path

import optuna

from lstmexp.search import SKIPPED_ATTR
from lstmexp.spec import ExperimentSpec, load_spec
from lstmexp.storage.urls import load_existing_study

TINY = [
    "data.rows=600",
    "train.epochs=1",
    "train.device=cpu",
    "train.warmup_iters=1",
    "train.threads=1",  # one intra-op thread: tiny models gain nothing from more, and CI runs tests in parallel
    "search.trials=3",
    "search.pruner=none",
    "search.space.batch_size=[16,32]",
    "search.space.time_step=[4,8]",
    "search.space.hidden_size=[8]",
]
SMALL = [
    "data.rows=600",
    "train.epochs=1",
    "train.device=cpu",
    "train.warmup_iters=1",
    "search.pruner=none",
    "search.space.batch_size=[16,32]",
    "search.space.time_step=[4,8]",
    "search.space.hidden_size=[4,8]",
]


def tiny(study: str, *overrides: str) -> ExperimentSpec:
    return load_spec(None, [*TINY, f"study={study}", *overrides])


def small(study: str, *overrides: str) -> ExperimentSpec:
    return load_spec(None, [*SMALL, f"study={study}", *overrides])


def journal(tmp_path: Path) -> str:
    return f"journal:///{tmp_path}/study.journal"


def trials_of(url: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return load_existing_study(url, name).get_trials()


def trained(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    return [t for t in study.get_trials() if SKIPPED_ATTR not in t.user_attrs]


class Lines:
    """Observer that keeps nothing (worker processes print their own lines)."""

    def study_ready(self, *args: object) -> None:
        pass


def sized(spec: ExperimentSpec, batch_size: int, time_step: int, hidden_size: int) -> ExperimentSpec:
    """`spec` set to one configuration of these sizes, as a search's suggestion sets a trial's spec."""
    from lstmexp.spec.searchable import with_values

    return with_values(spec, {"train.batch_size": batch_size, "data.time_step": time_step,
                              "model.hidden_size": hidden_size})
