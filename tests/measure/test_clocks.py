"""Which clock a speed figure comes from: wall-clock blocks beside the training thread's CPU time."""

from __future__ import annotations

import time

import pytest
import torch

from lstmexp.measure import ContentionReading, probe_speed
from lstmexp.measure.clocks import FASTEST, THREAD_CPU, WALL, judge_clocks
from lstmexp.trial.metrics import contention_section

QUIET = ContentionReading(cpu_share=0.99, other_cpu_frac=0.02, steal_frac=0.0, load_avg_1m=0.1)
BUSY = ContentionReading(cpu_share=0.55, other_cpu_frac=0.9, steal_frac=0.0, load_avg_1m=3.0)
STEADY_CPU = [1000.0, 1010.0, 990.0, 1005.0, 995.0, 1000.0]


def test_agreeing_clocks_keep_the_wall_figure_even_on_a_busy_machine():
    judged = judge_clocks([980.0, 990.0, 970.0, 985.0, 975.0, 995.0], STEADY_CPU, 1, BUSY)
    assert judged.clock == WALL and judged.clocks_agree is True
    assert judged.samples_per_s == pytest.approx(982.5)
    assert not judged.contended and "other processes used 90%" in judged.metrics()["rescued_from"]


def test_the_fastest_wall_blocks_stand_when_only_some_blocks_were_interrupted():
    wall = [990.0, 985.0, 995.0, 400.0, 450.0, 500.0]  # half the blocks lost the core for a while
    judged = judge_clocks(wall, STEADY_CPU, 1, BUSY)
    assert judged.clock == FASTEST and judged.samples_per_s == pytest.approx(990.0)
    assert judged.clocks_agree is False and not judged.contended


def test_the_thread_clock_stands_flagged_and_widened_when_no_wall_block_agrees():
    judged = judge_clocks([500.0] * 6, STEADY_CPU, 1, BUSY)
    assert judged.clock == THREAD_CPU and judged.samples_per_s == pytest.approx(1005.0)  # its fastest half
    assert not judged.contended and judged.clocks_agree is False
    assert judged.metrics()["samples_per_s_cv"] == pytest.approx(0.5, rel=0.02)  # the wall clock ran half as fast


def test_work_that_itself_slowed_is_contended_whatever_the_clocks_say():
    slowed = [1000.0, 700.0, 500.0, 400.0, 350.0, 300.0]  # even the fastest half varies by 71 %
    judged = judge_clocks(slowed, slowed, 1, QUIET)
    assert judged.contended and "CPU time per block varied" in judged.reason
    interrupted = [600.0, 1000.0, 500.0, 980.0, 400.0, 1000.0]  # a few blocks slowed: the fastest half stands
    assert not judge_clocks(interrupted, interrupted, 1, QUIET).contended


def test_several_threads_keep_the_machine_rule():
    assert judge_clocks([500.0] * 6, STEADY_CPU, 2, BUSY).contended
    assert not judge_clocks([500.0] * 6, STEADY_CPU, 2, QUIET).contended
    assert judge_clocks([500.0] * 6, None, 1, BUSY).clock == WALL


def busy_step() -> int:
    """A step of 10 samples that keeps the calling thread's CPU busy for about 2 ms."""
    end = time.thread_time() + 0.002
    while time.thread_time() < end:
        pass
    return 10


def test_the_probe_times_every_block_on_both_clocks():
    before = torch.get_num_threads()
    try:
        figure = probe_speed(busy_step, torch.device("cpu"), [1], training_steps=10)
    finally:
        torch.set_num_threads(before)
    assert len(figure.cpu_rates) == len(figure.block_rates)
    assert sorted(figure.cpu_rates)[len(figure.cpu_rates) // 2] == pytest.approx(5000, rel=0.2)  # 10 per 2 ms of CPU
    metrics = {**figure.judgement.metrics(), **contention_section(figure).figures()}  # what the record keeps
    assert metrics["samples_per_s_clock"] in (WALL, FASTEST, THREAD_CPU)
    assert metrics["samples_per_s_thread_cpu"] == pytest.approx(5000, rel=0.2)
    assert "machine_contended" in metrics


def test_epoch_timings_are_judged_by_the_machine_flag_and_the_probe_figure_by_its_clocks():
    import pandas as pd

    from lstmexp.report.noise import quiet

    trials = pd.DataFrame({"samples_per_s": [900.0, 1000.0], "train_s_per_epoch": [1.0, 2.0],
                           "contended": [False, False], "machine_contended": [False, True]})
    assert len(quiet(trials, "samples_per_s")[0]) == 2  # rescued by the thread clock
    kept, left_out = quiet(trials, "train_s_per_epoch")  # wall clock only: the busy machine's epoch is left out
    assert list(kept["train_s_per_epoch"]) == [1.0] and left_out == 1
