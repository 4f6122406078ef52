"""Was the machine the trial's own while it was timed? CPU time of this process and of everyone else.

For every timed segment it records the process CPU time (all its threads, `time.process_time`), the
wall time, and the machine-wide CPU time deltas (psutil: `/proc/stat` on Linux, the platform's own
interface elsewhere): what other processes used and, on virtual machines, what the hypervisor
stole. The figures add up over segments; the rule that turns them into `contended` is in
`ContentionReading.reason` and docs/measurements.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psutil

# The rule: other processes used over a quarter of the machine's CPU time, the hypervisor stole
# over 5 %, or this process got under 60 % of the CPU time its threads could use (it waited).
OTHER_CPU_LIMIT = 0.25
STEAL_LIMIT = 0.05
CPU_SHARE_FLOOR = 0.6
IDLE_FIELDS = ("idle", "iowait")


@dataclass(frozen=True)
class ContentionReading:
    cpu_share: float  # process CPU time / (wall x threads)
    other_cpu_frac: float  # share of the machine's CPU time other processes used
    steal_frac: float | None  # share stolen by the hypervisor (None where the platform has no figure)
    load_avg_1m: float  # system load at the start of the first segment

    @property
    def reason(self) -> str:
        """Why the figures are contended, or "" when the machine was the trial's own."""
        reasons = []
        if self.other_cpu_frac > OTHER_CPU_LIMIT:
            reasons.append(f"other processes used {self.other_cpu_frac:.0%} of the CPU (limit {OTHER_CPU_LIMIT:.0%})")
        if self.steal_frac is not None and self.steal_frac > STEAL_LIMIT:
            reasons.append(f"hypervisor steal {self.steal_frac:.0%} (limit {STEAL_LIMIT:.0%})")
        if self.cpu_share < CPU_SHARE_FLOOR:
            reasons.append(f"the trial got {self.cpu_share:.0%} of its threads' CPU time (floor {CPU_SHARE_FLOOR:.0%})")
        return "; ".join(reasons)

    @property
    def contended(self) -> bool:
        return bool(self.reason)



def load_avg_1m() -> float:
    """The 1-minute load average (psutil emulates it on Windows)."""
    return float(psutil.getloadavg()[0])


class ContentionMeter:
    """Adds up CPU use over the segments between start() and stop() calls, for a given thread count."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self.load = load_avg_1m()
        self.wall = self.own = self.busy = self.total = 0.0
        self.steal: float | None = 0.0
        self._started: tuple[float, float, Any] | None = None  # (wall, own CPU, machine CPU times)

    def start(self) -> None:
        self._started = (time.perf_counter(), time.process_time(), psutil.cpu_times())

    def stop(self) -> None:
        if self._started is None:
            raise RuntimeError("ContentionMeter.stop() before start()")
        wall0, own0, cpu0 = self._started
        cpu1 = psutil.cpu_times()
        self.wall += time.perf_counter() - wall0
        self.own += time.process_time() - own0
        deltas = {name: getattr(cpu1, name) - getattr(cpu0, name) for name in cpu1._fields}
        steal = deltas.pop("steal", None)
        deltas.pop("guest", None), deltas.pop("guest_nice", None)  # already counted in user/nice on Linux
        self.total += sum(deltas.values()) + (steal or 0.0)
        self.busy += sum(v for name, v in deltas.items() if name not in IDLE_FIELDS)
        self.steal = None if steal is None or self.steal is None else self.steal + steal
        self._started = None

    def reading(self) -> ContentionReading:
        # The machine's counters tick every 10 ms: a reading over no tick at all says nothing of others.
        total = self.total if self.total > 0 else float("inf")
        return ContentionReading(
            cpu_share=self.own / (self.wall * self.threads) if self.wall > 0 else float("nan"),
            other_cpu_frac=max(0.0, self.busy - self.own) / total,
            steal_frac=None if self.steal is None else self.steal / total,
            load_avg_1m=self.load,
        )
