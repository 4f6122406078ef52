"""The live search display: epoch, val loss so far, best so far, time left, elapsed time."""

from __future__ import annotations

import io

import optuna
from rich.console import Console

from lstmexp.cli.progress import SearchProgress, StudyEta, format_duration
from lstmexp.spec import ExperimentSpec
from lstmexp.training.loop import EpochRecord
from tests.search_specs import sized


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(epoch: int, val_loss: float) -> EpochRecord:
    return EpochRecord(epoch=epoch, train_loss=val_loss * 1.1, val_loss=val_loss, train_s=1.0, eval_s=0.1,
                       grad_norm_mean=1.0, grad_norm_max=2.0, nonfinite_grad_frac=0.0)


def finished_trial(number: int, value: float) -> optuna.trial.FrozenTrial:
    trial = optuna.trial.create_trial(
        params={"batch_size": 32}, distributions={"batch_size": optuna.distributions.CategoricalDistribution([32])},
        value=value, user_attrs={"val_loss_best": value, "samples_per_s": 1234.0, "peak_mem_bytes": 2**21},
    )
    trial.number = number
    return trial


def screen(progress: SearchProgress) -> list[str]:
    """What the live display shows right now (rendered with the progress clock's current time)."""
    out = Console(file=io.StringIO(), width=160)
    out.print(progress.progress.get_renderable())
    return [line.rstrip() for line in out.file.getvalue().splitlines()]  # type: ignore[attr-defined]


def test_live_rows_show_epoch_loss_best_eta_and_ticking_elapsed_time():
    clock = Clock()
    console = Console(file=io.StringIO(), width=160)
    progress = SearchProgress(console, clock=clock)
    progress.study_ready("s", 0, 3)
    progress.trial_started(0, sized(ExperimentSpec(), batch_size=32, time_step=16, hidden_size=8))
    clock.now += 65  # no event for a minute: the elapsed time must move anyway
    study_row, trial_row = screen(progress)
    assert trial_row.startswith("trial 0: batch 32, T 16, hidden 8") and "0:01:05 epoch 0" in trial_row

    progress.epoch_done(0, record(1, 0.5), 4)  # a quarter of the trial took 65 s: 195 s left in it, 2 trials more
    study_row, trial_row = screen(progress)
    assert trial_row.endswith("1/4 0:01:05 epoch 1/4, val loss 0.5 (lowest 0.5)")
    assert study_row.endswith("0/3 0:01:05 no feasible best yet, about 0:11:55 left")
    progress.epoch_done(0, record(2, 0.7), 4)
    assert screen(progress)[1].endswith("epoch 2/4, val loss 0.7 (lowest 0.5)")

    clock.now += 195
    progress.trial_finished(finished_trial(0, 0.25), 0.25)  # 260 s per trial, 2 to go
    study_row, _ = screen(progress)
    assert study_row.endswith("1/3 0:04:20 best 0.25, about 0:08:40 left")
    assert "trial 0 complete: batch_size=32: val loss 0.25, 1234 samples/s, 2.0 MiB" in console.file.getvalue()


def test_eta_waits_for_a_pace_and_counts_resumed_trials():
    clock = Clock()
    eta = StudyEta(clock)
    eta.start(done=8, target=10)
    eta.trial_started()
    assert eta.seconds_left() is None  # no epoch, no finished trial: no pace to extrapolate
    clock.now += 30
    eta.trial_finished()
    assert eta.seconds_left() == 30  # one trial left at 30 s each
    assert format_duration(3725) == "1:02:05"
