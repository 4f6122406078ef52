"""Measurements: per-trial memory, FLOPs, timers, the bf16 probe (warm-up: test_train; errors: test_evaluate)."""

import time

import pytest
import torch

from lstmexp.measure import Stopwatch, bf16_autocast_supported, lstm_training_flops_per_sample
from lstmexp.memory import TrialMemory
from lstmexp.spec import load_spec
from lstmexp.trial import TrialParams, run_trial

CPU = torch.device("cpu")
SMALL = ["data.rows=1200", "train.epochs=1", "train.device=cpu"]


def test_eight_times_the_batch_reports_a_larger_peak_memory():
    spec = load_spec(None, SMALL)
    small = run_trial(spec, TrialParams(batch_size=32, time_step=32, hidden_size=128))
    large = run_trial(spec, TrialParams(batch_size=256, time_step=32, hidden_size=128))
    assert small["peak_mem_method"] == large["peak_mem_method"] == "vmhwm"
    assert large["peak_mem_bytes"] > small["peak_mem_bytes"]
    # the analytic activation estimate scales exactly with the batch
    assert large["activation_mem_est_bytes"] == 8 * small["activation_mem_est_bytes"]
    # and the measured growth is at least the extra activations autograd must hold
    extra_activations = large["activation_mem_est_bytes"] - small["activation_mem_est_bytes"]
    assert large["peak_mem_bytes"] - small["peak_mem_bytes"] > 0.5 * extra_activations


def test_memory_is_measured_from_the_trial_start_not_the_process_peak():
    ballast = torch.ones(64 * 2**20 // 4)  # 64 MiB allocated and freed before the trial
    del ballast
    with TrialMemory(CPU) as memory:
        block = torch.ones(16 * 2**20 // 4)  # 16 MiB touched during the "trial"
        block += 1
        reading = memory.reading()
    assert 12 * 2**20 < reading.peak_bytes < 48 * 2**20


def test_flop_count_matches_a_hand_computation():
    # one layer, I=2, H=3, T=4, one output: gates 2*4*3*(2+3)=120 per step, x4 steps=480; head 2*3*1=6
    assert lstm_training_flops_per_sample(2, 3, 1, 4, 1, 1) == 3 * (480 + 6)
    # a second layer reads H inputs: 4 steps * 2*4*3*(3+3) = 576 more; horizon 2 doubles the head
    assert lstm_training_flops_per_sample(2, 3, 2, 4, 1, 2) == 3 * (480 + 576 + 12)


def test_stopwatch_waits_for_the_work():
    watch = Stopwatch(CPU)
    watch.start()
    time.sleep(0.05)
    assert watch.stop() >= 0.05


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_trial_uses_the_allocator_counters():
    spec = load_spec(None, ["data.rows=1200", "train.epochs=1", "train.device=cuda"])
    small = run_trial(spec, TrialParams(32, 32, 128))
    large = run_trial(spec, TrialParams(256, 32, 128))
    assert small["peak_mem_method"] == "cuda-allocator"
    assert large["peak_mem_bytes"] > small["peak_mem_bytes"]
    assert large["peak_mem_reserved_bytes"] >= large["peak_mem_bytes"]


def test_the_bf16_probe_answers_false_where_the_lstm_primitive_fails(monkeypatch):
    def unsupported(*args, **kwargs):
        raise RuntimeError("could not create a primitive descriptor for the LSTM forward propagation primitive")

    bf16_autocast_supported.cache_clear()
    monkeypatch.setattr(torch.nn, "LSTM", unsupported)
    try:
        assert bf16_autocast_supported(CPU) is False
        assert bf16_autocast_supported(CPU) is False and bf16_autocast_supported.cache_info().hits == 1  # once
    finally:
        bf16_autocast_supported.cache_clear()  # the real answer for this machine, probed again on next use
