"""A trial's measurements apart from training: the speed probe (which chooses the thread count), the
tensor peak, and how their figures join the training run's (`lstmexp.trial` runs them)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.measure import (
    MemoryReading,
    SpeedFigure,
    TensorPeak,
    measure_tensor_peak,
    probe_speed,
    remember_choice,
    thread_candidates,
)
from lstmexp.metric_names import PEAK_MEM_BYTES, PEAK_MEM_METHOD, PROCESS_PEAK_BYTES, PROCESS_PEAK_MISSING
from lstmexp.spec import ExperimentSpec
from lstmexp.train import TrainConfig, Trainer

if TYPE_CHECKING:
    from lstmexp.trial import TrialParams


def probe_configuration(
    spec: ExperimentSpec, params: TrialParams, series: Series, model: nn.Module
) -> tuple[SpeedFigure, TensorPeak, str]:
    """The configuration's speed (its thread count chosen here, cached per shape) and tensor peak, from
    `model`, built for the probe alone: training's weights and random streams are left untouched."""
    config = TrainConfig.from_spec(spec, params, spec.train.seed)
    shape = (params.batch_size, params.time_step, params.hidden_size, spec.model.num_layers, series.input_size,
             spec.train.amp, spec.train.stateful)
    candidates, policy = thread_candidates(spec.train.threads, shape)
    trainer = Trainer(model, series, config)
    step = trainer.step_runner()
    steps = trainer.source.iterations * config.epochs
    if config.max_samples is not None:
        steps = min(steps, math.ceil(config.max_samples / config.batch_size))
    speed = probe_speed(step, series.device, candidates, steps)
    if len(candidates) > 1:
        remember_choice(shape, speed.threads)
    return speed, measure_tensor_peak(trainer.model, trainer.optimizer, step, series.device), policy


def train_speed(metrics: dict[str, Any]) -> dict[str, Any]:
    """The epoch-level throughput, kept as `samples_per_s_train` (samples_per_s is the probe's figure)."""
    for suffix in ("", "_std", "_cv"):
        if f"samples_per_s{suffix}" in metrics:
            metrics[f"samples_per_s_train{suffix}"] = metrics.pop(f"samples_per_s{suffix}")
    return metrics


def process_memory(runs: list[dict[str, Any]], device: torch.device) -> dict[str, Any]:
    """The resident-set peak over the repeats (process memory), or None with the reason."""
    if device.type == "cuda":
        return {PROCESS_PEAK_BYTES: None, PROCESS_PEAK_MISSING: "not measured on CUDA: the allocator's peak is"}
    peaks = [run[PROCESS_PEAK_BYTES] for run in runs if run[PROCESS_PEAK_BYTES] is not None]
    if peaks:
        return {PROCESS_PEAK_BYTES: max(peaks)}
    return {PROCESS_PEAK_BYTES: None, PROCESS_PEAK_MISSING: runs[0].get(PROCESS_PEAK_MISSING, "not measured")}


def memory_figures(reading: MemoryReading, tensors: TensorPeak) -> dict[str, Any]:
    process: dict[str, Any] = {PROCESS_PEAK_BYTES: reading.peak_bytes}
    if reading.missing:
        process[PROCESS_PEAK_MISSING] = reading.missing
    if tensors.peak_bytes is None:
        return process
    return {**process, PEAK_MEM_BYTES: tensors.peak_bytes, PEAK_MEM_METHOD: "tensor-peak"}
