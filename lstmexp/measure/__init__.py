"""Measuring a trial, one module per job (import from here: `from lstmexp.measure import X`).

- `device`: the device, synchronised timers, the one-time runtime warm-up, the bf16 probe;
- `threads`: the thread policy (affinity, cgroup quota, workers, the cap on requests);
- `contention`: whether the machine was the trial's own while it was timed;
- `speed`: the speed probe (median and spread over blocks of steps, threads compared);
- `tensor_memory`: the exact tensor peak of a training step; `process_memory`: resident-set peak;
- `compute`: FLOPs, matmul peak, activation estimate; `environment`: what a study ran on.
"""

from lstmexp.measure.compute import (
    FLOAT32_BYTES,
    estimate_activation_bytes,
    lstm_training_flops_per_sample,
    peak_gflops,
)
from lstmexp.measure.contention import ContentionMeter, ContentionReading, load_avg_1m
from lstmexp.measure.device import (
    Stopwatch,
    bf16_autocast_supported,
    now,
    prime_runtime,
    resolve_device,
    synchronize,
)
from lstmexp.measure.environment import collect_environment, cpu_model
from lstmexp.measure.process_memory import MemoryReading, TrialMemory, read_status_bytes, resident_bytes
from lstmexp.measure.speed import SpeedFigure, probe_speed
from lstmexp.measure.tensor_memory import TensorPeak, measure_tensor_peak
from lstmexp.measure.threads import (
    check_thread_request,
    cpu_count,
    remember_choice,
    set_threads,
    set_workers,
    thread_budget,
    thread_candidates,
    usable_cores,
)

__all__ = [
    "FLOAT32_BYTES",
    "ContentionMeter",
    "ContentionReading",
    "MemoryReading",
    "SpeedFigure",
    "Stopwatch",
    "TensorPeak",
    "TrialMemory",
    "bf16_autocast_supported",
    "check_thread_request",
    "collect_environment",
    "cpu_count",
    "cpu_model",
    "estimate_activation_bytes",
    "load_avg_1m",
    "lstm_training_flops_per_sample",
    "measure_tensor_peak",
    "now",
    "peak_gflops",
    "prime_runtime",
    "probe_speed",
    "read_status_bytes",
    "remember_choice",
    "resident_bytes",
    "resolve_device",
    "set_threads",
    "set_workers",
    "synchronize",
    "thread_budget",
    "thread_candidates",
    "usable_cores",
]
