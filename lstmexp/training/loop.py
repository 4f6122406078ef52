"""The training loop and evaluation: epochs, steady-state timing, budgets, gradient health, best-epoch weights.

One loop serves both ways of feeding the data (`lstmexp.training.batches`: shuffled windows, or stateful
stream chunks), so every budget, AMP setting and counter holds in both. The loop never forces a
host-device sync per step: losses and gradient norms are accumulated on the device and read once
per epoch. It knows nothing of Optuna or printing; callers observe it through `on_epoch`, which
returns True to stop training early (a pruner's decision): the epochs run so far are kept, so a
stopped trial still has its speed and memory figures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.errors import TrialFailure
from lstmexp.measure import Stopwatch
from lstmexp.training.batches import Batch, BatchSource, StreamBatches, WindowBatches
from lstmexp.training.evaluate import evaluate
from lstmexp.training.step import MixedPrecision, make_optimizer

if TYPE_CHECKING:
    from lstmexp.spec import ExperimentSpec

@dataclass(frozen=True)
class TrainConfig:
    batch_size: int
    time_step: int
    epochs: int
    lr: float
    horizon: int = 1
    weight_decay: float = 0.0
    grad_clip: float | None = None
    warmup_iters: int = 5
    seed: int = 0
    amp: str | None = None  # None (float32), "bf16" or "fp16" autocast
    max_seconds: float | None = None  # training-time budget (epochs stay the cap)
    max_samples: int | None = None  # samples-seen budget
    stateful: bool = False  # stream chunks with carried state (C14) instead of shuffled windows
    patience: int | None = None  # stop after this many epochs without a better val loss; None: run every epoch
    lr_decay: float | None = None  # the learning rate times this after every epoch; None: constant
    # The process CPU time (time.process_time) at which the study's CPU budget is spent: training stops at
    # that batch, so the trial running out the budget does not run past it. None: no study budget.
    cpu_deadline: float | None = None

    @classmethod
    def from_spec(cls, spec: ExperimentSpec, seed: int) -> TrainConfig:
        """The training settings of the configuration a spec sets, trained from `seed`."""
        train = spec.train
        return cls(
            batch_size=train.batch_size,
            time_step=spec.data.time_step,
            epochs=train.epochs,
            lr=train.lr,
            horizon=spec.data.horizon,
            weight_decay=train.weight_decay,
            grad_clip=train.grad_clip,
            warmup_iters=train.warmup_iters,
            seed=seed,
            amp=train.amp,
            max_seconds=train.max_seconds,
            max_samples=train.max_samples,
            stateful=train.stateful,
            patience=train.patience,
            lr_decay=train.lr_decay,
        )

    def batch_source(self, series: Series) -> BatchSource:
        if self.stateful:
            return StreamBatches(series, self.batch_size, self.time_step, self.horizon)
        return WindowBatches(series, self.batch_size, self.time_step, self.horizon, self.seed)


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # mean MSE (scaled) over the epoch's batches
    val_loss: float  # MSE (scaled) on the validation split
    train_s: float
    eval_s: float
    grad_norm_mean: float  # global L2 norm before clipping
    grad_norm_max: float
    nonfinite_grad_frac: float
    lr: float | None = None  # the learning rate the epoch trained at (train.lr_decay lowers it epoch by epoch)


@dataclass
class TrainResult:
    epochs: list[EpochRecord] = field(default_factory=list)
    iterations_per_epoch: int = 0
    samples_per_epoch: int = 0
    steady_samples: int = 0  # training samples after the warm-up iterations
    steady_s: float = 0.0  # training seconds after the warm-up iterations
    warmup_iters: int = 0
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early: bool = False  # on_epoch asked to stop (pruned)
    samples_seen: int = 0  # training samples over all epochs run
    budget_reached: bool = False  # max_seconds, max_samples or the study's CPU budget ended training
    study_budget_cut: bool = False  # the study's CPU budget (cpu_deadline) was what ended it
    patience_ran_out: bool = False  # early stopping: `patience` epochs in a row without a better val loss

    @property
    def best(self) -> EpochRecord:
        return self.epochs[self.best_epoch - 1]

    @property
    def samples_per_s(self) -> float:
        return self.steady_samples / self.steady_s if self.steady_s > 0 else float("nan")


class SteadyClock:
    """The run's timers and its warm-up accounting: the first `warmup` steps of the run are excluded
    from the steady-state seconds and samples (throughput), wherever in an epoch they end.

    Timers are read only at epoch boundaries (Stopwatch synchronises the device first, or uses CUDA
    events), never per step.
    """

    def __init__(self, device: torch.device, warmup: int) -> None:
        self.warmup = warmup
        self.steps = 0  # steps run in the epochs before this one
        self.steady_s = 0.0
        self.steady_samples = 0
        self._epoch_watch, self._steady_watch = Stopwatch(device), Stopwatch(device)
        self._steady = False
        self._unsteady_samples = 0  # samples of this epoch run before the steady state began

    def start_epoch(self) -> int:
        """Start the epoch's timers; returns the step of this epoch at which the warm-up ends (-1: it
        has ended already; beyond the epoch: it goes on)."""
        self._epoch_watch.start()
        self._unsteady_samples = 0
        self._steady = self.steps >= self.warmup
        if self._steady:
            self._steady_watch.start()
            return -1
        return self.warmup - self.steps

    def begin_steady(self, samples_before: int) -> None:
        """The warm-up ends here, once per run; the `samples_before` it in this epoch do not count."""
        self._steady_watch.start()
        self._steady = True
        self._unsteady_samples = samples_before

    def end_epoch(self, steps: int, samples: int) -> float:
        """Stop the epoch's timers after `steps` steps over `samples` samples; returns its training seconds."""
        train_s = self._epoch_watch.stop()
        if self._steady:
            self.steady_s += self._steady_watch.stop()
            self.steady_samples += samples - self._unsteady_samples
        self.steps += steps
        return train_s


class Trainer:
    """One training run: the batch source, the optimizer, the clock and the result they fill."""

    def __init__(self, model: nn.Module, series: Series, config: TrainConfig) -> None:
        self.model, self.series, self.config = model, series, config
        self.source = config.batch_source(series)
        self.forward = self.source.forward(model)
        self.optimizer = make_optimizer(model, config.lr, config.weight_decay)
        self.schedule = (torch.optim.lr_scheduler.ExponentialLR(self.optimizer, config.lr_decay)
                         if config.lr_decay is not None else None)
        self.precision = MixedPrecision(series.device, config.amp)
        self.result = TrainResult(iterations_per_epoch=self.source.iterations,
                                  samples_per_epoch=self.source.samples_per_epoch)
        self.result.warmup_iters = min(config.warmup_iters, max(self.source.iterations * config.epochs - 1, 0))
        self.clock = SteadyClock(series.device, self.result.warmup_iters)
        self.eval_watch = Stopwatch(series.device)
        self.val_starts = series.sample_starts("val", config.time_step, config.horizon)

    def run_epoch(self) -> tuple[torch.Tensor, torch.Tensor, float]:
        """Train one epoch (or until a budget is spent); the mean loss and step norms stay on the device."""
        config, result, model, optimizer = self.config, self.result, self.model, self.optimizer
        steady_at = self.clock.start_epoch()
        sample_cap, deadline = self.budget_left()
        cpu_deadline = math.inf if config.cpu_deadline is None else config.cpu_deadline
        budgeted = any(cap is not None for cap in (config.max_samples, config.max_seconds, config.cpu_deadline))
        loss_sum = torch.zeros((), device=self.series.device)
        norms: list[torch.Tensor] = []
        ran = samples = 0
        for inputs, targets, count in self.source.batches():
            if ran == steady_at:
                self.clock.begin_steady(samples)
            loss, norm = self.precision.step(self.forward, model, optimizer, inputs, targets, config.grad_clip)
            loss_sum += loss
            norms.append(norm)
            ran += 1
            samples += count
            # The budget is read without a device sync: on CUDA the host clock may run a few ms ahead.
            if budgeted and (samples >= sample_cap or time.perf_counter() >= deadline
                             or time.process_time() >= cpu_deadline):
                result.budget_reached = True
                result.study_budget_cut = time.process_time() >= cpu_deadline
                break
        result.samples_seen += samples
        train_s = self.clock.end_epoch(ran, samples)
        return loss_sum / ran, torch.stack(norms), train_s

    def step_runner(self) -> Callable[[], int]:
        """A function that runs one training step on the next full batch (epochs repeat) and returns
        its samples: what the speed probe times, outside `train`."""
        next_batch, train_on = self.batch_steps()
        return lambda: train_on(next_batch())

    def batch_steps(self) -> tuple[Callable[[], Batch], Callable[[Batch], int]]:
        """The next full batch (epochs repeat), and one training step on a given batch (its samples).

        Apart, so that the tensor peak measures the step on a batch alone: where an epoch starts, the
        next batch also means a new shuffle and a skipped short batch, whose tensors depend on where in
        the epoch the measured step falls.
        """

        def endless() -> Iterator[Batch]:
            # Full batches only (an epoch's first batch is full; only its last may be short): a
            # step's figures must not depend on where in an epoch it falls.
            while True:
                batches = self.source.batches()
                first = next(batches)
                yield first
                yield from (batch for batch in batches if batch[2] >= first[2])

        batches = endless()

        def train_on(batch: Batch) -> int:
            inputs, targets, count = batch
            self.precision.step(self.forward, self.model, self.optimizer, inputs, targets, self.config.grad_clip)
            return count

        return lambda: next(batches), train_on

    def budget_left(self) -> tuple[float, float]:
        """Samples this epoch may still see, and the host time at which the seconds budget is spent."""
        config = self.config
        samples = math.inf if config.max_samples is None else config.max_samples - self.result.samples_seen
        if config.max_seconds is None:
            return samples, math.inf
        trained_s = sum(e.train_s for e in self.result.epochs)
        return samples, time.perf_counter() + config.max_seconds - trained_s

    def validate(self) -> tuple[float, float]:
        self.eval_watch.start()
        config = self.config
        val = evaluate(self.model, self.series, "val", config.time_step, config.horizon, self.val_starts,
                       config.amp, config.stateful)
        return val.mse, self.eval_watch.stop()


def train(
    model: nn.Module,
    series: Series,
    config: TrainConfig,
    on_epoch: Callable[[EpochRecord], bool] | None = None,
) -> TrainResult:
    """Train for config.epochs, or until a budget is spent, the val loss stopped improving for
    `config.patience` epochs (early stopping) or `on_epoch` returns True."""
    trainer = Trainer(model, series, config)
    result = trainer.result
    for epoch in range(1, config.epochs + 1):
        model.train()
        lr = trainer.optimizer.param_groups[0]["lr"]
        loss, norms, train_s = trainer.run_epoch()
        val_loss, eval_s = trainer.validate()
        record = epoch_record(epoch, loss.item(), val_loss, norms, train_s, eval_s, lr)
        if close_epoch(result, record, model, on_epoch) or result.budget_reached:
            break
        if trainer.schedule is not None:
            trainer.schedule.step()
        if config.patience is not None and epoch - result.best_epoch >= config.patience:
            result.patience_ran_out = True
            break
    result.steady_s, result.steady_samples = trainer.clock.steady_s, trainer.clock.steady_samples
    return result


def close_epoch(
    result: TrainResult, record: EpochRecord, model: nn.Module, on_epoch: Callable[[EpochRecord], bool] | None
) -> bool:
    """Keep the epoch and the best weights, fail a diverged trial; True when training should stop."""
    result.epochs.append(record)
    if not (math.isfinite(record.train_loss) and math.isfinite(record.val_loss)):
        raise TrialFailure(
            "diverged", f"loss became {record.train_loss} (train) / {record.val_loss} (val) in epoch {record.epoch}"
        )
    if result.best_epoch == 0 or record.val_loss < result.best.val_loss:
        result.best_epoch = record.epoch
        result.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    result.stopped_early = on_epoch is not None and bool(on_epoch(record))  # Optuna may answer numpy.bool_
    return result.stopped_early


def epoch_record(
    epoch: int, train_loss: float, val_loss: float, norms: torch.Tensor, train_s: float, eval_s: float,
    lr: float | None = None,
) -> EpochRecord:
    """One epoch's figures; the per-step gradient norms are read from the device here, once."""
    norms_host = norms.float().cpu().numpy()
    finite = np.isfinite(norms_host)
    return EpochRecord(
        epoch=epoch,
        train_loss=train_loss,
        val_loss=val_loss,
        train_s=train_s,
        eval_s=eval_s,
        grad_norm_mean=float(norms_host[finite].mean()) if finite.any() else float("nan"),
        grad_norm_max=float(norms_host[finite].max()) if finite.any() else float("nan"),
        nonfinite_grad_frac=float(1.0 - finite.mean()),
        lr=lr,
    )
