"""One configuration, end to end: data, model, training, evaluation and measurements -> flat metrics.

The metric names carry their units (`_s`, `_bytes`, `_per_s`, `_units` = the target's own units;
plain losses are MSE on scaled values). Search stores them as Optuna user attributes; `lstmexp run`
prints them; the report reads them back.
"""

from __future__ import annotations

import gc
import json
import math
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from lstmexp.data import Series, load_series
from lstmexp.errors import DataError, SpecError
from lstmexp.measure import (
    TrialMemory,
    estimate_activation_bytes,
    lstm_training_flops_per_sample,
    peak_gflops,
    prime_runtime,
    resolve_device,
    set_threads,
)
from lstmexp.model import ClassProbabilities, LSTMForecaster, WindowNormalized, count_parameters
from lstmexp.spec import DataSpec, ExperimentSpec
from lstmexp.train import (
    EpochRecord,
    TrainConfig,
    TrialFailure,
    accuracy,
    evaluate,
    evaluate_stateful,
    train,
    train_stateful,
)

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


@dataclass(frozen=True)
class TrialParams:
    batch_size: int
    time_step: int
    hidden_size: int


def run_trial(
    spec: ExperimentSpec,
    params: TrialParams,
    on_epoch: Callable[[EpochRecord], bool] | None = None,
) -> dict[str, Any]:
    """Train one configuration (`train.repeats` times) and return its metrics.

    Raises TrialFailure for oom / diverged. With repeats, `on_epoch` (pruning, progress) follows
    the first repeat only: a configuration pruned there is not repeated.
    """
    wall_start = time.perf_counter()
    device = resolve_device(spec.train.device)
    if spec.train.amp == "fp16" and device.type != "cuda":
        raise SpecError(f"train.amp=fp16 needs CUDA but the device is {device}; use train.amp=bf16 or none")
    threads = set_threads(spec.train.threads)
    series = cached_series(spec.data.model_dump_json(), str(device))
    prime_runtime(device)
    runs = []
    for repeat in range(spec.train.repeats):
        seed = spec.train.seed + repeat
        runs.append(train_once(spec, params, series, seed, on_epoch if repeat == 0 else None))
        if runs[0]["stopped_early"]:
            break
    metrics = combine_repeats(runs)
    flops = lstm_training_flops_per_sample(
        series.input_size, params.hidden_size, spec.model.num_layers, params.time_step,
        series.output_size, spec.data.horizon,
    )
    achieved = flops * metrics["samples_per_s"] / 1e9
    peak = peak_gflops(device)
    metrics.update(
        # A stateful sample is one step of a stream; a stateless sample is a window of time_step steps.
        time_steps_per_s=metrics["samples_per_s"] * (1 if spec.train.stateful else params.time_step),
        flops_per_sample=flops,
        achieved_gflops=achieved,
        peak_gflops=peak,
        hw_efficiency_pct=100.0 * achieved / peak,
        activation_mem_est_bytes=estimate_activation_bytes(
            params.batch_size, params.time_step, params.hidden_size, spec.model.num_layers, series.input_size
        ),
        device=str(device),
        torch_threads=threads,
        wall_s=time.perf_counter() - wall_start,
    )
    return metrics


def train_once(
    spec: ExperimentSpec,
    params: TrialParams,
    series: Series,
    seed: int,
    on_epoch: Callable[[EpochRecord], bool] | None,
) -> dict[str, Any]:
    """One training run from `seed`: its measured figures, best-epoch weights evaluated on val and test."""
    seed_everything(seed)
    config = TrainConfig(
        batch_size=params.batch_size,
        time_step=params.time_step,
        epochs=spec.train.epochs,
        lr=spec.train.lr,
        horizon=spec.data.horizon,
        weight_decay=spec.train.weight_decay,
        grad_clip=spec.train.grad_clip,
        warmup_iters=spec.train.warmup_iters,
        seed=seed,
        amp=spec.train.amp,
        max_seconds=spec.train.max_seconds,
        max_samples=spec.train.max_samples,
    )
    skip_if_estimate_exceeds(spec, params, series.input_size)
    memory = TrialMemory(series.device)
    oom: TrialFailure | None = None
    try:
        with memory:
            force_oom_for_tests(params)
            model = build_model(spec, params, series).to(series.device)
            result = (train_stateful if spec.train.stateful else train)(model, series, config, on_epoch)
            reading = memory.reading()
    except RuntimeError as exc:  # torch.OutOfMemoryError is a RuntimeError too
        if not is_out_of_memory(exc):
            raise
        # Keep no reference to the exception: its traceback holds the trial's tensors, which must
        # be freed before the next trial (optuna/optuna#1224, #4934).
        oom = TrialFailure("oom", first_line(exc), {"peak_mem_bytes": memory.reading().peak_bytes})
    finally:
        if oom is not None:
            model = None
            gc.collect()
        memory.release()
    if oom is not None:
        raise oom

    if result.best_state is not None:
        model.load_state_dict(result.best_state)
    if spec.train.stateful:
        val = evaluate_stateful(model, series, "val", params.time_step, spec.data.horizon)
        test = evaluate_stateful(model, series, "test", params.time_step, spec.data.horizon)
    else:
        val = evaluate(model, series, "val", params.time_step, spec.data.horizon, amp=spec.train.amp)
        test = evaluate(model, series, "test", params.time_step, spec.data.horizon, amp=spec.train.amp)
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
        **time_to_target(epochs, spec.train.target_val_loss),
        "peak_mem_bytes": reading.peak_bytes,
        "peak_mem_reserved_bytes": reading.reserved_bytes,
        "peak_mem_method": reading.method,
        "param_count": count_parameters(model),
        "grad_norm_mean": float(np.nanmean([e.grad_norm_mean for e in epochs])),
        "grad_norm_max": float(np.nanmax([e.grad_norm_max for e in epochs])),
        "nonfinite_grad_frac": float(np.mean([e.nonfinite_grad_frac for e in epochs])),
        "samples_seen": result.samples_seen,
        "budget_reached": result.budget_reached,
        "curve_train_loss": [e.train_loss for e in epochs],
        "curve_val_loss": [e.val_loss for e in epochs],
        "curve_grad_norm_mean": [e.grad_norm_mean for e in epochs],
        "curve_grad_norm_max": [e.grad_norm_max for e in epochs],
        **data_metrics(spec, model, series, params),
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
        if any(v is None or not math.isfinite(v) for v in values):
            continue
        mean = float(np.mean(values))
        std = float(np.std(values, ddof=1))
        combined[key] = mean
        combined[f"{key}_std"] = std
        combined[f"{key}_cv"] = std / abs(mean) if mean != 0 else float("nan")
    combined["peak_mem_bytes"] = max(run["peak_mem_bytes"] for run in runs)
    return combined


def is_out_of_memory(exc: RuntimeError) -> bool:
    """A CUDA OOM, or a CPU allocation failure (which torch raises as a plain RuntimeError)."""
    text = str(exc).lower()
    return isinstance(exc, torch.OutOfMemoryError) or "can't allocate memory" in text or "out of memory" in text


def skip_if_estimate_exceeds(spec: ExperimentSpec, params: TrialParams, input_size: int) -> None:
    """A configuration whose activations alone exceed max_memory cannot fit: fail it as infeasible
    without training. The estimate is a lower bound, so nothing that could fit is skipped."""
    cap = spec.search.constraints.max_memory
    if cap is None:
        return
    estimate = estimate_activation_bytes(
        params.batch_size, params.time_step, params.hidden_size, spec.model.num_layers, input_size
    )
    if estimate > cap:
        raise TrialFailure(
            "infeasible",
            f"estimated activation memory {format_bytes(estimate)} exceeds max_memory {format_bytes(cap)}",
            {"activation_mem_est_bytes": estimate},
        )


def format_bytes(size: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} B"


# Test hook: LSTMEXP_TEST_OOM_BATCH=N makes every trial with batch_size >= N fail as a real
# out-of-memory error would (tests cannot rely on a GPU, and capping CPU memory is not portable).
FORCE_OOM_ENV = "LSTMEXP_TEST_OOM_BATCH"


def force_oom_for_tests(params: TrialParams) -> None:
    threshold = os.environ.get(FORCE_OOM_ENV)
    if threshold and params.batch_size >= int(threshold):
        raise torch.OutOfMemoryError(f"forced by {FORCE_OOM_ENV}={threshold} at batch_size {params.batch_size}")


def data_metrics(spec: ExperimentSpec, model: torch.nn.Module, series: Any, params: TrialParams) -> dict[str, Any]:
    """How the data was fed (for grouping in reports), and accuracy for classification tasks."""
    metrics: dict[str, Any] = {
        "stateful": spec.train.stateful,
        "mode": spec.data.mode,
        "horizon": spec.data.horizon,
        "normalization": spec.data.normalization,
    }
    if getattr(series, "is_classification", False):
        for split in ("val", "test"):
            metrics[f"{split}_accuracy"] = accuracy(model, series, split, params.time_step)
    return metrics


def evaluation_metrics(split: str, ev: Any) -> dict[str, float]:
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


def build_model(spec: ExperimentSpec, params: TrialParams, series: Series) -> torch.nn.Module:
    model: torch.nn.Module = LSTMForecaster(
        input_size=series.input_size,
        hidden_size=params.hidden_size,
        output_size=series.output_size,
        num_layers=spec.model.num_layers,
        dropout=spec.model.dropout,
        horizon=spec.data.horizon,
    )
    if spec.data.normalization != "none":
        target_index = series.target_input_index
        if target_index is None:
            raise DataError(
                f"data.normalization={spec.data.normalization} needs every target among the inputs; "
                "add the target to data.features or set normalization to none"
            )
        model = WindowNormalized(model, spec.data.normalization, target_index)
    if getattr(series, "is_classification", False):
        model = ClassProbabilities(model)
    return model


@lru_cache(maxsize=4)
def cached_series(data_spec_json: str, device: str) -> Series:
    """Load a dataset once per process and device: every trial of a worker shares it."""
    return load_series(DataSpec.model_validate(json.loads(data_spec_json)), torch.device(device))


def json_safe(value: Any) -> Any:
    """NaN and inf are not JSON (Optuna stores attributes as JSON): make them None, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    return value


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__


def check_spec_runs(spec: ExperimentSpec) -> None:
    """Load the data and check the largest window fits every split, before any study is touched."""
    from lstmexp.measure import resolve_device
    from lstmexp.trial import cached_series

    device = resolve_device(spec.train.device)
    series = cached_series(spec.data.model_dump_json(), str(device))
    longest = spec.search.space.time_step.highest
    for split in ("train", "val", "test"):
        series.sample_starts(split, longest, spec.data.horizon)
    if spec.train.stateful:
        from lstmexp.data.streams import check_stateful_fits

        check_stateful_fits(series, spec.search.space.batch_size.highest, spec.data.horizon)
