"""The device a trial runs on: choice, synchronised timers, the one-time runtime warm-up, the bf16 probe.

Timers read the clock only after the device has finished its queued work (CUDA kernels run
asynchronously; a timer read without a sync measures the launch, not the work).
"""

from __future__ import annotations

import functools
import time

import torch

from lstmexp.errors import SpecError


def resolve_device(name: str) -> torch.device:
    """`auto` picks CUDA when available, else CPU; an explicit CUDA request without CUDA is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise SpecError(f"device {name!r} requested but CUDA is not available here; use --device cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise SpecError(
                f"device {name!r} does not exist ({torch.cuda.device_count()} CUDA devices); pick another"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise SpecError("device 'mps' requested but MPS is not available here; use --device cpu")
    return device


def synchronize(device: torch.device) -> None:
    """Wait until the device has finished all queued work (a no-op on CPU, where work is synchronous)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def now(device: torch.device) -> float:
    """A timestamp taken after the device is idle."""
    synchronize(device)
    return time.perf_counter()


_primed: set[str] = set()


def prime_runtime(device: torch.device) -> None:
    """Run one tiny LSTM training step once per process and device, outside any measurement.

    The first step in a process initialises thread pools, BLAS/oneDNN workspaces and (on CUDA) the
    context and cuDNN handles. Left in, that one-time cost lands in the first trial's memory and
    time and makes it look worse than identical later trials.
    """
    if str(device) in _primed:
        return
    lstm = torch.nn.LSTM(4, 8, batch_first=True).to(device)
    optimizer = torch.optim.Adam(lstm.parameters())
    lstm(torch.randn(2, 3, 4, device=device))[0].sum().backward()
    optimizer.step()
    synchronize(device)
    _primed.add(str(device))


@functools.cache
def bf16_autocast_supported(device: torch.device) -> bool:
    """Whether this device can train an LSTM under bf16 autocast (probed once per process and device).

    On CPU, oneDNN runs a bf16 LSTM only with AVX-512 BF16 or AMX instructions; elsewhere it fails to
    create the LSTM primitive (`could not create a primitive descriptor`), so a tiny forward and
    backward is the only portable test.
    """
    try:
        lstm = torch.nn.LSTM(4, 8, batch_first=True).to(device)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            output, _ = lstm(torch.randn(2, 3, 4, device=device))
        output.float().sum().backward()
        synchronize(device)
    except RuntimeError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# Timers
# --------------------------------------------------------------------------------------------


class Stopwatch:
    """Seconds of device work between start() and stop().

    On CUDA it records events in the stream and reads their elapsed time after synchronising (the
    GPU's own clock, no host jitter); elsewhere it synchronises and reads perf_counter. Either way a
    reading never stops before the device has finished the work it measures.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._cuda = device.type == "cuda"
        self._start_event: torch.cuda.Event | None = None
        self._started = 0.0

    def start(self) -> None:
        if self._cuda:
            self._start_event = torch.cuda.Event(enable_timing=True)
            self._start_event.record()
        else:
            self._started = now(self.device)

    def stop(self) -> float:
        if self._cuda:
            if self._start_event is None:
                raise RuntimeError("Stopwatch.stop() before start()")
            end = torch.cuda.Event(enable_timing=True)
            end.record()
            end.synchronize()
            return self._start_event.elapsed_time(end) / 1000.0
        return now(self.device) - self._started
