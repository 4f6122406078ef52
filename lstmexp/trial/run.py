"""One configuration, end to end: data, model, training, evaluation and measurements -> its TrialRecord.

`check_spec_runs` is the preflight: whether a spec can run here at all, asked before any study is
written. The record is built from the runs in `lstmexp.trial.metrics`.
"""

from __future__ import annotations

import dataclasses
import gc
import json
import math
import random
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, cast

import numpy as np
import torch

from lstmexp.data import Series, load_series
from lstmexp.errors import SpecError, TrialFailure
from lstmexp.measure import (
    ContentionMeter,
    MemoryReading,
    SpeedFigure,
    TensorPeak,
    TrialMemory,
    bf16_autocast_supported,
    check_thread_request,
    estimate_activation_bytes,
    lstm_training_flops_per_sample,
    peak_gflops,
    prime_runtime,
    resolve_device,
)
from lstmexp.spec import DataSpec, ExperimentSpec
from lstmexp.spec.searchable import chunk_refusal
from lstmexp.training.evaluate import accuracy, evaluate
from lstmexp.training.loop import EpochRecord, TrainConfig, TrainResult, train
from lstmexp.training.model import build_model, count_parameters, network_shape
from lstmexp.trial.metrics import Compute, Probe, RunOutcome, build_record
from lstmexp.trial.probe import probe_configuration
from lstmexp.trial.record import Setup, TrialRecord
from lstmexp.units import format_bytes
from lstmexp.vocabulary.names import ACTIVATION_MEM_EST_BYTES, PEAK_MEM_BYTES


def run_trial(
    spec: ExperimentSpec,
    on_epoch: Callable[[EpochRecord], bool] | None = None,
    on_model: Callable[[torch.nn.Module, Series], None] | None = None,
    cpu_deadline: float | None = None,
) -> TrialRecord:
    """Train the configuration `spec` sets (its sizes included) `train.repeats` times and return its record.

    `on_model` receives the first repeat's trained model (best-epoch weights) and its series, e.g. to keep it.
    `cpu_deadline`: the process CPU time at which the study's CPU budget is spent; training stops there
    (the repeats after it are not run) and the trial keeps its best epoch so far.

    Raises TrialFailure for oom / diverged. With repeats, `on_epoch` (pruning, progress) follows
    the first repeat only: a configuration pruned there is not repeated.
    """
    wall_start = time.perf_counter()
    device = resolve_device(spec.train.device)
    check_precision(spec, device)  # again here: a worker on another machine may have another CPU
    series = series_of(spec, device)
    skip_if_estimate_exceeds(spec, series.input_size, series.output_size)
    prime_runtime(device)
    probe = Probe(*guard_oom(
        lambda: probe_configuration(spec, series, build_model(spec, series).to(device)), device
    ))
    runs: list[RunOutcome] = []
    for repeat in range(spec.train.repeats):
        seed = spec.train.seed + repeat
        first = repeat == 0
        hooks = (on_epoch, on_model) if first else (None, None)
        runs.append(train_once(spec, series, seed, hooks[0], probe.speed.meter, hooks[1], cpu_deadline))
        if runs[0].result.stopped_early or cpu_spent(cpu_deadline):
            break
    return build_record(runs, probe, compute_of(spec, series, device), setup_of(spec, series), device,
                        spec.train.target_val_loss, time.perf_counter() - wall_start)


def cpu_spent(cpu_deadline: float | None) -> bool:
    return cpu_deadline is not None and time.process_time() >= cpu_deadline


def setup_of(spec: ExperimentSpec, series: Series) -> Setup:
    """How the data was fed (the report groups trials by it): chunk S, so the LSTM ran time_step/S
    steps; channels; the head; the skip beside the LSTM; and the targets each split scores (equal for
    every time_step with lookback)."""
    targets = {split: len(series.sample_starts(split, spec.data.time_step, spec.data.horizon))
               for split in ("train", "val", "test")}
    return Setup(
        stateful=spec.train.stateful, mode=spec.data.mode, horizon=spec.data.horizon,
        normalization=spec.data.normalization, chunk=spec.model.chunk,
        lstm_steps=spec.data.time_step // spec.model.chunk, channels=spec.model.channels, head=spec.model.head,
        skip=spec.model.skip, lookback=spec.data.lookback, train_targets=targets["train"], val_targets=targets["val"],
        test_targets=targets["test"],
    )


def compute_of(spec: ExperimentSpec, series: Series, device: torch.device) -> Compute:
    """FLOPs per sample, the device's matmul peak, the activation estimate, and the time steps in a sample."""
    shape = network_shape(spec, series.input_size, series.output_size)
    flops = lstm_training_flops_per_sample(
        shape.input_size, spec.model.hidden_size, spec.model.num_layers, spec.data.time_step,
        shape.output_size, spec.data.horizon, spec.model.chunk, shape.segment_head, shape.sequences,
        shape.linear_skip,
    )
    return Compute(
        flops_per_sample=flops,
        peak_gflops=peak_gflops(device),
        activation_bytes=activation_estimate(spec, series.input_size, series.output_size),
        steps_per_sample=1 if spec.train.stateful else spec.data.time_step,
    )


def activation_estimate(spec: ExperimentSpec, input_size: int, output_size: int) -> int:
    """The analytic activation memory of the network that runs (chunks, segment steps, channels)."""
    shape = network_shape(spec, input_size, output_size)
    segments = math.ceil(spec.data.horizon / spec.model.chunk) if shape.segment_head else 0
    return estimate_activation_bytes(
        spec.train.batch_size, spec.data.time_step, spec.model.hidden_size, spec.model.num_layers, shape.input_size,
        spec.model.chunk, segments, shape.sequences, shape.output_size if shape.linear_skip else 0,
    )


def guard_oom(
    probe: Callable[[], tuple[SpeedFigure, TensorPeak, str]], device: torch.device
) -> tuple[SpeedFigure, TensorPeak, str]:
    """Run the probe; a configuration too large for the device fails as `oom` with the memory it reached,
    as in training."""
    memory = TrialMemory(device)
    failure: TrialFailure | None = None
    try:
        with memory:
            return probe()
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        # no reference to exc kept: its traceback holds the tensors
        failure = TrialFailure("oom", first_line(exc), {PEAK_MEM_BYTES: memory.reading().peak_bytes})
    finally:
        memory.release()
    gc.collect()
    raise failure


def check_spec_runs(spec: ExperimentSpec, one_run: bool = False) -> None:
    """Raise SpecError/DataError when the spec cannot run here: THE preflight before any study is written.

    Loads the series, checks that the longest window (of the spec's own sizes for `one_run`, else of the
    search space) fits every split and that the stateful layout fits, that the device can run the chosen
    precision, and that the configuration fits the machine and outlasts its warm-up (lstmexp.trial.fits).
    """
    device = resolve_device(spec.train.device)
    check_precision(spec, device)
    check_thread_request(spec.train.threads)
    if one_run and spec.data.time_step % spec.model.chunk:
        raise SpecError(chunk_refusal(spec.model.chunk, [spec.data.time_step]))
    series = series_of(spec, device)
    space = spec.search.space
    longest = spec.data.time_step if one_run else space.size("time_step").highest
    for split in ("train", "val", "test"):
        series.sample_starts(split, longest, spec.data.horizon)
    if spec.train.stateful:
        from lstmexp.data.streams import check_stateful_fits

        largest = spec.train.batch_size if one_run else space.size("batch_size").highest
        check_stateful_fits(series, largest, spec.data.horizon)
    from lstmexp.trial.fits import check_run_fits, check_search_fits

    if one_run:
        check_run_fits(spec, series)
    else:
        check_search_fits(spec, series, space.size("batch_size").lowest, space.size("time_step").lowest)


def check_precision(spec: ExperimentSpec, device: torch.device) -> None:
    """fp16 needs CUDA; bf16 on CPU needs the instructions oneDNN's bf16 LSTM is built on (probed)."""
    if spec.train.amp == "fp16" and device.type != "cuda":
        raise SpecError(f"train.amp=fp16 needs CUDA but the device is {device}; use train.amp=bf16 or none")
    if spec.train.amp == "bf16" and device.type == "cpu" and not bf16_autocast_supported(device):
        raise SpecError(
            "train.amp: bf16 is not supported by this CPU (no AVX-512 BF16/AMX: oneDNN cannot run an LSTM "
            "in bf16); use -o train.amp=null (fp32)"
        )


def train_once(
    spec: ExperimentSpec,
    series: Series,
    seed: int,
    on_epoch: Callable[[EpochRecord], bool] | None,
    meter: ContentionMeter,
    on_model: Callable[[torch.nn.Module, Series], None] | None = None,
    cpu_deadline: float | None = None,
) -> RunOutcome:
    """One training run from `seed`: its result, memory reading, and best-epoch weights evaluated on val and test."""
    seed_everything(seed)
    config = dataclasses.replace(TrainConfig.from_spec(spec, seed), cpu_deadline=cpu_deadline)
    model, result, reading = train_measured(build_model(spec, series), series, config, on_epoch, meter)
    if result.best_state is not None:
        model.load_state_dict(result.best_state)
    if on_model is not None:
        on_model(model, series)
    val, test = (
        evaluate(model, series, split, config.time_step, config.horizon, amp=config.amp, stateful=config.stateful)
        for split in ("val", "test")
    )
    accuracies = class_accuracy(model, series, config.time_step)
    return RunOutcome(result, val, test, reading, count_parameters(model), accuracies)


def train_measured(
    model: torch.nn.Module,
    series: Series,
    config: TrainConfig,
    on_epoch: Callable[[EpochRecord], bool] | None,
    meter: ContentionMeter,
) -> tuple[torch.nn.Module, TrainResult, MemoryReading]:
    """Train on the series' device, measuring peak memory and adding the run to the contention
    reading (whose segments must be long enough for the machine's 10 ms CPU counters); an
    out-of-memory error fails the trial."""
    memory = TrialMemory(series.device)
    oom: TrialFailure | None = None
    try:
        with memory:
            model = model.to(series.device)
            meter.start()
            result = train(model, series, config, on_epoch)
            meter.stop()
            reading = memory.reading()
    except RuntimeError as exc:  # torch.OutOfMemoryError is a RuntimeError too
        if not is_out_of_memory(exc):
            raise
        # Keep no reference to the exception: its traceback holds the trial's tensors, which must
        # be freed before the next trial (optuna/optuna#1224, #4934).
        oom = TrialFailure("oom", first_line(exc), {PEAK_MEM_BYTES: memory.reading().peak_bytes})
    finally:
        if oom is not None:
            del model
            gc.collect()
        memory.release()
    if oom is not None:
        raise oom
    return model, result, reading


def is_out_of_memory(exc: RuntimeError) -> bool:
    """A CUDA OOM, or a CPU allocation failure (which torch raises as a plain RuntimeError)."""
    text = str(exc).lower()
    return isinstance(exc, torch.OutOfMemoryError) or "can't allocate memory" in text or "out of memory" in text


def skip_if_estimate_exceeds(spec: ExperimentSpec, input_size: int, output_size: int) -> None:
    """A configuration whose activations alone exceed max_memory cannot fit: fail it as infeasible
    without training. The estimate is a lower bound, so nothing that could fit is skipped."""
    cap = spec.search.constraints.max_memory
    if cap is None:
        return
    estimate = activation_estimate(spec, input_size, output_size)
    if estimate > cap:
        raise TrialFailure(
            "infeasible",
            f"estimated activation memory {format_bytes(estimate)} exceeds max_memory {format_bytes(cap)}",
            {ACTIVATION_MEM_EST_BYTES: estimate},
        )


def class_accuracy(model: torch.nn.Module, series: Any, time_step: int) -> dict[str, float]:
    """Accuracy on val and test for classification tasks (none for forecasting)."""
    if not getattr(series, "is_classification", False):
        return {}
    return {split: accuracy(model, series, split, time_step) for split in ("val", "test")}


def series_of(spec: ExperimentSpec, device: torch.device | str) -> Series:
    """The spec's series on `device`, loaded once per process: the window length is not part of the data
    loaded (every time_step of a study windows the same series), so it is left out of the cache key."""
    return cached_series(spec.data.model_dump_json(exclude={"time_step"}), str(device))


@lru_cache(maxsize=4)
def cached_series(data_spec_json: str, device: str) -> Series:
    """Load a dataset once per process and device: every trial of a worker shares it.

    An episode task (EpisodeSeries) offers the same window interface as a Series (sample_starts,
    batch, last_observed_target, to_units), which is all the stateless loop and evaluation use.
    """
    return cast(Series, load_series(DataSpec.model_validate(json.loads(data_spec_json)), torch.device(device)))


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__

