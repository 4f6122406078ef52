"""Peak memory of one trial on its device, measured from the trial's start, never the process's lifetime peak.

CUDA: the caching allocator's peak counters. CPU: the kernel's resident high-water mark (VmHWM),
reset per trial, or a sampling thread where the reset is not permitted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass
from pathlib import Path

import torch

PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class MemoryReading:
    peak_bytes: int  # peak during the trial above the level at its start (CPU) / peak allocated (CUDA)
    reserved_bytes: int | None  # CUDA only: peak reserved by the caching allocator
    method: str  # how it was measured: cuda-allocator, vmhwm, sampled


class TrialMemory:
    """Peak memory of one trial on its device.

    CUDA: the allocator's peak counters, reset at the start. CPU: the kernel's resident high-water
    mark (VmHWM), reset through /proc/self/clear_refs after returning freed heap to the OS (so memory
    cached by an earlier trial does not hide this one's growth); where clear_refs is not writable,
    a thread samples the resident size every 5 ms instead.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline = 0
        self._sampler: _RssSampler | None = None
        self.method = "cuda-allocator" if device.type == "cuda" else "vmhwm"

    def __enter__(self) -> TrialMemory:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)
            self.baseline = torch.cuda.memory_allocated(self.device)
            return self
        release_free_heap()
        if reset_peak_rss():
            self.baseline = read_status_kib("VmRSS") * 1024
        else:
            self.method = "sampled"
            self.baseline = read_status_kib("VmRSS") * 1024
            self._sampler = _RssSampler()
            self._sampler.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._sampler is not None:
            self._sampler.stop()

    def reading(self) -> MemoryReading:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
            reserved = torch.cuda.max_memory_reserved(self.device)
            return MemoryReading(peak - self.baseline, reserved, self.method)
        peak = self._sampler.peak if self._sampler is not None else read_status_kib("VmHWM") * 1024
        return MemoryReading(max(peak - self.baseline, 0), None, self.method)

    def release(self) -> None:
        """Hand cached device memory back after a trial (an OOM trial must not starve the next one)."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        else:
            release_free_heap()


def read_status_kib(field: str) -> int:
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where not permitted."""
    try:
        PROC_CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return True


def release_free_heap() -> None:
    """Return free heap pages to the OS (glibc malloc_trim), so RSS reflects live memory."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return
    try:
        libc = ctypes.CDLL(libc_name)
        if hasattr(libc, "malloc_trim"):
            libc.malloc_trim(0)
    except OSError:
        return


class _RssSampler(threading.Thread):
    def __init__(self, interval_s: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.peak = read_status_kib("VmRSS") * 1024
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.peak = max(self.peak, read_status_kib("VmRSS") * 1024)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.peak = max(self.peak, read_status_kib("VmRSS") * 1024)
