"""One configuration, end to end: data, model, training, evaluation and measurements -> flat metrics.

The metric names carry their units (`_s`, `_bytes`, `_per_s`, `_units` = the target's own units;
plain losses are MSE on scaled values). Search stores them as Optuna user attributes; `lstmexp run`
prints them; the report reads them back.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from lstmexp.data import Series, load_series
from lstmexp.errors import DataError
from lstmexp.measure import (
    TrialMemory,
    estimate_activation_bytes,
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
    """Train one configuration and return its metrics. Raises TrialFailure for oom / diverged."""
    wall_start = time.perf_counter()
    device = resolve_device(spec.train.device)
    threads = set_threads(spec.train.threads)
    series = cached_series(spec.data.model_dump_json(), str(device))
    prime_runtime(device)
    seed_everything(spec.train.seed)
    config = TrainConfig(
        batch_size=params.batch_size,
        time_step=params.time_step,
        epochs=spec.train.epochs,
        lr=spec.train.lr,
        horizon=spec.data.horizon,
        weight_decay=spec.train.weight_decay,
        grad_clip=spec.train.grad_clip,
        warmup_iters=spec.train.warmup_iters,
        seed=spec.train.seed,
    )
    memory = TrialMemory(device)
    try:
        with memory:
            model = build_model(spec, params, series).to(device)
            result = (train_stateful if spec.train.stateful else train)(model, series, config, on_epoch)
            reading = memory.reading()
    except torch.OutOfMemoryError as exc:
        raise TrialFailure("oom", first_line(exc)) from exc
    except RuntimeError as exc:
        if "can't allocate memory" in str(exc) or "out of memory" in str(exc).lower():
            raise TrialFailure("oom", first_line(exc)) from exc
        raise
    finally:
        memory.release()

    if result.best_state is not None:
        model.load_state_dict(result.best_state)
    scorer = evaluate_stateful if spec.train.stateful else evaluate
    val = scorer(model, series, "val", params.time_step, spec.data.horizon)
    test = scorer(model, series, "test", params.time_step, spec.data.horizon)
    epochs = result.epochs
    return {
        "val_loss_best": result.best.val_loss,
        "val_loss_final": epochs[-1].val_loss,
        "train_loss_final": epochs[-1].train_loss,
        "test_loss": test.mse,
        **evaluation_metrics("val", val),
        **evaluation_metrics("test", test),
        "samples_per_s": result.samples_per_s,
        # A stateful sample is one step of a stream; a stateless sample is a window of time_step steps.
        "time_steps_per_s": result.samples_per_s * (1 if spec.train.stateful else params.time_step),
        "train_s_per_epoch": float(np.mean([e.train_s for e in epochs])),
        "eval_s_per_epoch": float(np.mean([e.eval_s for e in epochs])),
        "iterations_per_epoch": result.iterations_per_epoch,
        "train_samples_per_epoch": result.samples_per_epoch,
        "warmup_iters": result.warmup_iters,
        "epochs_run": len(epochs),
        "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early,
        "wall_s": time.perf_counter() - wall_start,
        "peak_mem_bytes": reading.peak_bytes,
        "peak_mem_reserved_bytes": reading.reserved_bytes,
        "peak_mem_method": reading.method,
        "activation_mem_est_bytes": estimate_activation_bytes(
            params.batch_size, params.time_step, params.hidden_size, spec.model.num_layers, series.input_size
        ),
        "param_count": count_parameters(model),
        "grad_norm_mean": float(np.nanmean([e.grad_norm_mean for e in epochs])),
        "grad_norm_max": float(np.nanmax([e.grad_norm_max for e in epochs])),
        "nonfinite_grad_frac": float(np.mean([e.nonfinite_grad_frac for e in epochs])),
        "device": str(device),
        "torch_threads": threads,
        "curve_train_loss": [e.train_loss for e in epochs],
        "curve_val_loss": [e.val_loss for e in epochs],
        **data_metrics(spec, model, series, params),
    }


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
