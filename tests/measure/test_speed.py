"""The speed probe (blocks after warm-up, fewer threads when as fast) and contention detection."""

from __future__ import annotations

import subprocess
import sys
import time
import types

import pytest
import torch

from lstmexp.measure import ContentionMeter, ContentionReading, load_avg_1m, probe_speed
from lstmexp.measure import device as device_module
from lstmexp.measure.speed import BLOCKS, MIN_BLOCK_S, WARMUP_STEPS
from lstmexp.spec import load_spec
from lstmexp.trial.run import run_trial
from tests.search_specs import sized

CPU = torch.device("cpu")
SMALL = ["data.rows=1200", "train.epochs=1", "train.device=cpu", "train.threads=1"]


@pytest.fixture(autouse=True)
def keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def sleeping_step(seconds_for: dict[int, float], warmup_s: float = 0.0):
    """A fake training step of 10 samples that sleeps: `warmup_s` for its first WARMUP_STEPS calls, then
    the time given for the thread count in force."""
    calls = []

    def step() -> int:
        calls.append(torch.get_num_threads())
        slow = len(calls) <= WARMUP_STEPS
        time.sleep(warmup_s if slow else seconds_for[torch.get_num_threads()])
        return 10

    return step, calls


def test_the_probe_figures_exclude_the_warm_up_steps():
    step, calls = sleeping_step({1: 0.002}, warmup_s=0.2)
    figure = probe_speed(step, CPU, [1], training_steps=10)
    assert len(figure.block_rates) == BLOCKS
    # a block holding a 0.2 s warm-up step would run at <= 50 samples/s; every block ran near 5,000
    assert min(figure.block_rates) > 1000
    assert len(calls) == WARMUP_STEPS + BLOCKS  # one step per block here: 8 % of 10 steps is under one


def clocked_step(monkeypatch: pytest.MonkeyPatch, seconds_for: dict[int, float]):
    """A fake step of 10 samples that moves the probe's wall clock by the time given for the thread count
    in force: the choice depends on the rule alone, not on how late a sleep wakes on a busy machine."""
    clock = [0.0]
    monkeypatch.setattr(device_module, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))

    def step() -> int:
        clock[0] += seconds_for[torch.get_num_threads()]
        return 10

    return step


def test_a_block_of_short_steps_lasts_long_enough_to_time(monkeypatch):
    calls = []
    step = clocked_step(monkeypatch, {1: 0.0005})  # half a millisecond per step, 10 samples each

    def counted() -> int:
        calls.append(1)
        return step()

    figure = probe_speed(counted, CPU, [1], training_steps=10)
    per_block = (len(calls) - WARMUP_STEPS) // BLOCKS
    assert len(calls) == WARMUP_STEPS + BLOCKS * per_block
    assert per_block * 0.0005 >= MIN_BLOCK_S  # not the one step that 8 % of 10 training steps would give
    assert figure.samples_per_s == pytest.approx(10 / 0.0005)


def test_more_threads_are_chosen_only_when_clearly_faster(monkeypatch):
    step = clocked_step(monkeypatch, {1: 0.004, 2: 0.0038})  # 5 % faster: not worth a second core
    assert probe_speed(step, CPU, [1, 2], training_steps=10).threads == 1
    step = clocked_step(monkeypatch, {1: 0.004, 2: 0.002})  # twice as fast
    figure = probe_speed(step, CPU, [1, 2], training_steps=10)
    assert figure.threads == 2 and torch.get_num_threads() == 2
    assert figure.samples_per_s == pytest.approx(10 / 0.002, rel=0.5)


def test_the_contention_rule():
    quiet = ContentionReading(cpu_share=0.98, other_cpu_frac=0.05, steal_frac=0.0, load_avg_1m=0.1)
    assert not quiet.contended and quiet.reason == ""
    busy = ContentionReading(cpu_share=0.98, other_cpu_frac=0.45, steal_frac=None, load_avg_1m=1.0)
    assert busy.contended and "other processes used 45%" in busy.reason
    starved = ContentionReading(cpu_share=0.4, other_cpu_frac=0.1, steal_frac=0.2, load_avg_1m=1.0)
    assert "hypervisor steal 20%" in starved.reason and "40% of its threads' CPU time" in starved.reason


def other_cpu_now(seconds: float = 1.0) -> float:
    meter = ContentionMeter(1)
    meter.start()
    time.sleep(seconds)
    meter.stop()
    return meter.reading().other_cpu_frac


def test_a_trial_beside_a_busy_process_flags_the_machine_and_says_which_clock_its_figure_came_from():
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)  # let it get going
        metrics = run_trial(sized(load_spec(None, SMALL), 16, 8, 16)).figures()
    finally:
        busy.kill()
        busy.wait()
    assert metrics["machine_contended"] is True
    assert metrics["machine_contention_reason"] and metrics["other_cpu_frac"] > 0.25
    assert metrics["samples_per_s"] > 0  # the raw figures are kept
    # one thread: its own CPU clock judges the figure; a figure kept on a busy machine says what it survived
    assert metrics["samples_per_s_clock"] in ("wall", "wall, fastest blocks", "thread CPU")
    assert metrics["contended"] or metrics["rescued_from"]


def test_a_trial_alone_is_not_flagged():
    other, load = other_cpu_now(), load_avg_1m()
    if other > 0.05 or load > 0.5:
        pytest.skip(f"the machine is not quiet (other processes {other:.0%} of the CPU, load {load:.2f})")
    metrics = run_trial(sized(load_spec(None, SMALL), 16, 8, 16)).figures()
    assert metrics["contended"] is False, metrics["contention_reason"]
    assert metrics["machine_contended"] is False, metrics["machine_contention_reason"]
    assert metrics["cpu_share"] > 0.6
