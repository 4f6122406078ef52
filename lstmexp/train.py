"""The training loop and evaluation: epochs, steady-state timing, gradient health, best-epoch weights.

The loop never forces a host-device sync per step: losses and gradient norms are accumulated on
the device and read once per epoch. It knows nothing of Optuna or printing; callers observe it
through `on_epoch`, which returns True to stop training early (a pruner's decision): the epochs run
so far are kept, so a stopped trial still has its speed and memory figures.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.data.streams import StreamLayout, check_stateful_fits
from lstmexp.errors import TrialFailure
from lstmexp.measure import Stopwatch
from lstmexp.model import LSTMForecaster, forward_steps

EVAL_BATCH = 2048  # evaluation batch: large enough to be fast, small enough to bound memory


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int
    time_step: int
    epochs: int
    lr: float
    horizon: int = 1
    weight_decay: float = 0.0
    grad_clip: float | None = None
    warmup_iters: int = 5
    seed: int = 0
    amp: str | None = None  # None (float32), "bf16" or "fp16" autocast
    max_seconds: float | None = None  # training-time budget (epochs stay the cap)
    max_samples: int | None = None  # samples-seen budget


@dataclass(frozen=True)
class EpochRecord:
    epoch: int  # 1-based
    train_loss: float  # mean MSE (scaled) over the epoch's batches
    val_loss: float  # MSE (scaled) on the validation split
    train_s: float
    eval_s: float
    grad_norm_mean: float  # global L2 norm before clipping
    grad_norm_max: float
    nonfinite_grad_frac: float


@dataclass
class TrainResult:
    epochs: list[EpochRecord] = field(default_factory=list)
    iterations_per_epoch: int = 0
    samples_per_epoch: int = 0
    steady_samples: int = 0  # training samples after the warm-up iterations
    steady_s: float = 0.0  # training seconds after the warm-up iterations
    warmup_iters: int = 0
    best_epoch: int = 0
    best_state: dict[str, torch.Tensor] | None = None
    stopped_early: bool = False  # on_epoch asked to stop (pruned)
    samples_seen: int = 0  # training samples over all epochs run
    budget_reached: bool = False  # max_seconds or max_samples ended training

    @property
    def best(self) -> EpochRecord:
        return self.epochs[self.best_epoch - 1]

    @property
    def samples_per_s(self) -> float:
        return self.steady_samples / self.steady_s if self.steady_s > 0 else float("nan")


@dataclass(frozen=True)
class Evaluation:
    """Errors on one split, scaled and in the target's own units, with the naive baseline's MSE."""

    mse: float
    mae: float
    mse_units: float
    mae_units: float
    naive_mse: float
    naive_mse_units: float
    samples: int

    @property
    def rmse(self) -> float:
        return math.sqrt(self.mse)

    @property
    def rmse_units(self) -> float:
        return math.sqrt(self.mse_units)

    @property
    def skill(self) -> float:
        """1 - MSE / MSE of repeating the last observed value: > 0 beats the naive forecast."""
        return 1.0 - self.mse / self.naive_mse if self.naive_mse > 0 else float("nan")


def train(
    model: nn.Module,
    series: Series,
    config: TrainConfig,
    on_epoch: Callable[[EpochRecord], bool] | None = None,
) -> TrainResult:
    device = series.device
    starts = series.sample_starts("train", config.time_step, config.horizon)
    val_starts = series.sample_starts("val", config.time_step, config.horizon)
    optimizer = make_optimizer(model, config)
    loss_fn = nn.MSELoss()
    generator = torch.Generator().manual_seed(config.seed)
    n = starts.numel()
    iterations = math.ceil(n / config.batch_size)  # C3: iterations per epoch
    result = TrainResult(iterations_per_epoch=iterations, samples_per_epoch=n)
    warmup = min(config.warmup_iters, max(iterations * config.epochs - 1, 0))
    result.warmup_iters = warmup
    step = 0
    precision = MixedPrecision(device, config.amp)
    epoch_watch, steady_watch = Stopwatch(device), Stopwatch(device)

    for epoch in range(1, config.epochs + 1):
        model.train()
        order = starts[torch.randperm(n, generator=generator).to(device, non_blocking=True)]
        loss_sum = torch.zeros((), device=device)
        norms: list[torch.Tensor] = []  # per-step gradient norms, kept on the device until epoch end
        epoch_watch.start()
        epoch_started_at = time.perf_counter()  # host clock, for the seconds budget only
        in_steady_state = step >= warmup
        if in_steady_state:
            steady_watch.start()
        ran = 0
        for i in range(iterations):
            if step == warmup and not in_steady_state:
                steady_watch.start()  # warm-up ends here, once per trial
                in_steady_state = True
                result.steady_samples -= i * config.batch_size  # samples before it in this epoch
            batch_starts = order[i * config.batch_size : (i + 1) * config.batch_size]
            inputs, targets = series.batch(batch_starts, config.time_step, config.horizon)
            loss, norm = precision.step(model, optimizer, loss_fn, inputs, targets, config.grad_clip)
            loss_sum += loss
            norms.append(norm)
            step += 1
            ran += 1
            result.samples_seen += batch_starts.numel()
            if budget_reached(config, result, epoch_started_at):  # the budget may end an epoch early
                result.budget_reached = True
                break
        train_s = epoch_watch.stop()
        if in_steady_state:
            result.steady_s += steady_watch.stop()
            result.steady_samples += min(n, ran * config.batch_size)
        epoch_watch.start()
        val_loss = evaluate(model, series, "val", config.time_step, config.horizon, val_starts, config.amp).mse
        eval_s = epoch_watch.stop()
        record = epoch_record(epoch, (loss_sum / ran).item(), val_loss, torch.stack(norms), train_s, eval_s)
        if close_epoch(result, record, model, on_epoch) or result.budget_reached:
            break
    return result


def budget_reached(config: TrainConfig, result: TrainResult, epoch_start: float) -> bool:
    """True once the trial's seconds or samples budget is spent (read without a device sync: on
    CUDA the clock may run ahead of queued kernels by a few milliseconds)."""
    if config.max_samples is not None and result.samples_seen >= config.max_samples:
        return True
    if config.max_seconds is None:
        return False
    trained_s = sum(e.train_s for e in result.epochs) + time.perf_counter() - epoch_start
    return trained_s >= config.max_seconds


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Adam, fused where torch supports it: one kernel for the whole update instead of one per tensor.

    The fused step saves about as much per step as measuring the gradient norm costs (measured
    with CPU time on a 64-unit LSTM, batch 16: 1.13 ms vs 1.16 ms per step for a plain loop).
    """
    params = list(model.parameters())
    fusable = all(p.device.type in ("cpu", "cuda") and p.dtype.is_floating_point for p in params)
    return torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay, fused=fusable or None)


class MixedPrecision:
    """One optimisation step in float32 or under autocast (bf16, or fp16 with a gradient scaler).

    The gradient norm is taken after unscaling, so it means the same with and without fp16; steps
    whose fp16 gradients overflow are skipped by the scaler (and counted as non-finite).
    """

    def __init__(self, device: torch.device, amp: str | None) -> None:
        self.device_type = device.type
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp or "")
        self.scaler = torch.amp.GradScaler(device.type, enabled=amp == "fp16")

    def autocast(self) -> torch.autocast:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)

    def step(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        loss_fn: nn.Module,
        inputs: torch.Tensor,
        targets: torch.Tensor,
        clip: float | None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward, backward, update; returns the detached loss and the pre-clip gradient norm."""
        optimizer.zero_grad(set_to_none=True)
        if self.dtype is None:  # float32: no autocast or scaler calls on the hot path
            loss = loss_fn(model(inputs), targets)
            loss.backward()
            norm = gradient_norm(model, clip)
            optimizer.step()
            return loss.detach(), norm
        with self.autocast():
            loss = loss_fn(model(inputs).float(), targets)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(optimizer)
        norm = gradient_norm(model, clip)
        self.scaler.step(optimizer)
        self.scaler.update()
        return loss.detach(), norm


def gradient_norm(model: nn.Module, clip: float | None) -> torch.Tensor:
    """Global L2 norm of the gradients before clipping (clipping them when `clip` is set), on the device.

    Without clipping, one fused per-tensor norm and a norm of those: the model's gradients share one
    device and dtype, so torch's general get_total_norm (which groups tensors by both first) would
    spend about twice as long per step on a small LSTM for the same number.
    """
    if clip is not None:
        return torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))


@torch.inference_mode()
def evaluate(
    model: nn.Module,
    series: Series,
    split: str,
    time_step: int,
    horizon: int = 1,
    starts: torch.Tensor | None = None,
    amp: str | None = None,
) -> Evaluation:
    """MSE/MAE of the model on a split (scaled and in units), and of repeating the last value."""
    model.eval()
    if starts is None:
        starts = series.sample_starts(split, time_step, horizon)
    predictions, targets, naive = [], [], []
    autocast = MixedPrecision(series.device, amp).autocast()
    for chunk in torch.split(starts, EVAL_BATCH):
        inputs, target = series.batch(chunk, time_step, horizon)
        with autocast:
            predictions.append(model(inputs).float())
        targets.append(target)
        naive.append(series.last_observed_target(chunk).unsqueeze(1).expand_as(target))
    return score(series, torch.cat(predictions), torch.cat(targets), torch.cat(naive))


def score(series: Series, predictions: torch.Tensor, targets: torch.Tensor, naive: torch.Tensor) -> Evaluation:
    """Errors of predictions and of the naive forecast against the targets, scaled and in units."""
    pred = predictions.double().cpu().numpy()
    true = targets.double().cpu().numpy()
    last = naive.double().cpu().numpy()
    pred_units, true_units, last_units = (series.to_units(a) for a in (pred, true, last))
    return Evaluation(
        mse=float(np.mean((pred - true) ** 2)),
        mae=float(np.mean(np.abs(pred - true))),
        mse_units=float(np.mean((pred_units - true_units) ** 2)),
        mae_units=float(np.mean(np.abs(pred_units - true_units))),
        naive_mse=float(np.mean((last - true) ** 2)),
        naive_mse_units=float(np.mean((last_units - true_units) ** 2)),
        samples=int(pred.shape[0]),
    )


# --------------------------------------------------------------------------------------------
# Stateful training (C14) and classification accuracy
# --------------------------------------------------------------------------------------------


def train_stateful(
    model: LSTMForecaster,
    series: Series,
    config: TrainConfig,
    on_epoch: Callable[[EpochRecord], bool] | None = None,
) -> TrainResult:
    """Truncated back-propagation through time over batch_size contiguous streams of the train rows.

    Batch k is chunk k of every stream (no shuffling); the hidden state after batch k, detached, is
    the initial state of batch k + 1, and it is reset to zeros at the start of each epoch. The loss
    is the MSE of the h-step forecast made after every row of the chunk. Validation warms the state
    up on every row before the split (`evaluate_stateful`), on the same samples as stateless runs.
    """
    check_stateful_fits(series, config.batch_size, config.horizon)
    device = series.device
    layout = StreamLayout.for_split(series.bounds["train"], config.batch_size, config.time_step, config.horizon)
    val_starts = series.sample_starts("val", config.time_step, config.horizon)
    optimizer = make_optimizer(model, config)
    loss_fn = nn.MSELoss()
    ahead = torch.arange(1, config.horizon + 1, device=device)
    iterations = layout.chunks
    result = TrainResult(iterations_per_epoch=iterations, samples_per_epoch=layout.samples)
    result.warmup_iters = warmup = min(config.warmup_iters, max(iterations * config.epochs - 1, 0))
    step = 0
    epoch_watch, steady_watch = Stopwatch(device), Stopwatch(device)

    for epoch in range(1, config.epochs + 1):
        model.train()
        state: tuple[torch.Tensor, torch.Tensor] | None = None  # reset once per epoch
        loss_sum = torch.zeros((), device=device)
        norms = torch.empty(iterations, device=device)
        epoch_watch.start()
        in_steady_state = step >= warmup
        if in_steady_state:
            steady_watch.start()
        for k in range(iterations):
            if step == warmup and not in_steady_state:
                steady_watch.start()
                in_steady_state = True
                result.steady_samples -= layout.streams * min(k * layout.time_step, layout.length)
            rows = layout.rows(k, device)
            inputs = series.inputs[rows]  # (B, t, input_size)
            targets = series.targets[rows.unsqueeze(-1) + ahead]  # (B, t, h, output_size)
            optimizer.zero_grad(set_to_none=True)
            predictions, state = forward_steps(model, inputs, state)
            loss = loss_fn(predictions, targets)
            loss.backward()
            norms[k] = gradient_norm(model, config.grad_clip)
            optimizer.step()
            state = (state[0].detach(), state[1].detach())  # carry the values, cut the graph (TBPTT)
            loss_sum += loss.detach()
            step += 1
        train_s = epoch_watch.stop()
        if in_steady_state:
            result.steady_s += steady_watch.stop()
            result.steady_samples += layout.samples
        epoch_watch.start()
        val_loss = evaluate_stateful(model, series, "val", config.time_step, config.horizon, val_starts).mse
        eval_s = epoch_watch.stop()
        record = epoch_record(epoch, (loss_sum / iterations).item(), val_loss, norms, train_s, eval_s)
        if close_epoch(result, record, model, on_epoch):
            break
    return result


def close_epoch(
    result: TrainResult, record: EpochRecord, model: nn.Module, on_epoch: Callable[[EpochRecord], bool] | None
) -> bool:
    """Keep the epoch and the best weights, fail a diverged trial; True when training should stop."""
    result.epochs.append(record)
    if not (math.isfinite(record.train_loss) and math.isfinite(record.val_loss)):
        raise TrialFailure(
            "diverged", f"loss became {record.train_loss} (train) / {record.val_loss} (val) in epoch {record.epoch}"
        )
    if result.best_epoch == 0 or record.val_loss < result.best.val_loss:
        result.best_epoch = record.epoch
        result.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    result.stopped_early = on_epoch is not None and bool(on_epoch(record))  # Optuna may answer numpy.bool_
    return result.stopped_early


def epoch_record(
    epoch: int, train_loss: float, val_loss: float, norms: torch.Tensor, train_s: float, eval_s: float
) -> EpochRecord:
    """One epoch's figures; the per-step gradient norms are read from the device here, once."""
    norms_host = norms.float().cpu().numpy()
    finite = np.isfinite(norms_host)
    return EpochRecord(
        epoch=epoch,
        train_loss=train_loss,
        val_loss=val_loss,
        train_s=train_s,
        eval_s=eval_s,
        grad_norm_mean=float(norms_host[finite].mean()) if finite.any() else float("nan"),
        grad_norm_max=float(norms_host[finite].max()) if finite.any() else float("nan"),
        nonfinite_grad_frac=float(1.0 - finite.mean()),
    )


@torch.inference_mode()
def evaluate_stateful(
    model: LSTMForecaster,
    series: Series,
    split: str,
    time_step: int,
    horizon: int = 1,
    starts: torch.Tensor | None = None,
) -> Evaluation:
    """Run one stream from row 0 up to the split's last input row; score the forecasts at its samples.

    The state is warmed up on every row before the split; the samples (first target rows) are the
    ones a stateless run with the same time_step is scored on, so both are comparable.
    """
    model.eval()
    if starts is None:
        starts = series.sample_starts(split, time_step, horizon)
    last_input_row = int(starts[-1].item())  # rows [0, last_input_row) are fed
    every_step, _ = forward_steps(model, series.inputs[:last_input_row].unsqueeze(0), None)
    predictions = every_step[0, starts - 1]  # the forecast made after row t - 1 targets rows [t, t + h)
    _, targets = series.batch(starts, 1, horizon)
    naive = series.last_observed_target(starts).unsqueeze(1).expand_as(targets)
    return score(series, predictions, targets, naive)


@torch.inference_mode()
def accuracy(model: nn.Module, series: Series, split: str, time_step: int) -> float:
    """Share of samples whose most probable class is the labelled one (classification tasks)."""
    model.eval()
    hits = 0
    starts = series.sample_starts(split, time_step, 1)
    for chunk in torch.split(starts, EVAL_BATCH):
        inputs, target = series.batch(chunk, time_step, 1)
        hits += int((model(inputs).argmax(dim=-1) == target.argmax(dim=-1)).sum().item())
    return hits / starts.numel()
