"""The search's live display: trials done, best so far, and the running trial's epoch (rich).

A line is also printed per finished trial, so logs of non-interactive runs (CI, nohup) tell the story.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lstmexp.units import format_bytes

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

    from lstmexp.train import EpochRecord
    from lstmexp.trial import TrialParams


class SearchProgress:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.trials_task = self.progress.add_task("trials", total=1)
        self.epoch_task = self.progress.add_task("trial", total=1, visible=False)
        self.best: float | None = None

    def __enter__(self) -> SearchProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def study_ready(self, study_name: str, done: int, target: int) -> None:
        self.progress.update(self.trials_task, total=target, completed=done, description=f"study {study_name}")
        if done:
            self.console.print(f"resuming study {study_name}: {done}/{target} trials already done")

    def trial_started(self, number: int, params: TrialParams) -> None:
        label = f"trial {number}: batch {params.batch_size}, T {params.time_step}, hidden {params.hidden_size}"
        self.progress.reset(self.epoch_task, total=None, description=label, visible=True)

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        self.progress.update(self.epoch_task, total=epochs, completed=record.epoch)

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        self.best = best
        self.progress.advance(self.trials_task)
        best_text = f"best {best:.4g}" if best is not None else "no feasible single best yet"
        self.progress.update(self.trials_task, description=f"trials ({best_text})")
        self.console.print(describe_trial(trial))


class TrialLines:
    """A line per finished trial and nothing live: for worker processes sharing one terminal."""

    def __init__(self, console: Console, prefix: str = "", announce: bool = True) -> None:
        self.console = console
        self.prefix = prefix
        self.announce = announce  # the parent process announces the study once; workers stay quiet

    def study_ready(self, study_name: str, done: int, target: int) -> None:
        if self.announce:
            self.console.print(f"study {study_name}: {done}/{target} trials done before this run", markup=False)

    def trial_started(self, number: int, params: TrialParams) -> None:
        pass

    def epoch_done(self, number: int, record: EpochRecord, epochs: int) -> None:
        pass

    def trial_finished(self, trial: FrozenTrial, best: float | None) -> None:
        self.console.print(self.prefix + describe_trial(trial), markup=False, highlight=False)


def describe_trial(trial: FrozenTrial) -> str:
    attrs = trial.user_attrs
    params = ", ".join(f"{k}={v}" for k, v in trial.params.items())
    state = trial.state.name.lower()
    if "failure_reason" in attrs:
        return f"trial {trial.number} {state} ({attrs['failure_reason']}): {params}"
    if "lost" in attrs:
        return f"trial {trial.number} {state} (worker lost, retried once): {params}"
    figures = []
    if attrs.get("val_loss_best") is not None:
        figures.append(f"val loss {attrs['val_loss_best']:.4g}")
    if attrs.get("samples_per_s") is not None:
        figures.append(f"{attrs['samples_per_s']:.0f} samples/s")
    if attrs.get("peak_mem_bytes") is not None:
        figures.append(f"{format_bytes(attrs['peak_mem_bytes'])}")
    if trial.constraints and any(v > 0 for v in trial.constraints.values()):
        broken = ", ".join(k for k, v in trial.constraints.items() if v > 0)
        figures.append(f"infeasible: {broken}")
    if "repeat_of" in attrs:
        figures.append(f"repeat of trial {attrs['repeat_of']} with seed {attrs.get('train_seed')}")
    return f"trial {trial.number} {state}: {params}: {', '.join(figures)}"
