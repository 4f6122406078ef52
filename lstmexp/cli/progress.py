"""The search's live display: trials finished, best so far and time left; the running trial's epoch (rich).

A line is also printed per finished trial, so logs of non-interactive runs (CI, nohup) tell the story.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lstmexp.text import printable
from lstmexp.trial.record import trial_figures
from lstmexp.units import format_bytes
from lstmexp.vocabulary.names import (
    FAILURE_REASON,
    LOST,
    PEAK_MEM_BYTES,
    REPEAT_OF,
    SAMPLES_PER_S,
    TRAIN_SEED,
    VAL_LOSS_BEST,
)

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from lstmexp.search.observe import SearchSummary
    from lstmexp.spec import ExperimentSpec
    from lstmexp.training.loop import EpochRecord


class SearchProgress:
    """Two live rows: the study (done/target, best so far, ETA) and the running trial (epoch, val loss).

    Elapsed times come from rich's clock at every refresh (10 per second), not from the last event,
    so a long epoch shows its time passing; `clock` is injectable so a test can move time.
    """

    def __init__(
        self, console: Console, clock: Callable[[], float] = time.monotonic, intro: Sequence[str] = ()
    ) -> None:
        self.console = console
        self.intro = list(intro)  # said once the study is open (errors before that stay one line)
        self.clock = clock
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[info]}"),
            console=console,
            transient=True,
            get_time=clock,
        )
        self.trials_task = self.progress.add_task("trials", total=1, info="")
        self.epoch_task = self.progress.add_task("trial", total=1, visible=False, info="")
        self.best: float | None = None
        self.eta = StudyEta(clock)
        self.trial_best: float | None = None

    def __enter__(self) -> SearchProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def study_ready(self, study_name: str, done: int, target: int) -> None:
        say_intro(self.console, self.intro)
        self.eta.start(done, target)
        self.progress.update(
            self.trials_task, total=target, completed=done, description=f"study {printable(study_name)}",
        )
        if done:
            name = printable(study_name)
            self.console.print(f"resuming study {name}: {done}/{target} trials already finished", markup=False)

    def trial_started(self, number: int, spec: ExperimentSpec) -> None:
        label = (f"trial {number}: batch {spec.train.batch_size}, T {spec.data.time_step}, "
                 f"hidden {spec.model.hidden_size}")
        self.trial_best = None
        self.eta.trial_started()
        self.progress.reset(self.epoch_task, total=None, description=label, visible=True, info="epoch 0")

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        self.trial_best = record.val_loss if self.trial_best is None else min(self.trial_best, record.val_loss)
        info = f"epoch {record.epoch}/{epochs}, val loss {record.val_loss:.4g} (lowest {self.trial_best:.4g})"
        self.progress.update(self.epoch_task, total=epochs, completed=record.epoch, info=info)
        self.eta.epoch_done(record.epoch, epochs)
        self.progress.update(self.trials_task, info=self.study_info())

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        self.best = best
        self.eta.trial_finished()
        self.progress.advance(self.trials_task)
        self.progress.update(self.trials_task, info=self.study_info())
        self.console.print(describe_trial(trial))

    def study_info(self) -> str:
        best = f"best {self.best:.4g}" if self.best is not None else "no feasible best yet"
        left = self.eta.seconds_left()
        return best + (f", about {format_duration(left)} left" if left is not None else "")


class StudyEta:
    """Time left in the study: the mean trial so far times the trials left (the running one by its epochs)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.finished = 0
        self.spent = 0.0  # seconds of the trials finished in this run
        self.left = 0  # trials still to run, the running one included
        self.trial_start: float | None = None
        self.running_share = 0.0  # the running trial's epochs done / its epochs

    def start(self, done: int, target: int) -> None:
        self.left = max(target - done, 0)

    def trial_started(self) -> None:
        self.trial_start, self.running_share = self.clock(), 0.0

    def epoch_done(self, epoch: int, epochs: int) -> None:
        self.running_share = epoch / epochs if epochs else 0.0

    def trial_finished(self) -> None:
        if self.trial_start is not None:
            self.spent += self.clock() - self.trial_start
            self.finished += 1
        self.trial_start, self.running_share = None, 0.0
        self.left = max(self.left - 1, 0)

    def seconds_left(self) -> float | None:
        per_trial = self.spent / self.finished if self.finished else None
        running = self.clock() - self.trial_start if self.trial_start is not None else 0.0
        if per_trial is None and self.running_share > 0:
            per_trial = running / self.running_share  # no trial finished yet: the running one's pace
        if per_trial is None:
            return None
        in_running = max(per_trial - running, 0.0) if self.trial_start is not None else 0.0
        queued = self.left - (1 if self.trial_start is not None else 0)
        return in_running + per_trial * max(queued, 0)


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


class TrialLines:
    """A line per finished trial and nothing live: for worker processes sharing one terminal."""

    def __init__(self, console: Console, prefix: str = "", announce: bool = True, intro: Sequence[str] = ()) -> None:
        self.console = console
        self.intro = list(intro)
        self.prefix = prefix
        self.announce = announce  # the parent process announces the study once; workers stay quiet

    def study_ready(self, study_name: str, done: int, target: int) -> None:
        say_intro(self.console, self.intro)
        if self.announce:
            name = printable(study_name)
            self.console.print(f"study {name}: {done}/{target} trials finished before this run", markup=False)

    def trial_started(self, number: int, spec: ExperimentSpec) -> None:
        pass

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        pass

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        self.console.print(self.prefix + describe_trial(trial), markup=False, highlight=False)


def say_summary(console: Console, summary: SearchSummary, storage: str) -> None:
    """What a search says when it ends: its trials, why a budget stopped it, and how to see the results."""
    console.print(summary_line(summary, storage), markup=False, highlight=False)
    if summary.budget_stop:
        console.print(f"stopped early: {summary.budget_stop}", markup=False, highlight=False)
    name = printable(summary.study_name)
    console.print(f"see the trade-offs: lstmexp report --study {name} --storage {storage}", markup=False)


def summary_line(summary: SearchSummary, storage: str) -> str:
    """The search's last line: the study's trials by how they ended, then this command's own.

    A diverged, out-of-memory or infeasible trial counts toward the target (it is data) but is not
    complete, so every outcome is named; failures without a result (errors) count toward nothing.
    """
    counted = {k: v for k, v in summary.outcomes.items() if k != "failed"}
    study = ", ".join([f"{counted.pop('complete', 0)} complete", *(f"{n} {name}" for name, n in counted.items())])
    failed = summary.outcomes.get("failed", 0)
    without = f", and {failed} failed without a result" if failed else ""
    mine = ", ".join(f"{n} {name}" for name, n in summary.ran_outcomes.items())
    ran = f"{summary.ran_now} run now" + (f" ({mine})" if mine else "")
    name = printable(summary.study_name)
    return f"study {name}: {summary.done}/{summary.target} trials finished: {study}{without}; {ran}; in {storage}"


def say_intro(console: Console, lines: list[str]) -> None:
    """The lines about the data and the storage, once per run, when the study is open."""
    for line in lines:
        console.print(line, markup=False, highlight=False)
    lines.clear()


def describe_trial(trial: FrozenTrial) -> str:
    attrs = trial_figures(trial.user_attrs)
    params = ", ".join(f"{k}={v}" for k, v in trial.params.items())
    state = trial.state.name.lower()
    if FAILURE_REASON in attrs:
        return f"trial {trial.number} {state} ({attrs[FAILURE_REASON]}): {params}"
    if LOST in attrs:
        return f"trial {trial.number} {state} (worker lost, retried once): {params}"
    figures = []
    if attrs.get(VAL_LOSS_BEST) is not None:
        figures.append(f"val loss {attrs[VAL_LOSS_BEST]:.4g}")
    if attrs.get(SAMPLES_PER_S) is not None:
        figures.append(f"{attrs[SAMPLES_PER_S]:.0f} samples/s")
    if attrs.get(PEAK_MEM_BYTES) is not None:
        figures.append(f"{format_bytes(attrs[PEAK_MEM_BYTES])}")
    if trial.constraints and any(v > 0 for v in trial.constraints.values()):
        broken = ", ".join(k for k, v in trial.constraints.items() if v > 0)
        figures.append(f"infeasible: {broken}")
    if REPEAT_OF in attrs:
        figures.append(f"repeat of trial {attrs[REPEAT_OF]} with seed {attrs.get(TRAIN_SEED)}")
    return f"trial {trial.number} {state}: {params}: {', '.join(figures)}"
