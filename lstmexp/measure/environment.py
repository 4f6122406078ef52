"""The study-level environment: versions, hardware and the thread policy the figures were measured under."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from lstmexp.measure.threads import affinity_cores, cgroup_quota_cores, thread_budget, usable_cores
from lstmexp.vocabulary.names import TORCH_THREADS


def thread_policy(requested: int | None) -> dict[str, object]:
    """The cores a trial may use and how its thread count is chosen (each trial records its own count)."""
    budget = thread_budget()
    if requested is not None:
        policy = f"train.threads={requested}"
    elif budget == 1:
        policy = "1 thread: usable cores / workers = 1"
    else:
        policy = f"per configuration shape, 1 or {budget} threads, whichever is faster (fewer when as fast)"
    return {
        "usable_cores": usable_cores(),
        "cpu_affinity_cores": affinity_cores(),
        "cpu_quota_cores": cgroup_quota_cores(),
        "thread_budget": budget,
        "thread_policy": policy,
        # the most threads a trial uses (the per-trial figure is each trial's torch_threads)
        TORCH_THREADS: requested if requested is not None else budget,
    }


def collect_environment(requested_threads: int | None = None) -> dict[str, object]:
    """Versions, hardware and thread policy, stored on the study so a report says what the figures were
    measured on."""
    import platform
    import socket
    import sys

    import optuna

    import lstmexp

    env: dict[str, object] = {
        "lstmexp": lstmexp.__version__,
        "torch": torch.__version__,
        "optuna": optuna.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count() or 1,  # the machine's, whatever this process may use
        **thread_policy(requested_threads),
        "cuda_available": torch.cuda.is_available(),
    }
    if torch.cuda.is_available():
        env["cuda"] = torch.version.cuda
        env["cudnn"] = torch.backends.cudnn.version()
        env["cudnn_enabled"] = torch.backends.cudnn.enabled
        env["gpu"] = torch.cuda.get_device_name(0)
        env["gpu_count"] = torch.cuda.device_count()
        env["gpu_memory_bytes"] = torch.cuda.get_device_properties(0).total_memory
    return env


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown"
