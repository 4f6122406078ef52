"""A training run's figures as one flat metrics dict, and the combination of repeated runs.

The metric names carry their units (`_s`, `_bytes`, `_per_s`, `_units` = the target's own units;
plain losses are MSE on scaled values). Search stores them as Optuna user attributes; `lstmexp run`
prints them; the report reads them back.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from lstmexp.measure import MemoryReading
from lstmexp.training.evaluate import Evaluation
from lstmexp.training.loop import EpochRecord, TrainResult

# Metrics averaged over repeats, each with a standard deviation and coefficient of variation.
REPEATED_METRICS = (
    "val_loss_best",
    "test_mse",
    "test_mae_units",
    "test_skill",
    "samples_per_s",
    "train_s_per_epoch",
    "eval_s_per_epoch",
    "grad_norm_mean",
    "time_to_target_s",
)


def run_metrics(
    result: TrainResult, val: Evaluation, test: Evaluation, reading: MemoryReading, target_val_loss: float | None
) -> dict[str, Any]:
    """One run's losses, errors, speed, counters, memory, gradient health and curves."""
    epochs = result.epochs
    return {
        "val_loss_best": result.best.val_loss,
        "val_loss_final": epochs[-1].val_loss,
        "train_loss_final": epochs[-1].train_loss,
        "test_loss": test.mse,
        **evaluation_metrics("val", val),
        **evaluation_metrics("test", test),
        "samples_per_s": result.samples_per_s,
        "train_s_per_epoch": float(np.mean([e.train_s for e in epochs])),
        "eval_s_per_epoch": float(np.mean([e.eval_s for e in epochs])),
        "iterations_per_epoch": result.iterations_per_epoch,
        "train_samples_per_epoch": result.samples_per_epoch,
        "warmup_iters": result.warmup_iters,
        "epochs_run": len(epochs),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "patience_ran_out": result.patience_ran_out,
        **time_to_target(epochs, target_val_loss),
        "peak_mem_bytes": reading.peak_bytes,
        "peak_mem_reserved_bytes": reading.reserved_bytes,
        "peak_mem_method": reading.method,
        "grad_norm_mean": float(np.nanmean([e.grad_norm_mean for e in epochs])),
        "grad_norm_max": float(np.nanmax([e.grad_norm_max for e in epochs])),
        "nonfinite_grad_frac": float(np.mean([e.nonfinite_grad_frac for e in epochs])),
        "samples_seen": result.samples_seen,
        "budget_reached": result.budget_reached,
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
            return {"time_to_target_s": elapsed, "epochs_to_target": record.epoch}
    return {"time_to_target_s": None, "epochs_to_target": None}


def combine_repeats(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One metrics dict from R runs: means of the key metrics, with `_std` (ddof=1) and `_cv` beside them.

    Everything else (curves, counts, methods) comes from the first run; peak memory is the largest.
    """
    combined = dict(runs[0])
    combined["repeats"] = len(runs)
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
    combined["peak_mem_bytes"] = max((r["peak_mem_bytes"] for r in runs if r["peak_mem_bytes"] is not None),
                                     default=None)
    return combined
