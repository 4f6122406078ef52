"""Measurements of a trial: tensor peak, process memory without /proc, FLOPs, timers, the bf16 probe.

Threads: test_measure_threads; contention and the speed probe: test_measure_speed.
"""

import time

import pytest
import torch

import lstmexp.measure.process_memory as process_memory
from lstmexp.measure import (
    Stopwatch,
    TrialMemory,
    bf16_autocast_supported,
    lstm_training_flops_per_sample,
    measure_tensor_peak,
)
from lstmexp.spec import load_spec
from lstmexp.training.loop import TrainConfig, Trainer
from lstmexp.training.model import build_model
from lstmexp.trial.run import cached_series, run_trial
from tests.search_specs import sized

CPU = torch.device("cpu")
SMALL = ["data.rows=1200", "train.epochs=1", "train.device=cpu"]


def test_tensor_peak_is_identical_across_runs_and_seeds_and_rises_with_batch_and_time_step():
    base = run_trial(sized(load_spec(None, SMALL), 32, 16, 32)).figures()
    again = run_trial(sized(load_spec(None, [*SMALL, "train.seed=7"]), 32, 16, 32)).figures()
    wider = run_trial(sized(load_spec(None, SMALL), 64, 16, 32)).figures()
    widest = run_trial(sized(load_spec(None, SMALL), 128, 16, 32)).figures()
    longer = run_trial(sized(load_spec(None, SMALL), 32, 32, 32)).figures()
    assert base["peak_mem_method"] == "tensor-peak"
    assert base["peak_mem_bytes"] == base["tensor_peak_bytes"] == again["tensor_peak_bytes"]
    assert base["tensor_activations_bytes"] == again["tensor_activations_bytes"]
    assert base["tensor_peak_bytes"] < wider["tensor_peak_bytes"] < widest["tensor_peak_bytes"]
    assert longer["tensor_peak_bytes"] > base["tensor_peak_bytes"]
    # the activations autograd saves are linear in the batch, as the shapes say: a per-sample part plus
    # a fixed part (weights the LSTM kernel repacks per call), so each doubling adds twice the last step
    saved = [m["tensor_activations_bytes"] for m in (base, wider, widest)]
    assert saved[2] - saved[1] == 2 * (saved[1] - saved[0]) > 0


@pytest.mark.parametrize("threads", [1, 2])
def test_tensor_peak_is_the_same_wherever_in_an_epoch_the_measured_step_falls(threads):
    # The speed probe runs a timing-dependent number of steps before the tensor peak is taken, so the
    # measured step may fall where an epoch starts (a new shuffle, a skipped short batch): not its figure.
    spec = sized(load_spec(None, SMALL), 32, 16, 32)
    series = cached_series(spec.data.model_dump_json(), "cpu")
    trainer = Trainer(build_model(spec, series), series, TrainConfig.from_spec(spec, 0))
    next_batch, train_on = trainer.batch_steps()
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        train_on(next_batch())  # warm-up: the optimizer state exists
        peaks = {measure_tensor_peak(trainer.model, trainer.optimizer, next_batch(), train_on, CPU).peak_bytes
                 for _ in range(trainer.source.iterations + 2)}  # every position, across an epoch's start
    finally:
        torch.set_num_threads(before)
    assert len(peaks) == 1 and peaks.pop() > 0


def test_tensor_peak_is_split_into_parameters_gradients_optimizer_state_and_activations():
    metrics = run_trial(sized(load_spec(None, SMALL), 32, 16, 32)).figures()
    params = metrics["param_count"] * 4  # float32
    assert metrics["tensor_params_bytes"] == params
    assert metrics["tensor_grads_bytes"] == params
    assert metrics["tensor_optimizer_bytes"] >= 2 * params  # Adam: two moments per parameter (+ step counts)
    held = metrics["tensor_params_bytes"] + metrics["tensor_optimizer_bytes"] + metrics["tensor_activations_bytes"]
    assert metrics["tensor_activations_bytes"] > 0 and held <= metrics["tensor_peak_bytes"]
    assert metrics["process_peak_bytes"] is None or metrics["process_peak_bytes"] > 0  # kept beside it


def test_without_proc_the_process_memory_is_sampled_through_psutil(monkeypatch, tmp_path):
    monkeypatch.setattr(process_memory, "PROC_STATUS", tmp_path / "no-proc" / "status")
    with TrialMemory(CPU) as memory:
        block = torch.ones(32 * 2**20 // 4)  # 32 MiB touched during the "trial"
        block += 1
        time.sleep(0.05)  # the sampler reads every 5 ms
        reading = memory.reading()
    assert reading.method == "sampled" and reading.missing == ""
    assert reading.peak_bytes is not None and reading.peak_bytes > 16 * 2**20


def test_a_platform_without_any_process_memory_records_none_with_a_reason_never_zero(monkeypatch, tmp_path):
    monkeypatch.setattr(process_memory, "PROC_STATUS", tmp_path / "no-proc" / "status")
    monkeypatch.setattr(process_memory, "resident_bytes", lambda: None)
    metrics = run_trial(sized(load_spec(None, SMALL), 32, 8, 16)).figures()
    assert metrics["process_peak_bytes"] is None
    assert "resident set" in metrics["process_peak_missing"]
    assert metrics["peak_mem_bytes"] == metrics["tensor_peak_bytes"] > 0  # the tensor figure needs no /proc


def test_memory_is_measured_from_the_trial_start_not_the_process_peak():
    ballast = torch.ones(64 * 2**20 // 4)  # 64 MiB allocated and freed before the trial
    del ballast
    with TrialMemory(CPU) as memory:
        block = torch.ones(16 * 2**20 // 4)  # 16 MiB touched during the "trial"
        block += 1
        reading = memory.reading()
    assert reading.peak_bytes is not None and 12 * 2**20 < reading.peak_bytes < 48 * 2**20


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
    small = run_trial(sized(spec, 32, 32, 128)).figures()
    large = run_trial(sized(spec, 256, 32, 128)).figures()
    assert small["peak_mem_method"] == "cuda-allocator"
    assert large["peak_mem_bytes"] > small["peak_mem_bytes"]
    assert large["peak_mem_reserved_bytes"] >= large["peak_mem_bytes"]
    assert small["tensor_peak_bytes"] is None and small["tensor_peak_missing"]


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
