"""Counting toward the target, claiming a slot under it, and seeding repeats of a configuration.

Workers of one study decide alone; ordering by trial number makes them agree, so a study ends
with exactly its target count of counted trials however many workers fill it.

A worker keeps the study's trials as it last read them (`TrialLedger`), with its own finished
trials put in as Optuna hands them over: that view serves the stop check, the best value, the
recovery of dead workers' trials and the next trial's claim. Every read is a statement per table on
an RDB storage (a round trip on a server), so a worker reads again only when another worker created
a trial since.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from lstmexp.spec import ExperimentSpec
from lstmexp.trial.record import trial_figures
from lstmexp.vocabulary.attrs import FAILURE_ATTR, SKIPPED_ATTR
from lstmexp.vocabulary.names import TRAIN_SEED

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial


class SkippedTrial(Exception):
    """A trial that was not trained and does not count: the target was already claimed by others."""


def counts(trial: FrozenTrial) -> bool:
    """Completed, pruned, and failures that are data (oom, diverged, infeasible) count."""
    if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
        return True
    return trial.state == TrialState.FAIL and FAILURE_ATTR in trial.user_attrs


def count_done(study: optuna.Study) -> int:
    """Trials that count toward the target: completed, pruned, and failures that are data (oom...)."""
    return sum(counts(t) for t in study.get_trials(deepcopy=False))


# How a finished trial ended, in the order a summary lists them: failures that are data (oom,
# diverged, infeasible) by their reason, and `failed` for one that ended without a result (an error).
OUTCOMES = ("complete", "pruned", "diverged", "oom", "infeasible", "failed")


def outcome(trial: FrozenTrial) -> str | None:
    """How a trial ended (one of OUTCOMES, or a failure's own reason); None while it runs or when it was skipped."""
    if trial.state == TrialState.COMPLETE:
        return "complete"
    if trial.state == TrialState.PRUNED:
        return "pruned"
    if trial.state != TrialState.FAIL or SKIPPED_ATTR in trial.user_attrs:
        return None
    return str(trial.user_attrs.get(FAILURE_ATTR) or "failed")


def tally(trials: list[FrozenTrial]) -> dict[str, int]:
    """How many of `trials` ended each way, in OUTCOMES order (other failure reasons after them)."""
    found = [o for o in (outcome(t) for t in trials) if o is not None]
    order = [*OUTCOMES, *sorted(set(found) - set(OUTCOMES))]
    return {name: found.count(name) for name in order if name in found}


def claimed(trials: Sequence[FrozenTrial], below: int | None = None) -> int:
    """Counted trials plus running ones (a running trial will count), optionally only below a number."""
    return sum((counts(t) or t.state == TrialState.RUNNING) and (below is None or t.number < below) for t in trials)


def count_claimed(study: optuna.Study, below: int | None = None) -> int:
    return claimed(study.get_trials(deepcopy=False), below)


class TrialLedger:
    """The study's trials as this worker last read them."""

    def __init__(self, study: optuna.Study, read: bool = True) -> None:
        """`read` False: a study this worker just created, which has no trials to read."""
        self.study = study
        self.trials: list[FrozenTrial] = []
        if read:
            self.refresh()

    def refresh(self) -> list[FrozenTrial]:
        self.trials = self.study.get_trials(deepcopy=False)
        return self.trials

    def note(self, finished: FrozenTrial) -> list[FrozenTrial]:
        """Put this worker's trial, just finished, in the last read (Optuna handed it over: no read needed).

        Other workers' trials finished since are seen at the next read, which the next claim makes
        as soon as another worker has created a trial (see `below`)."""
        if finished.number < len(self.trials):
            self.trials[finished.number] = finished
        elif finished.number == len(self.trials):
            self.trials.append(finished)
        else:  # other workers' trials lie between: read them
            self.refresh()
        return self.trials

    def current(self, number: int) -> list[FrozenTrial]:
        """The last read, read again when another worker has created a trial since this worker was given
        trial `number` (the rule of `below`): other workers' trials finished since are seen at their own end."""
        if len(self.trials) not in (number, number + 1):
            self.refresh()
        return self.trials

    def done(self) -> int:
        return sum(counts(t) for t in self.trials)

    def below(self, number: int) -> list[FrozenTrial]:
        """The trials numbered below `number` (a trial this worker was just given).

        Trial numbers count up from 0, so when the last read holds exactly `number` trials no other
        worker created one since, and the read holds every trial below. Their states may have moved
        on since: a running trial that then failed without counting is still counted as claimed, so
        the claim can only be too cautious; `claim_slot` reads again before it skips a trial.
        """
        if len(self.trials) != number:
            self.refresh()
        return [t for t in self.trials if t.number < number]


def claim_slot(trial: optuna.Trial, target: int, ledger: TrialLedger) -> None:
    """Train only if fewer than `target` lower-numbered trials are counted or running."""
    if claimed(ledger.below(trial.number)) >= target and claimed(ledger.refresh(), below=trial.number) >= target:
        trial.set_user_attr(SKIPPED_ATTR, "target already reached by other workers")
        raise SkippedTrial(f"trial {trial.number} not needed: {target} trials already claimed")


def seeded_for_repeat(
    spec: ExperimentSpec, trial: optuna.Trial, ledger: TrialLedger
) -> tuple[ExperimentSpec, int | None]:
    """A configuration suggested again is trained with the next seed, not re-run identically.

    Training is deterministic for a seed, so an identical re-run would only copy a known result;
    with seed + k·R the repeat measures the seed-to-seed spread of that configuration instead
    (R = train.repeats: each trial already uses seeds seed..seed+R-1, so the next one starts after).
    Returns the spec to train and the first trial of the same configuration (None: this is it).
    """
    same = [
        t for t in ledger.below(trial.number)
        if (counts(t) or t.state == TrialState.RUNNING) and t.params == trial.params
    ]
    earlier = [t.number for t in same]
    # the first seed no earlier copy used: a copy re-run after its worker died takes the seed it lost
    taken = {seed_of(t, spec.train.seed) for t in same}
    seed = next(spec.train.seed + k * spec.train.repeats for k in range(len(same) + 1)
                if spec.train.seed + k * spec.train.repeats not in taken)
    if seed != spec.train.seed:  # while it runs (its record comes at its end): the seed it took
        trial.set_user_attr(TRAIN_SEED, seed)
    spec = spec.model_copy(update={"train": spec.train.model_copy(update={"seed": seed})})
    return spec, earlier[0] if earlier else None


def seed_of(trial: FrozenTrial, default: int) -> int:
    """The seed a trial trained with: its record's, the attribute a repeat writes while it runs, else
    the spec's seed (a first copy writes nothing until its record)."""
    seed = trial_figures(trial.user_attrs).get(TRAIN_SEED)
    return default if seed is None else int(seed)

