"""The speed probe: a trial's samples/s from short timed blocks of training steps, apart from training.

After warm-up steps (first-step allocations, optimizer state, thread pools), blocks of a few steps on
real batches are timed one by one, and the figure is the median block rate with its spread (IQR /
median): a burst of load hits one block, not the figure (the idea of torch.utils.benchmark's
`blocked_autorange`, which times a fixed statement; here each step needs the next batch and changes
the optimizer state, so the loop is our own). Like `blocked_autorange`, a block runs enough steps to
last MIN_BLOCK_S: a block of one sub-millisecond step is timed mostly by the clocks' and scheduler's
noise, and its thread-CPU time by the cache refill after each switch to another process. With two
thread counts to compare, their blocks alternate (A B B A ...), so drift in the machine's load hits
both alike. Each block is timed on the wall clock and on the calling thread's CPU clock;
`lstmexp.measure.clocks` decides which figure stands.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lstmexp.measure.clocks import ClockJudgement, judge_clocks
from lstmexp.measure.contention import ContentionMeter, ContentionReading
from lstmexp.measure.device import now
from lstmexp.measure.threads import set_threads

Step = Callable[[], int]  # runs one training step on the next batch, returns its samples

BLOCKS = 6  # timed blocks per thread count: enough for a median and an interquartile range
WARMUP_STEPS = 2  # untimed: the first step allocates the optimizer state, the second settles the allocator
PROBE_SHARE = 0.08  # the probe's timed steps take about this share of the trial's estimated training time
MIN_BLOCK_S = 0.025  # each timed block lasts at least this long (a few scheduler time slices)
FEWER_THREADS_MARGIN = 1.1  # more threads must be 10 % faster to be chosen: fewer threads leave the machine free


@dataclass(frozen=True)
class SpeedFigure:
    samples_per_s: float  # median wall-clock block rate (what thread counts are compared on)
    spread: float  # interquartile range / median of the block rates
    block_rates: tuple[float, ...]
    threads: int
    meter: ContentionMeter  # the probe's timed blocks; the trial adds its training to it
    cpu_rates: tuple[float, ...] = ()  # samples per second of the calling thread's CPU time, per block

    @property
    def contention(self) -> ContentionReading:
        return self.meter.reading()

    @property
    def judgement(self) -> ClockJudgement:
        """The figure that stands and its clock, judged on the machine's reading so far (training included)."""
        # no CPU rates on a GPU, whose work is not the host thread's: the wall clock alone then
        return judge_clocks(list(self.block_rates), list(self.cpu_rates) or None, self.threads, self.contention)


def summarize(rates: list[float], threads: int, meter: ContentionMeter, cpu_rates: list[float]) -> SpeedFigure:
    median = statistics.median(rates)
    quartiles = statistics.quantiles(rates, n=4, method="inclusive") if len(rates) > 1 else [median] * 3
    spread = (quartiles[2] - quartiles[0]) / median if median > 0 else float("nan")
    return SpeedFigure(median, spread, tuple(rates), threads, meter, tuple(cpu_rates))


def timed_block(step: Step, steps: int, device: torch.device, meter: ContentionMeter) -> tuple[float, float]:
    """samples/s over `steps` steps on the wall clock (the device synchronised before each read) and on
    the calling thread's CPU clock (nan on a GPU, whose work is not this thread's)."""
    meter.start()
    began, began_cpu = now(device), time.thread_time()
    samples = sum(step() for _ in range(steps))
    seconds, cpu_seconds = now(device) - began, time.thread_time() - began_cpu
    meter.stop()
    wall = samples / seconds if seconds > 0 else float("nan")
    cpu = samples / cpu_seconds if cpu_seconds > 0 and device.type == "cpu" else float("nan")
    return wall, cpu


def steps_per_block(training_steps: int, blocks: int, step_s: float) -> int:
    """Steps per block so that all timed blocks take about PROBE_SHARE of the training steps, and each
    block at least MIN_BLOCK_S at the warm-up's pace of `step_s` seconds per step (at least 1)."""
    shared = int(PROBE_SHARE * training_steps / blocks)
    lasting = math.ceil(MIN_BLOCK_S / step_s) if step_s > 0 else 1
    return max(1, shared, lasting)


def block_order(candidates: list[int]) -> list[int]:
    """A B B A A B ...: each thread count's blocks spread over the whole probe, few switches."""
    return [candidates[(i + 1) // 2 % len(candidates)] for i in range(BLOCKS * len(candidates))]


def losing(rates: dict[int, list[float]], threads: int, fewest: int) -> bool:
    """More threads are dropped once two of their blocks are not clearly faster than the fewest's so far
    (on a busy machine they spin-wait and each of their blocks costs several of the others)."""
    mine, theirs = rates[threads], rates[fewest]
    return threads != fewest and len(mine) >= 2 and bool(theirs) and \
        statistics.median(mine) <= FEWER_THREADS_MARGIN * statistics.median(theirs)


def probe_speed(step: Step, device: torch.device, candidates: list[int], training_steps: int) -> SpeedFigure:
    """Time BLOCKS blocks per candidate thread count after warm-up; the figure of the fastest, where
    more threads must beat fewer by FEWER_THREADS_MARGIN. Leaves the chosen count in force."""
    set_threads(candidates[0])
    for _ in range(WARMUP_STEPS - 1):
        step()
    began = now(device)
    step()  # the last warm-up step paces the blocks: the first ones allocate and are slow
    per_block = steps_per_block(training_steps, BLOCKS * len(candidates), now(device) - began)
    rates: dict[int, list[float]] = {threads: [] for threads in candidates}
    cpu_rates: dict[int, list[float]] = {threads: [] for threads in candidates}
    meters = {threads: ContentionMeter(threads) for threads in candidates}
    current, dropped = candidates[0], set()
    for threads in block_order(candidates):
        if threads in dropped:
            continue
        if threads != current:
            set_threads(threads)
            step()  # untimed: the thread pool resizes on its first parallel region
            current = threads
        wall, cpu = timed_block(step, per_block, device, meters[threads])
        rates[threads].append(wall)
        cpu_rates[threads].append(cpu)
        if losing(rates, threads, candidates[0]):
            dropped.add(threads)
    finalists = [t for t in candidates if t not in dropped]
    figures = [summarize(rates[t], t, meters[t], [r for r in cpu_rates[t] if math.isfinite(r)]) for t in finalists]
    best = figures[0]
    for figure in figures[1:]:
        if figure.samples_per_s > FEWER_THREADS_MARGIN * best.samples_per_s:
            best = figure
    set_threads(best.threads)
    return best
