"""The exact peak of live tensor bytes during one training step on CPU, split where it can be.

Why the profiler's allocation events: `torch.profiler` with `profile_memory=True` records every
allocation and free of the CPU allocator with its size, in order, so their running sum is the live
tensor bytes the step added, exactly, whatever the allocator caches or the OS pages in (the
resident-set figure moves by MiB between processes for one configuration). Added to the tensors
alive when the step starts (parameters, optimizer state and the batch; gradients are set to None first), its
maximum is the step's peak: the same for every run and seed of a configuration, and it grows with
batch_size and time_step exactly as the shapes say. The split: parameters, optimizer state and
gradients from their tensors; activations = the bytes autograd saved for the backward pass (a
saved-tensors hook, parameters left out), the rest of the peak being temporaries.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch.profiler import ProfilerActivity, profile

Batch = TypeVar("Batch", bound=tuple[Any, ...])  # inputs and targets first: nothing else of training is needed


@dataclass(frozen=True)
class TensorPeak:
    peak_bytes: int | None
    params_bytes: int | None
    grads_bytes: int | None
    optimizer_bytes: int | None
    activations_bytes: int | None
    missing: str = ""  # why the figures are None



def tensor_bytes(tensors: Iterator[torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors)


def optimizer_state_bytes(optimizer: torch.optim.Optimizer) -> int:
    return tensor_bytes(v for state in optimizer.state.values() for v in state.values() if torch.is_tensor(v))


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 for a moment: the profiler's C++ side prints a line at every start and
    stop that no setting turns off, and it would land in the middle of the progress display."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def running_peak(events: list[tuple[int, int]]) -> int:
    """The maximum running sum of (start time, signed bytes) allocation events, in start order."""
    live = peak = 0
    for _, nbytes in sorted(events, key=lambda e: e[0]):
        live += nbytes
        peak = max(peak, live)
    return peak


def measure_tensor_peak(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: Batch,
                        step: Callable[[Batch], int], device: torch.device) -> TensorPeak:
    """Profile one training step on `batch` (after warm-up: the optimizer state must exist) and return its peak.

    The batch is made before profiling and counted whole (its inputs and targets are live through the
    step): making it inside would count a new epoch's shuffle when the step falls where an epoch starts.
    """
    if device.type != "cpu":
        return TensorPeak(None, None, None, None, None, f"tensor peak is measured on CPU; on {device.type} "
                          "peak_mem_bytes is the allocator's peak")
    optimizer.zero_grad(set_to_none=True)  # the step starts without gradients, as every training step does
    params = tensor_bytes(p for p in model.parameters())
    held = tensor_bytes(t for t in batch[:2])
    state = optimizer_state_bytes(optimizer)
    param_storages = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in param_storages:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor

    with quiet_stderr(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof, \
            torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        step(batch)
    events = [(e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"]
    grads = tensor_bytes(p.grad for p in model.parameters() if p.grad is not None)
    return TensorPeak(params + state + held + running_peak(events), params, grads, state, sum(saved.values()))
