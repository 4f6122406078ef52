"""A training run's figures as one flat metrics dict, and the combination of repeated runs.

The metric names carry their units (`_s`, `_bytes`, `_per_s`, `_units` = the target's own units;
plain losses are MSE on scaled values). Search stores them as Optuna user attributes; `lstmexp run`
prints them; the report reads them back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lstmexp.evaluate import Evaluation
from lstmexp.measure import MemoryReading
from lstmexp.metric_names import (
    BEST_EPOCH,
    BUDGET_REACHED,
    EPOCHS_RUN,
    EPOCHS_TO_TARGET,
    EVAL_S_PER_EPOCH,
    GRAD_NORM_MAX,
    GRAD_NORM_MEAN,
    ITERATIONS_PER_EPOCH,
    NONFINITE_GRAD_FRAC,
    PEAK_MEM_BYTES,
    PEAK_MEM_METHOD,
    PEAK_MEM_RESERVED_BYTES,
    REPEATS,
    SAMPLES_PER_S,
    SAMPLES_SEEN,
    STOPPED_EARLY,
    TEST_LOSS,
    TEST_MAE_UNITS,
    TEST_MSE,
    TEST_SKILL,
    TIME_TO_TARGET_S,
    TRAIN_LOSS_FINAL,
    TRAIN_S_PER_EPOCH,
    TRAIN_SAMPLES_PER_EPOCH,
    VAL_LOSS_BEST,
    VAL_LOSS_FINAL,
    WARMUP_ITERS,
)
from lstmexp.train import EpochRecord, TrainResult

# Metrics averaged over repeats, each with a standard deviation and coefficient of variation.
REPEATED_METRICS = (
    VAL_LOSS_BEST,
    TEST_MSE,
    TEST_MAE_UNITS,
    TEST_SKILL,
    SAMPLES_PER_S,
    TRAIN_S_PER_EPOCH,
    EVAL_S_PER_EPOCH,
    GRAD_NORM_MEAN,
    TIME_TO_TARGET_S,
)


def run_metrics(
    result: TrainResult, val: Evaluation, test: Evaluation, reading: MemoryReading, target_val_loss: float | None
) -> dict[str, Any]:
    """One run's losses, errors, speed, counters, memory, gradient health and curves."""
    epochs = result.epochs
    return {
        VAL_LOSS_BEST: result.best.val_loss,
        VAL_LOSS_FINAL: epochs[-1].val_loss,
        TRAIN_LOSS_FINAL: epochs[-1].train_loss,
        TEST_LOSS: test.mse,
        **evaluation_metrics("val", val),
        **evaluation_metrics("test", test),
        SAMPLES_PER_S: result.samples_per_s,
        TRAIN_S_PER_EPOCH: float(np.mean([e.train_s for e in epochs])),
        EVAL_S_PER_EPOCH: float(np.mean([e.eval_s for e in epochs])),
        ITERATIONS_PER_EPOCH: result.iterations_per_epoch,
        TRAIN_SAMPLES_PER_EPOCH: result.samples_per_epoch,
        WARMUP_ITERS: result.warmup_iters,
        EPOCHS_RUN: len(epochs),
        BEST_EPOCH: result.best_epoch,
        STOPPED_EARLY: result.stopped_early,
        **time_to_target(epochs, target_val_loss),
        PEAK_MEM_BYTES: reading.peak_bytes,
        PEAK_MEM_RESERVED_BYTES: reading.reserved_bytes,
        PEAK_MEM_METHOD: reading.method,
        GRAD_NORM_MEAN: float(np.nanmean([e.grad_norm_mean for e in epochs])),
        GRAD_NORM_MAX: float(np.nanmax([e.grad_norm_max for e in epochs])),
        NONFINITE_GRAD_FRAC: float(np.mean([e.nonfinite_grad_frac for e in epochs])),
        SAMPLES_SEEN: result.samples_seen,
        BUDGET_REACHED: result.budget_reached,
        "curve_train_loss": [e.train_loss for e in epochs],
        "curve_val_loss": [e.val_loss for e in epochs],
        "curve_grad_norm_mean": [e.grad_norm_mean for e in epochs],
        "curve_grad_norm_max": [e.grad_norm_max for e in epochs],
    }


def evaluation_metrics(split: str, ev: Evaluation) -> dict[str, float]:
    return {
        f"{split}_mse": ev.mse,
        f"{split}_mae": ev.mae,
        f"{split}_rmse": ev.rmse,
        f"{split}_mse_units": ev.mse_units,
        f"{split}_mae_units": ev.mae_units,
        f"{split}_rmse_units": ev.rmse_units,
        f"{split}_naive_mse": ev.naive_mse,
        f"{split}_naive_mse_units": ev.naive_mse_units,
        f"{split}_skill": ev.skill,
    }


def time_to_target(epochs: list[EpochRecord], target: float | None) -> dict[str, float | int | None]:
    """Training plus evaluation seconds until the val loss first reached `target` (None: never/unset)."""
    if target is None:
        return {}
    elapsed = 0.0
    for record in epochs:
        elapsed += record.train_s + record.eval_s
        if record.val_loss <= target:
            return {TIME_TO_TARGET_S: elapsed, EPOCHS_TO_TARGET: record.epoch}
    return {TIME_TO_TARGET_S: None, EPOCHS_TO_TARGET: None}


def combine_repeats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One metrics dict from R runs: means of the key metrics, with `_std` (ddof=1) and `_cv` beside them.

    Everything else (curves, counts, methods) comes from the first run; peak memory is the largest.
    """
    combined = dict(runs[0])
    combined[REPEATS] = len(runs)
    if len(runs) == 1:
        return combined
    for key in REPEATED_METRICS:
        values = [run.get(key) for run in runs]
        numbers = [float(v) for v in values if v is not None and math.isfinite(v)]
        if len(numbers) < len(runs):  # a run without the figure: no mean over the others
            continue
        mean = float(np.mean(numbers))
        std = float(np.std(numbers, ddof=1))
        combined[key] = mean
        combined[f"{key}_std"] = std
        combined[f"{key}_cv"] = std / abs(mean) if mean != 0 else float("nan")
    combined[PEAK_MEM_BYTES] = max((r[PEAK_MEM_BYTES] for r in runs if r[PEAK_MEM_BYTES] is not None),
                                     default=None)
    return combined
