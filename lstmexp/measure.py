"""Measuring a trial: device choice, synchronised timers, the bf16 probe, analytic estimates (memory: `memory`).

Timers read the clock only after the device has finished its queued work (CUDA kernels run
asynchronously; a timer read without a sync measures the launch, not the work).
"""

from __future__ import annotations

import functools
import os
import time
from pathlib import Path

import torch

from lstmexp.errors import SpecError

FLOAT32_BYTES = 4


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


def estimate_activation_bytes(
    batch_size: int, time_step: int, hidden_size: int, num_layers: int, input_size: int
) -> int:
    """Analytic training-activation memory of an LSTM, float32.

    Back-propagation keeps, per layer and time step and sample, the four gate activations plus the
    cell and hidden states (about 6·H floats), and the layer's input (I floats for the first layer,
    H after). A lower bound on what autograd holds; the measured peak adds weights, optimizer
    state, gradients and allocator overhead.
    """
    per_step = 6 * hidden_size * num_layers + input_size + hidden_size * (num_layers - 1)
    return batch_size * time_step * per_step * FLOAT32_BYTES


def set_threads(threads: int | None) -> int:
    """Apply the intra-op thread count (None keeps torch's default) and return what is in force."""
    if threads is not None:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


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


def collect_environment() -> dict[str, object]:
    """Versions and hardware, stored on the study so a report says what the figures were measured on."""
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
        "cpu_count": cpu_count(),
        "torch_threads": torch.get_num_threads(),
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


# --------------------------------------------------------------------------------------------
# Compute: FLOPs of an LSTM and the device's measured matmul peak
# --------------------------------------------------------------------------------------------


def lstm_training_flops_per_sample(
    input_size: int, hidden_size: int, num_layers: int, time_step: int, output_size: int, horizon: int = 1
) -> int:
    """Training FLOPs for one sample (one window): forward plus backward.

    Forward, per layer and time step, the four gates cost 2·4H·(I + H) (a multiply and an add per
    weight; I is the input size for the first layer and H after); the head costs 2·H·(h·out) once.
    Backward costs about twice the forward (gradients with respect to inputs and to weights), so
    training is about 3× the forward. Element-wise gate nonlinearities are left out (O(H), not O(H²)).
    """
    forward = 0
    for layer in range(num_layers):
        layer_input = input_size if layer == 0 else hidden_size
        forward += time_step * 2 * 4 * hidden_size * (layer_input + hidden_size)
    forward += 2 * hidden_size * output_size * horizon
    return 3 * forward


_peak_gflops: dict[tuple[str, int], float] = {}


def peak_gflops(device: torch.device) -> float:
    """Sustained float32 matmul GFLOP/s of the device, measured once per device and thread count.

    A square matmul is the best case for the hardware, so achieved/peak says how much of the
    machine an LSTM configuration really uses (C5, C9). Warm-up runs are excluded.
    """
    key = (str(device), torch.get_num_threads())
    if key not in _peak_gflops:
        size = 4096 if device.type == "cuda" else 1024  # large enough to reach the BLAS plateau
        a = torch.randn(size, size, device=device)
        b = torch.randn(size, size, device=device)
        for _ in range(3):  # warm-up: BLAS thread pools, GPU clocks
            a @ b
        repeats = 20 if device.type == "cuda" else 5
        watch = Stopwatch(device)
        watch.start()
        for _ in range(repeats):
            a @ b
        seconds = watch.stop()
        _peak_gflops[key] = 2 * size**3 * repeats / seconds / 1e9
    return _peak_gflops[key]
