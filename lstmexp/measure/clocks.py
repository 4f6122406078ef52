"""Which clock a speed figure comes from: wall-clock blocks beside the training thread's own CPU time.

A one-thread trial runs every step on the thread that calls it, so that thread's CPU time
(`time.thread_time`) counts the work and nothing else: when other processes take the core, the wall
clock stretches and the thread's CPU time does not. Blocks of steps are timed on both clocks, and:

- the clocks agree (the median wall-clock block is within AGREE of the thread-CPU figure): the wall
  figure stands, whatever else ran on the machine;
- they disagree, but the fastest wall-clock blocks (the idea of torch.utils.benchmark: the blocks
  nothing interrupted) agree with the thread-CPU figure: the mean of those blocks stands;
- no wall-clock block agrees: the thread-CPU figure stands, flagged, with its uncertainty widened
  by how far the clocks disagree;
- even the fastest half of the thread-CPU blocks disagree among themselves (range over median above
  CPU_SPREAD_LIMIT): the work itself ran slower (a shared physical core, memory bandwidth), which no
  clock can rescue: contended.

The thread-CPU figure is the mean of its fastest half of blocks: interference (another process's
cache traffic, a sibling hyperthread) only ever adds CPU time to the same work.

A trial with several threads has no single thread whose CPU time counts the work: it keeps the
wall figure and the machine-wide contention rule (`lstmexp.measure.contention`).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from lstmexp.measure.contention import ContentionReading
from lstmexp.vocabulary.names import (
    CLOCKS_AGREE,
    CONTENDED,
    CONTENTION_REASON,
    RESCUED_FROM,
    SAMPLES_PER_S_CLOCK,
    SAMPLES_PER_S_CV,
    SAMPLES_PER_S_THREAD_CPU,
    SAMPLES_PER_S_WALL,
)

AGREE = 0.10  # wall and thread-CPU figures within 10 %: the clocks agree
CPU_SPREAD_LIMIT = 0.20  # the fastest thread-CPU blocks varying by more: the work itself was slowed
WALL, FASTEST, THREAD_CPU = "wall", "wall, fastest blocks", "thread CPU"


@dataclass(frozen=True)
class ClockJudgement:
    samples_per_s: float
    clock: str  # WALL, FASTEST or THREAD_CPU: where the figure came from
    wall_samples_per_s: float  # median wall-clock block
    cpu_samples_per_s: float | None  # median thread-CPU block (one-thread trials only)
    clocks_agree: bool | None  # None: no thread clock to compare (several threads)
    uncertainty: float | None  # relative uncertainty added to the figure when the clocks disagree
    contended: bool  # the figure is not usable for speed verdicts
    reason: str  # why it is contended ("" when usable), or the machine's reason it was rescued from

    def metrics(self) -> dict[str, object]:
        figures: dict[str, object] = {
            SAMPLES_PER_S_CLOCK: self.clock,
            SAMPLES_PER_S_WALL: self.wall_samples_per_s,
            SAMPLES_PER_S_THREAD_CPU: self.cpu_samples_per_s,
            CLOCKS_AGREE: self.clocks_agree,
            CONTENDED: self.contended,
            CONTENTION_REASON: self.reason if self.contended else "",
        }
        if self.uncertainty is not None:  # read as the figure's relative error by the report's intervals
            figures[SAMPLES_PER_S_CV] = self.uncertainty
        if not self.contended and self.reason:
            figures[RESCUED_FROM] = self.reason
        return figures


def spread_of(rates: list[float]) -> float:
    """Interquartile range / median (0 for one block)."""
    median = statistics.median(rates)
    if len(rates) < 2 or median <= 0:
        return 0.0
    quartiles = statistics.quantiles(rates, n=4, method="inclusive")
    return (quartiles[2] - quartiles[0]) / median


def fastest_half(rates: list[float]) -> list[float]:
    """The fastest half of the blocks (at least one)."""
    return sorted(rates, reverse=True)[: max(1, len(rates) // 2)]


def fastest_blocks(rates: list[float]) -> float:
    """The mean rate of the fastest half of the blocks."""
    kept = fastest_half(rates)
    return sum(kept) / len(kept)


def range_of(rates: list[float]) -> float:
    """(largest - smallest) / median (0 for one block)."""
    return (max(rates) - min(rates)) / statistics.median(rates) if len(rates) > 1 else 0.0


def agrees(wall: float, cpu: float) -> bool:
    return wall >= cpu / (1 + AGREE)


def judge_clocks(
    wall_rates: list[float], cpu_rates: list[float] | None, threads: int, machine: ContentionReading
) -> ClockJudgement:
    """The speed figure of a trial's timed blocks, the clock it came from, and whether it is usable."""
    wall = statistics.median(wall_rates)
    if threads != 1 or not cpu_rates:
        return ClockJudgement(wall, WALL, wall, None, None, None, machine.contended, machine.reason)
    cpu = fastest_blocks(cpu_rates)
    busy = machine.reason
    varied = range_of(fastest_half(cpu_rates))
    if varied > CPU_SPREAD_LIMIT:
        reason = (f"the training thread's CPU time per block varied by {varied:.0%} even over its fastest half "
                  f"(limit {CPU_SPREAD_LIMIT:.0%}): the work itself was slowed (shared core or memory)")
        return ClockJudgement(cpu, THREAD_CPU, wall, cpu, False, None, True, "; ".join(filter(None, [reason, busy])))
    if agrees(wall, cpu):
        return ClockJudgement(wall, WALL, wall, cpu, True, None, False, busy)
    fast = fastest_blocks(wall_rates)
    if agrees(fast, cpu):
        return ClockJudgement(fast, FASTEST, wall, cpu, False, None, False, busy or "wall-clock blocks were slowed")
    disagreement = 1 - wall / cpu  # the share of wall time the thread did not run
    return ClockJudgement(cpu, THREAD_CPU, wall, cpu, False, disagreement, False,
                          busy or f"wall clock {disagreement:.0%} slower than the thread's CPU time")
