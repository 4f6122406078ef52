"""Process memory of one trial: the resident-set peak from the trial's start (CPU), the allocator's peak (CUDA).

CPU: the kernel's resident high-water mark (Linux VmHWM), reset per trial through
/proc/self/clear_refs after returning freed heap to the OS; elsewhere (macOS, Windows, a Linux
without a writable clear_refs) a thread samples the resident size through psutil every 5 ms. A
platform that gives neither records None with the reason, never 0. This is *process* memory
(allocator caches, runtime start-up included); the exact tensor figure is `tensor_memory`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from dataclasses import dataclass
from pathlib import Path

import psutil
import torch

PROC_STATUS = Path("/proc/self/status")
PROC_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class MemoryReading:
    peak_bytes: int | None  # peak during the trial above the level at its start (CPU) / peak allocated (CUDA)
    reserved_bytes: int | None  # CUDA only: peak reserved by the caching allocator
    method: str  # how it was measured: cuda-allocator, vmhwm, sampled, or missing
    missing: str = ""  # why peak_bytes is None


class TrialMemory:
    """Peak memory of one trial on its device (see the module's docstring for how)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.baseline: int | None = 0
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
        if read_status_bytes("VmHWM") is not None and reset_peak_rss():
            self.baseline = read_status_bytes("VmRSS")
            return self
        self.baseline = resident_bytes()
        self.method = "sampled" if self.baseline is not None else "missing"
        if self.baseline is not None:
            self._sampler = _RssSampler(self.baseline)
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
            return MemoryReading(peak - (self.baseline or 0), reserved, self.method)
        if self.baseline is None:
            return MemoryReading(None, None, "missing", "this platform reports no resident set size")
        high = self._sampler.peak if self._sampler is not None else read_status_bytes("VmHWM")
        if high is None:
            return MemoryReading(None, None, "missing", "the resident high-water mark could not be read")
        return MemoryReading(max(high - self.baseline, 0), None, self.method)

    def release(self) -> None:
        """Hand cached device memory back after a trial (an OOM trial must not starve the next one)."""
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        else:
            release_free_heap()


def read_status_bytes(field: str) -> int | None:
    """A `kB` field of /proc/self/status in bytes; None where there is no /proc (macOS, Windows)."""
    try:
        for line in PROC_STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def resident_bytes() -> int | None:
    """The resident set size through psutil (portable); None where the platform does not report it."""
    try:
        return int(psutil.Process().memory_info().rss)
    except (psutil.Error, OSError, AttributeError):
        return None


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
    def __init__(self, start_bytes: int, interval_s: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.interval_s = interval_s
        self.peak = start_bytes
        self._stop_event = threading.Event()

    def sample(self) -> None:
        self.peak = max(self.peak, resident_bytes() or 0)

    def run(self) -> None:
        while not self._stop_event.wait(self.interval_s):
            self.sample()

    def stop(self) -> None:
        self._stop_event.set()
        self.join()
        self.sample()
