"""What a search tells its caller: the observer protocol, the summary, and the best value so far.

The search formats nothing: the CLI's display (lstmexp/cli/progress.py) implements SearchObserver.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import optuna
from optuna.trial import TrialState

from lstmexp.search.slots import TrialLedger, counts, tally
from lstmexp.trial.record import trial_figures
from lstmexp.vocabulary.attrs import RUN_ATTR, SKIPPED_ATTR

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from lstmexp.spec import ExperimentSpec
    from lstmexp.training.loop import EpochRecord


class SearchObserver(Protocol):
    """What the CLI's progress display listens to. Methods are called from the search's thread."""

    def study_ready(self, study_name: str, done: int, target: int) -> None: ...
    def trial_started(self, number: int, spec: ExperimentSpec) -> None: ...
    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None: ...
    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None: ...


class QuietObserver:
    def study_ready(self, study_name: str, done: int, target: int) -> None:
        pass

    def trial_started(self, number: int, spec: ExperimentSpec) -> None:
        pass

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        pass

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        pass


@dataclass(frozen=True)
class SearchSummary:
    study_name: str
    storage: str  # masked
    done: int  # trials that count toward the target (complete, pruned, and failures that are data)
    target: int
    ran_now: int  # trials this command finished (its own, not other searches' on the same study)
    budget_stop: str | None = None  # why a whole-study budget ended the search (None: it did not)
    # How the study's trials and this command's ended: {"complete": 2, "diverged": 1, "failed": 1}
    outcomes: dict[str, int] = field(default_factory=dict)
    ran_outcomes: dict[str, int] = field(default_factory=dict)


def summarize(study: optuna.Study, storage: str, target: int, run_id: str, budget_stop: str | None) -> SearchSummary:
    """The summary of a search command: the study's trials (read once), and those this command (`run_id`) finished."""
    trials = study.get_trials(deepcopy=False)
    mine = tally([t for t in trials if trial_figures(t.user_attrs).get(RUN_ATTR) == run_id])
    return SearchSummary(study.study_name, storage, sum(counts(t) for t in trials), target, sum(mine.values()),
                         budget_stop, tally(trials), mine)


def notify_finished(observer: SearchObserver, ledger: TrialLedger) -> Callable[[optuna.Study, FrozenTrial], None]:
    """Tell the observer, with the best value among the trials the ledger read after this one."""

    def callback(study: optuna.Study, trial: FrozenTrial) -> None:
        if SKIPPED_ATTR not in trial.user_attrs:
            observer.trial_finished(trial, best_of(study, ledger.trials))

    return callback


def is_feasible(trial: FrozenTrial) -> bool:
    """Whether a trial meets every constraint the objective set on it (Optuna's: feasible when <= 0)."""
    return all(value <= 0 for value in trial.constraints.values())


def best_value(study: optuna.Study) -> float | None:
    """Best feasible value of a single-objective study (None for several objectives)."""
    return best_of(study, study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def best_of(study: optuna.Study, trials: Sequence[FrozenTrial]) -> float | None:
    if len(study.directions) != 1:
        return None
    values = [
        t.value for t in trials
        if t.state == TrialState.COMPLETE and t.value is not None and is_feasible(t)
    ]
    if not values:
        return None
    return max(values) if study.direction == optuna.study.StudyDirection.MAXIMIZE else min(values)
