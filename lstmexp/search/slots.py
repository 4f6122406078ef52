"""Counting toward the target, claiming a slot under it, and seeding repeats of a configuration.

Workers of one study decide alone; ordering by trial number makes them agree, so a study ends
with exactly its target count of counted trials however many workers fill it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import optuna
from optuna.trial import TrialState

from lstmexp.search.attrs import FAILURE_ATTR, REPEAT_ATTR, SKIPPED_ATTR
from lstmexp.spec import ExperimentSpec

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


def count_claimed(study: optuna.Study, below: int | None = None) -> int:
    """Counted trials plus running ones (a running trial will count), optionally only below a number."""
    return sum(
        (counts(t) or t.state == TrialState.RUNNING) and (below is None or t.number < below)
        for t in study.get_trials(deepcopy=False)
    )


def claim_slot(trial: optuna.Trial, target: int) -> None:
    """Train only if fewer than `target` lower-numbered trials are counted or running."""
    if count_claimed(trial.study, below=trial.number) >= target:
        trial.set_user_attr(SKIPPED_ATTR, "target already reached by other workers")
        raise SkippedTrial(f"trial {trial.number} not needed: {target} trials already claimed")


def seeded_for_repeat(spec: ExperimentSpec, trial: optuna.Trial) -> ExperimentSpec:
    """A configuration suggested again is trained with the next seed, not re-run identically.

    Training is deterministic for a seed, so an identical re-run would only copy a known result;
    with seed + k·R the repeat measures the seed-to-seed spread of that configuration instead
    (R = train.repeats: each trial already uses seeds seed..seed+R-1, so the next one starts after).
    """
    same = [
        t
        for t in trial.study.get_trials(deepcopy=False)
        if t.number < trial.number
        and (counts(t) or t.state == TrialState.RUNNING)
        and t.params == trial.params
    ]
    earlier = [t.number for t in same]
    # the first seed no earlier copy used: a copy re-run after its worker died takes the seed it lost
    taken = {t.user_attrs.get("train_seed") for t in same}
    seed = next(spec.train.seed + k * spec.train.repeats for k in range(len(same) + 1)
                if spec.train.seed + k * spec.train.repeats not in taken)
    trial.set_user_attr("train_seed", seed)
    if not earlier:
        return spec
    trial.set_user_attr(REPEAT_ATTR, earlier[0])
    return spec.model_copy(update={"train": spec.train.model_copy(update={"seed": seed})})
