"""Measurements: per-trial memory, warm-up exclusion, FLOPs, errors in real units, naive baseline, repeats."""

import time

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.errors import SpecError
from lstmexp.measure import Stopwatch, TrialMemory, lstm_training_flops_per_sample
from lstmexp.spec import load_spec
from lstmexp.train import TrainConfig, evaluate, train
from lstmexp.trial import TrialParams, combine_repeats, run_trial

CPU = torch.device("cpu")
SMALL = ["data.rows=1200", "train.epochs=1", "train.device=cpu"]


def ramp(rows: int = 200, scaling: str = "standard") -> Series:
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"x": np.sin(index), "y": index})
    return Series.from_frame(frame, ["y"], ["x", "y"], (0.6, 0.2, 0.2), scaling, CPU)


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


class SlowFirstSteps(nn.Module):
    """Wraps a model and sleeps during its first `slow_calls` forward passes (a stand-in for warm-up cost)."""

    def __init__(self, model: nn.Module, slow_calls: int, seconds: float) -> None:
        super().__init__()
        self.model, self.slow_calls, self.seconds, self.calls = model, slow_calls, seconds, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            self.calls += 1
            if self.calls <= self.slow_calls:
                time.sleep(self.seconds)
        return self.model(x)


def test_warmup_iterations_are_not_in_the_throughput():
    from lstmexp.model import LSTMForecaster

    series = ramp(400)
    config = TrainConfig(batch_size=16, time_step=8, epochs=2, lr=1e-3, warmup_iters=3)
    model = SlowFirstSteps(LSTMForecaster(2, 8, 1), slow_calls=3, seconds=0.4)
    result = train(model, series, config)
    n = result.samples_per_epoch
    assert result.steady_samples == 2 * n - 3 * 16  # every sample after the third iteration
    total_s = sum(e.train_s for e in result.epochs)
    assert total_s > 1.2  # the three slow warm-up steps (3 x 0.4 s) are in the epoch time...
    assert result.steady_s < total_s - 1.1  # ...but not in the steady-state time, whatever the load
    assert result.samples_per_s == pytest.approx(result.steady_samples / result.steady_s)


def test_flop_count_matches_a_hand_computation():
    # one layer, I=2, H=3, T=4, one output: gates 2*4*3*(2+3)=120 per step, x4 steps=480; head 2*3*1=6
    assert lstm_training_flops_per_sample(2, 3, 1, 4, 1, 1) == 3 * (480 + 6)
    # a second layer reads H inputs: 4 steps * 2*4*3*(3+3) = 576 more; horizon 2 doubles the head
    assert lstm_training_flops_per_sample(2, 3, 2, 4, 1, 2) == 3 * (480 + 576 + 12)


class Constant(nn.Module):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.full((x.shape[0], 1, 1), self.value) + 0 * self.dummy


def test_errors_in_units_invert_the_scaling_exactly():
    series = ramp(200)
    ev = evaluate(Constant(0.25), series, "test", time_step=5)
    scale = series.scaler.scale[-1]
    assert ev.mse_units == pytest.approx(ev.mse * scale**2, rel=1e-9)
    assert ev.mae_units == pytest.approx(ev.mae * scale, rel=1e-9)
    assert ev.rmse_units == pytest.approx(np.sqrt(ev.mse_units))


@pytest.mark.parametrize("horizon", [1, 3])
def test_naive_baseline_on_a_ramp_is_known_in_closed_form(horizon):
    # y = row index: repeating the last value is off by 1, 2, ..., h steps -> MSE = mean(k^2)
    ev = evaluate(Constant(0.0), ramp(200, scaling="none"), "val", time_step=5, horizon=horizon)
    expected = np.mean([k**2 for k in range(1, horizon + 1)])
    assert ev.naive_mse_units == pytest.approx(expected)
    assert ev.naive_mse == pytest.approx(expected)  # unscaled: units and scaled agree


def test_skill_score_is_one_minus_the_mse_ratio():
    ev = evaluate(Constant(0.0), ramp(200), "val", time_step=5)
    assert ev.skill == pytest.approx(1 - ev.mse / ev.naive_mse)


def test_repeats_record_mean_std_and_cv():
    spec = load_spec(None, [*SMALL, "train.repeats=3"])
    metrics = run_trial(spec, TrialParams(batch_size=64, time_step=8, hidden_size=16))
    assert metrics["repeats"] == 3
    for key in ("val_loss_best", "samples_per_s", "test_skill"):
        assert metrics[f"{key}_std"] >= 0
        assert metrics[f"{key}_cv"] == pytest.approx(metrics[f"{key}_std"] / abs(metrics[key]))
    assert metrics["val_loss_best_std"] > 0  # different seeds give different models


def test_combine_repeats_statistics():
    runs = [{"val_loss_best": v, "samples_per_s": 10.0, "peak_mem_bytes": m} for v, m in ((1.0, 5), (3.0, 9))]
    combined = combine_repeats(runs)
    assert combined["val_loss_best"] == 2.0
    assert combined["val_loss_best_std"] == pytest.approx(np.sqrt(2.0))
    assert combined["val_loss_best_cv"] == pytest.approx(np.sqrt(2.0) / 2)
    assert combined["samples_per_s_std"] == 0.0
    assert combined["peak_mem_bytes"] == 9


def test_trial_records_hardware_efficiency_and_time_to_target():
    spec = load_spec(None, [*SMALL, "train.epochs=2", "train.target_val_loss=100.0"])
    metrics = run_trial(spec, TrialParams(batch_size=64, time_step=8, hidden_size=16))
    assert metrics["flops_per_sample"] == lstm_training_flops_per_sample(5, 16, 1, 8, 1, 1)
    assert metrics["achieved_gflops"] == pytest.approx(metrics["flops_per_sample"] * metrics["samples_per_s"] / 1e9)
    assert 0 < metrics["hw_efficiency_pct"] < 100
    assert metrics["epochs_to_target"] == 1  # any model beats a val MSE of 100
    assert 0 < metrics["time_to_target_s"] <= metrics["wall_s"]
    assert len(metrics["curve_grad_norm_mean"]) == 2


def test_bf16_autocast_runs_on_cpu_and_fp16_is_refused():
    metrics = run_trial(load_spec(None, [*SMALL, "train.amp=bf16"]), TrialParams(64, 8, 16))
    assert np.isfinite(metrics["val_loss_best"])
    with pytest.raises(SpecError, match="fp16 needs CUDA"):
        load_spec(None, [*SMALL, "train.amp=fp16"])


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
