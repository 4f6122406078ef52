"""How many torch threads a trial uses: the cores this process may use, shared by the workers, probed per shape.

Torch's default is one intra-op thread per core of the machine. Its OpenMP threads spin-wait for a
descheduled peer, so on a machine where a core is taken by anything else a trial with every core's
thread runs several times slower (4.5x beside one busy process on 2 cores) and burns CPU doing it.
The usable cores are the CPU affinity mask capped by the cgroup CPU quota (a container's share),
divided by the workers of this machine; a small model often runs as fast on one thread, which a
short probe per configuration shape decides (`lstmexp.measure.speed`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import psutil
import torch

from lstmexp.errors import SpecError

THREAD_CAP_FACTOR = 4  # a request above this multiple of the usable cores is a mistake, not a choice
CGROUP_V2_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")

_workers = 1  # worker processes sharing this machine's cores (set in each worker process)
_chosen: dict[tuple[object, ...], int] = {}  # probed thread count per configuration shape, this process


def affinity_cores() -> int:
    """CPUs this process may run on (its affinity mask), not the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    try:  # Windows (macOS has no affinity: every core is usable)
        return len(psutil.Process().cpu_affinity() or []) or (os.cpu_count() or 1)
    except (AttributeError, psutil.Error):
        return os.cpu_count() or 1


def cgroup_quota_cores() -> float | None:
    """The cgroup CPU quota in cores (v2 `cpu.max`, else v1 `cfs_quota_us`); None when unlimited or absent."""
    try:
        quota, period = CGROUP_V2_MAX.read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(CGROUP_V1_QUOTA.read_text())
        return None if quota_us <= 0 else quota_us / int(CGROUP_V1_PERIOD.read_text())
    except (OSError, ValueError):
        return None


def usable_cores() -> int:
    """min(affinity mask, cgroup quota rounded up), at least 1."""
    quota = cgroup_quota_cores()
    cores = affinity_cores()
    return max(1, min(cores, math.ceil(quota)) if quota is not None else cores)


def set_workers(workers: int) -> None:
    """Tell this process how many worker processes share the machine (`--workers K`)."""
    global _workers
    _workers = max(1, workers)


def thread_budget() -> int:
    """Threads one trial may use: the usable cores divided by the workers, at least 1."""
    return max(1, usable_cores() // _workers)


def check_thread_request(threads: int | None) -> None:
    """A thread count far above the cores is an error (torch aborts at 20,000 and segfaults at 100,000)."""
    if threads is None:
        return
    cores = usable_cores()
    if threads > THREAD_CAP_FACTOR * cores:
        raise SpecError(
            f"train.threads={threads} is more than {THREAD_CAP_FACTOR}x the {cores} usable cores here; "
            f"use at most {THREAD_CAP_FACTOR * cores}, or leave it null to let lstmexp choose"
        )


def thread_candidates(requested: int | None, shape: tuple[object, ...]) -> tuple[list[int], str]:
    """The thread counts a trial's speed probe compares (one when there is no choice) and the policy's name."""
    if requested is not None:
        check_thread_request(requested)
        return [requested], "train.threads"
    budget = thread_budget()
    if shape in _chosen:
        return [_chosen[shape]], f"probe: 1 vs {budget} (cached)"
    if budget == 1:
        return [1], "affinity/quota/workers"
    return [1, budget], f"probe: 1 vs {budget}"


def remember_choice(shape: tuple[object, ...], threads: int) -> None:
    _chosen[shape] = threads


def set_threads(threads: int | None) -> int:
    """Apply the intra-op thread count (None keeps torch's default) and return what is in force."""
    if threads is not None and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def cpu_count() -> int:
    """Usable cores (affinity and quota); kept under this name for callers that size worker pools."""
    return usable_cores()
