"""Building a trial's record from what it ran: the training runs (one per seed) and the speed probe.

Every figure is computed here once, from the typed results of training, evaluation and measurement
(`lstmexp.trial` runs them); `lstmexp.trial.record` defines the sections and how they are stored.
With `train.repeats` > 1 the figures in `names.REPEATED` are means over the runs, with
their spread; every other figure is the first run's, and peak memory is the largest of any run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch

from lstmexp.measure import MemoryReading, SpeedFigure, TensorPeak
from lstmexp.training.evaluate import Evaluation
from lstmexp.training.loop import EpochRecord, TrainResult
from lstmexp.trial.record import (
    Accuracy,
    Contention,
    Curves,
    Environment,
    Measured,
    Memory,
    Repeats,
    Setup,
    Speed,
    SplitErrors,
    Target,
    Training,
    TrialRecord,
)
from lstmexp.vocabulary import names

TENSOR_PEAK_METHOD = "tensor-peak"
CUDA_PROCESS_PEAK = "not measured on CUDA: the allocator's peak is"


@dataclass(frozen=True)
class RunOutcome:
    """One training run (one seed): its training result, evaluations, memory reading and model size."""

    result: TrainResult
    val: Evaluation
    test: Evaluation
    reading: MemoryReading
    param_count: int
    class_accuracy: dict[str, float] = field(default_factory=dict)  # split -> accuracy (classification tasks)


class Compute(NamedTuple):
    """The configuration's arithmetic: FLOPs per sample, the device's matmul peak, the activation estimate."""

    flops_per_sample: float
    peak_gflops: float
    activation_bytes: int
    steps_per_sample: int  # time steps one sample carries (1 for a stateful stream step)


class Probe(NamedTuple):
    """The speed probe's figure (its meter also holds training's contention), tensor peak and thread policy."""

    speed: SpeedFigure
    tensors: TensorPeak
    policy: str


class Spreads:
    """Figures averaged over repeats, and the (std, cv) each average has."""

    def __init__(self, runs: list[RunOutcome]) -> None:
        self.runs = runs
        self.spread: dict[str, tuple[float | None, float | None]] = {}

    def mean(self, name: str, figure: Callable[[RunOutcome], float | None]) -> float | None:
        """The mean over runs (ddof=1 spread kept), or the first run's value when a run lacks the figure."""
        values = [figure(run) for run in self.runs]
        numbers = [v for v in values if v is not None and math.isfinite(v)]
        if len(values) == 1 or len(numbers) < len(values):
            return values[0]
        mean, std = float(np.mean(numbers)), float(np.std(numbers, ddof=1))
        self.spread[name] = (std, std / abs(mean) if mean != 0 else None)
        return mean


def build_record(
    runs: list[RunOutcome], probe: Probe, compute: Compute, setup: Setup, device: torch.device,
    target_val_loss: float | None, wall_s: float,
) -> TrialRecord:
    """The trial's record from its runs (the first one complete; repeats only when it was not stopped)."""
    spreads = Spreads(runs)
    first = runs[0]
    epochs = first.result.epochs
    # Sections that average over the runs first: the repeats section lists the spreads they found.
    speed = speed_section(runs, probe.speed, compute, spreads, wall_s)
    accuracy = accuracy_section(runs, spreads)
    training = Training(
        epochs_run=len(epochs),
        best_epoch=first.result.best_epoch,
        stopped_early=first.result.stopped_early,
        budget_reached=first.result.budget_reached,
        patience_ran_out=first.result.patience_ran_out,
        study_budget_cut=any(run.result.study_budget_cut for run in runs),
        grad_norm_mean=spreads.mean(names.GRAD_NORM_MEAN,
                                    lambda r: float(np.nanmean([e.grad_norm_mean for e in r.result.epochs]))),
        grad_norm_max=float(np.nanmax([e.grad_norm_max for e in epochs])),
        nonfinite_grad_frac=float(np.mean([e.nonfinite_grad_frac for e in epochs])),
    )
    target = target_section(runs, spreads, target_val_loss)
    return TrialRecord(measured=Measured(
        speed=speed,
        contention=contention_section(probe.speed),
        memory=memory_section(runs, probe.tensors, compute.activation_bytes, device),
        accuracy=accuracy,
        training=training,
        curves=Curves(
            train_loss=tuple(e.train_loss for e in epochs),
            val_loss=tuple(e.val_loss for e in epochs),
            grad_norm_mean=tuple(e.grad_norm_mean for e in epochs),
            grad_norm_max=tuple(e.grad_norm_max for e in epochs),
        ),
        target=target,
        repeats=Repeats(len(runs), dict(spreads.spread)),
        setup=setup,
        environment=Environment(device=str(device), torch_threads=probe.speed.threads, threads_policy=probe.policy),
    ))


def speed_section(runs: list[RunOutcome], speed: SpeedFigure, compute: Compute, spreads: Spreads,
                  wall_s: float) -> Speed:
    """The probe's steady-state throughput (the clock judged to stand), training's own, and the
    arithmetic rate they imply."""
    first = runs[0].result
    judged = speed.judgement
    achieved = compute.flops_per_sample * judged.samples_per_s / 1e9
    return Speed(
        samples_per_s=judged.samples_per_s,
        samples_per_s_spread=speed.spread,
        samples_per_s_blocks=len(speed.block_rates),
        samples_per_s_train=spreads.mean(names.SAMPLES_PER_S_TRAIN, lambda r: r.result.samples_per_s),
        # A stateful sample is one step of a stream; a stateless sample is a window of time_step steps.
        time_steps_per_s=judged.samples_per_s * compute.steps_per_sample,
        train_s_per_epoch=spreads.mean(names.TRAIN_S_PER_EPOCH, lambda r: epoch_mean(r, "train_s")),
        eval_s_per_epoch=spreads.mean(names.EVAL_S_PER_EPOCH, lambda r: epoch_mean(r, "eval_s")),
        iterations_per_epoch=first.iterations_per_epoch,
        train_samples_per_epoch=first.samples_per_epoch,
        warmup_iters=first.warmup_iters,
        samples_seen=first.samples_seen,
        flops_per_sample=compute.flops_per_sample,
        achieved_gflops=achieved,
        peak_gflops=compute.peak_gflops,
        hw_efficiency_pct=100.0 * achieved / compute.peak_gflops,
        wall_s=wall_s,
        samples_per_s_clock=judged.clock,
        samples_per_s_wall=judged.wall_samples_per_s,
        samples_per_s_thread_cpu=judged.cpu_samples_per_s,
        clocks_agree=judged.clocks_agree,
        samples_per_s_cv=judged.uncertainty,
        rescued_from=judged.reason if not judged.contended and judged.reason else None,
    )


def epoch_mean(run: RunOutcome, seconds: str) -> float:
    return float(np.mean([getattr(e, seconds) for e in run.result.epochs]))


def contention_section(speed: SpeedFigure) -> Contention:
    """Whether the speed figure is usable (its clocks' verdict) beside the machine-wide reading."""
    reading, judged = speed.contention, speed.judgement
    return Contention(
        contended=judged.contended,
        contention_reason=judged.reason if judged.contended else "",
        machine_contended=reading.contended,
        machine_contention_reason=reading.reason,
        cpu_share=reading.cpu_share,
        load_avg_1m=reading.load_avg_1m,
        other_cpu_frac=reading.other_cpu_frac,
        steal_frac=reading.steal_frac,
    )


def memory_section(runs: list[RunOutcome], tensors: TensorPeak, estimate: int, device: torch.device) -> Memory:
    """Peak memory: the exact tensor peak where there is one (CPU), else the device's reading; the
    resident-set reading is kept as process memory (its largest over the runs)."""
    first = runs[0].reading
    peaks = [tensors.peak_bytes if tensors.peak_bytes is not None else run.reading.peak_bytes for run in runs]
    process, missing = process_peak(runs, device)
    return Memory(
        peak_mem_bytes=max((p for p in peaks if p is not None), default=None),
        peak_mem_reserved_bytes=first.reserved_bytes,
        peak_mem_method=TENSOR_PEAK_METHOD if tensors.peak_bytes is not None else first.method,
        process_peak_bytes=process,
        tensor_peak_bytes=tensors.peak_bytes,
        tensor_params_bytes=tensors.params_bytes,
        tensor_grads_bytes=tensors.grads_bytes,
        tensor_optimizer_bytes=tensors.optimizer_bytes,
        tensor_activations_bytes=tensors.activations_bytes,
        activation_mem_est_bytes=estimate,
        param_count=runs[0].param_count,
        process_peak_missing=missing,
        tensor_peak_missing=tensors.missing or None,
    )


def process_peak(runs: list[RunOutcome], device: torch.device) -> tuple[int | None, str | None]:
    """The resident-set peak over the runs, or None with the reason."""
    if device.type == "cuda":
        return None, CUDA_PROCESS_PEAK
    peaks = [run.reading.peak_bytes for run in runs if run.reading.peak_bytes is not None]
    if peaks:
        return max(peaks), None
    return None, runs[0].reading.missing or "not measured"


def accuracy_section(runs: list[RunOutcome], spreads: Spreads) -> Accuracy:
    first = runs[0]
    epochs = first.result.epochs
    return Accuracy(
        val_loss_best=spreads.mean(names.VAL_LOSS_BEST, lambda r: r.result.best.val_loss),
        val_loss_final=epochs[-1].val_loss,
        train_loss_final=epochs[-1].train_loss,
        test_loss=first.test.mse,
        val=split_errors(first.val, first.class_accuracy.get("val")),
        test=SplitErrors(
            **{**vars(split_errors(first.test, first.class_accuracy.get("test"))),
               names.MSE: spreads.mean(names.TEST_MSE, lambda r: r.test.mse),
               names.MAE_UNITS: spreads.mean(names.TEST_MAE_UNITS, lambda r: r.test.mae_units),
               names.SKILL: spreads.mean(names.TEST_SKILL, lambda r: r.test.skill)},
        ),
    )


def split_errors(ev: Evaluation, class_accuracy: float | None) -> SplitErrors:
    return SplitErrors(
        mse=ev.mse, mae=ev.mae, rmse=ev.rmse, mse_units=ev.mse_units, mae_units=ev.mae_units,
        rmse_units=ev.rmse_units, naive_mse=ev.naive_mse, naive_mse_units=ev.naive_mse_units, skill=ev.skill,
        accuracy=class_accuracy,
    )


def target_section(runs: list[RunOutcome], spreads: Spreads, target: float | None) -> Target | None:
    if target is None:
        return None
    return Target(
        time_to_target_s=spreads.mean(names.TIME_TO_TARGET_S, lambda r: time_to_target(r.result.epochs, target)[0]),
        epochs_to_target=time_to_target(runs[0].result.epochs, target)[1],
    )


def time_to_target(epochs: list[EpochRecord], target: float) -> tuple[float | None, int | None]:
    """Training plus evaluation seconds, and the epoch, when the val loss first reached `target` (None: never)."""
    elapsed = 0.0
    for record in epochs:
        elapsed += record.train_s + record.eval_s
        if record.val_loss <= target:
            return elapsed, record.epoch
    return None, None
