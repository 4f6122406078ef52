"""The training loop: warm-up excluded from throughput, stateful state carried and reset, and every
budget, AMP setting and counter holding for both batch sources (shuffled windows, stateful streams)."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import lstmexp.training.batches as batches_module
from lstmexp.data import Series
from lstmexp.errors import SpecError
from lstmexp.measure import bf16_autocast_supported
from lstmexp.spec import load_spec
from lstmexp.training.loop import TrainConfig, train
from lstmexp.training.model import LSTMForecaster, forward_steps
from tests.search_specs import sized

CPU = torch.device("cpu")
needs_bf16 = pytest.mark.skipif(
    not bf16_autocast_supported(CPU), reason="this CPU cannot run an LSTM under bf16 autocast (no AVX-512 BF16/AMX)"
)


def sine_ramp(rows: int = 200) -> Series:
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"x": np.sin(index), "y": index})
    return Series.from_frame(frame, ["y"], ["x", "y"], (0.6, 0.2, 0.2), "standard", CPU)


def ramp(rows: int = 100) -> Series:
    index = np.arange(rows, dtype=np.float64)
    frame = pd.DataFrame({"x": index, "y": -index})
    return Series.from_frame(frame, ["y"], ["x", "y"], split=(0.6, 0.2, 0.2), scaling="none", device=CPU)


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
    series = sine_ramp(400)
    config = TrainConfig(batch_size=16, time_step=8, epochs=2, lr=1e-3, warmup_iters=3)
    model = SlowFirstSteps(LSTMForecaster(2, 8, 1), slow_calls=3, seconds=0.4)
    result = train(model, series, config)
    n = result.samples_per_epoch
    assert result.steady_samples == 2 * n - 3 * 16  # every sample after the third iteration
    total_s = sum(e.train_s for e in result.epochs)
    assert total_s > 1.2  # the three slow warm-up steps (3 x 0.4 s) are in the epoch time...
    assert result.steady_s < total_s - 1.1  # ...but not in the steady-state time, whatever the load
    assert result.samples_per_s == pytest.approx(result.steady_samples / result.steady_s)


def test_a_warmup_longer_than_an_epoch_ends_in_the_next_epoch_for_stateful_training():
    series = ramp(100)  # 60 train rows, batch 3, T 6: 19 rows per stream, 4 chunks of 6, 6, 6, 1 rows
    config = TrainConfig(batch_size=3, time_step=6, epochs=2, lr=1e-2, warmup_iters=5, stateful=True)
    result = train(LSTMForecaster(2, 4, 1), series, config)
    assert (result.iterations_per_epoch, result.samples_per_epoch, result.warmup_iters) == (4, 57, 5)
    assert result.steady_samples == 57 - 3 * 6  # epoch 2 without its first chunk
    assert result.samples_seen == 2 * 57


def test_state_after_batch_k_is_the_initial_state_of_batch_k_plus_1(monkeypatch):
    calls: list[tuple[object, tuple[torch.Tensor, torch.Tensor], torch.Tensor]] = []

    def recording(model, inputs, state):
        predictions, new_state = forward_steps(model, inputs, state)
        if model.training:
            calls.append((state, tuple(s.detach().clone() for s in new_state), inputs[:, 0, 0].clone()))
        return predictions, new_state

    monkeypatch.setattr(batches_module, "forward_steps", recording)
    series = ramp(100)
    torch.manual_seed(0)
    model = LSTMForecaster(2, 4, 1, horizon=2)
    config = TrainConfig(batch_size=3, time_step=6, epochs=2, lr=1e-2, horizon=2, warmup_iters=0, stateful=True)
    result = train(model, series, config)
    per_epoch = result.iterations_per_epoch
    assert per_epoch == 4 and len(calls) == 2 * per_epoch  # (60 - 2) // 3 = 19 rows per stream, T=6
    for epoch in range(2):
        first = epoch * per_epoch
        assert calls[first][0] is None  # reset at each epoch start
        for k in range(first + 1, first + per_epoch):
            state_in, previous_out = calls[k][0], calls[k - 1][1]
            assert not state_in[0].requires_grad  # detached: back-propagation is truncated
            torch.testing.assert_close(state_in[0], previous_out[0])
            torch.testing.assert_close(state_in[1], previous_out[1])
        # the first row of each batch: streams start at 0, 19, 38 and advance by T
        assert [calls[first + k][2].tolist() for k in range(2)] == [[0, 19, 38], [6, 25, 44]]


def test_stateful_training_stops_at_the_samples_budget_and_counts_samples_seen():
    config = TrainConfig(batch_size=4, time_step=5, epochs=5, lr=1e-2, warmup_iters=0, stateful=True, max_samples=50)
    result = train(LSTMForecaster(2, 4, 1), ramp(400), config)
    # each chunk is 4 streams x 5 rows = 20 samples: the third crosses 50
    assert result.budget_reached is True and len(result.epochs) == 1
    assert result.samples_seen == 60 and result.steady_samples == 60
    assert result.iterations_per_epoch * 20 > result.samples_seen  # the epoch was cut short


def test_stateful_training_stops_at_the_seconds_budget():
    config = TrainConfig(batch_size=4, time_step=5, epochs=100_000, lr=1e-2, warmup_iters=0, stateful=True,
                         max_seconds=0.3)
    result = train(LSTMForecaster(2, 4, 1), ramp(400), config)
    trained_s = sum(e.train_s for e in result.epochs)
    epoch_s = trained_s / len(result.epochs)
    assert result.budget_reached is True and len(result.epochs) < 100_000
    assert 0.3 <= trained_s < 0.3 + 2 * epoch_s + 0.5  # stops within the epoch that crosses



def test_training_stops_at_the_batch_that_reaches_the_study_cpu_deadline():
    series = sine_ramp(400)
    config = TrainConfig(batch_size=8, time_step=8, epochs=50, lr=1e-2, warmup_iters=0)
    spent = train(LSTMForecaster(2, 8, 1), series, replace(config, cpu_deadline=time.process_time()))
    assert spent.budget_reached and spent.study_budget_cut and len(spent.epochs) == 1
    assert spent.samples_seen == 8  # one batch: the deadline had passed when it ended
    far = train(LSTMForecaster(2, 8, 1), series, replace(config, epochs=3, cpu_deadline=time.process_time() + 3600))
    assert not (far.budget_reached or far.study_budget_cut)
    assert len(far.epochs) == 3 and far.samples_seen == 3 * far.samples_per_epoch

class DtypeRecorder:
    """Records the dtype of the LSTM's output in training and in evaluation."""

    def __init__(self, model: LSTMForecaster) -> None:
        self.seen: dict[bool, set[torch.dtype]] = {True: set(), False: set()}
        model.lstm.register_forward_hook(self.hook)

    def hook(self, module: nn.Module, args: object, output: tuple[torch.Tensor, object]) -> None:
        self.seen[module.training].add(output[0].dtype)


@needs_bf16
@pytest.mark.parametrize("stateful", [False, True])
def test_bf16_autocast_holds_in_training_and_evaluation_for_both_sources(stateful):
    model = LSTMForecaster(2, 8, 1)
    recorder = DtypeRecorder(model)
    config = TrainConfig(batch_size=4, time_step=5, epochs=2, lr=1e-2, warmup_iters=0, stateful=stateful, amp="bf16")
    result = train(model, ramp(200), config)
    assert recorder.seen == {True: {torch.bfloat16}, False: {torch.bfloat16}}
    assert all(np.isfinite(e.train_loss) and np.isfinite(e.val_loss) for e in result.epochs)
    float32 = LSTMForecaster(2, 8, 1)
    recorder = DtypeRecorder(float32)
    train(float32, ramp(200), replace(config, amp=None))
    assert recorder.seen == {True: {torch.float32}, False: {torch.float32}}


def test_train_config_from_spec_takes_every_training_setting():
    spec = load_spec(None, ["data.horizon=3", "train.epochs=7", "train.lr=0.01", "train.weight_decay=0.1",
                            "train.grad_clip=2.0", "train.warmup_iters=4", "train.amp=bf16", "train.max_seconds=9",
                            "train.max_samples=99", "train.stateful=true", "train.device=cpu", "train.patience=2",
                            "train.lr_decay=0.5"])
    config = TrainConfig.from_spec(sized(spec, 16, 12, 8), seed=5)
    assert config == TrainConfig(batch_size=16, time_step=12, epochs=7, lr=0.01, horizon=3, weight_decay=0.1,
                                 grad_clip=2.0, warmup_iters=4, seed=5, amp="bf16", max_seconds=9.0,
                                 max_samples=99, stateful=True, patience=2, lr_decay=0.5)


def test_early_stopping_ends_training_after_patience_epochs_without_a_better_val_loss():
    series = sine_ramp(200)
    # lr 0: the weights never move, so the val loss never improves after epoch 1
    config = TrainConfig(batch_size=16, time_step=8, epochs=20, lr=0.0, warmup_iters=0, patience=3)
    result = train(LSTMForecaster(2, 8, 1), series, config)
    assert len(result.epochs) == 4 and result.best_epoch == 1 and result.patience_ran_out
    assert not train(LSTMForecaster(2, 8, 1), series, replace(config, patience=None, epochs=6)).patience_ran_out


def test_early_stopping_is_on_by_default_with_epochs_as_the_cap():
    spec = load_spec(None, [])
    config = TrainConfig.from_spec(sized(spec, 16, 8, 8), seed=0)
    assert spec.train.patience == 5 and config.patience == 5 and config.epochs == spec.train.epochs >= 20
    assert TrainConfig.from_spec(sized(load_spec(None, ["train.patience=null"]), 16, 8, 8), 0).patience is None


@pytest.mark.parametrize("stateful", [False, True])
def test_lr_decay_multiplies_the_rate_after_every_epoch(stateful):
    series = sine_ramp(200)
    config = TrainConfig(batch_size=8, time_step=8, epochs=4, lr=0.02, warmup_iters=0, lr_decay=0.5,
                         stateful=stateful, patience=None)
    rates = [e.lr for e in train(LSTMForecaster(2, 8, 1), series, config).epochs]
    assert rates == pytest.approx([0.02, 0.01, 0.005, 0.0025])
    constant = [e.lr for e in train(LSTMForecaster(2, 8, 1), series, replace(config, lr_decay=None)).epochs]
    assert constant == pytest.approx([0.02] * 4)


def test_lr_decay_is_refused_outside_zero_to_one():
    for value in ("0", "1.5", "-0.5"):
        with pytest.raises(SpecError, match=r"train\.lr_decay"):
            load_spec(None, [f"train.lr_decay={value}"])
    assert load_spec(None, ["train.lr_decay=1"]).train.lr_decay == 1.0
