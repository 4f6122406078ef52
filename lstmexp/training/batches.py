"""What the training loop walks through in an epoch: shuffled window batches, or stateful stream chunks.

A batch source yields (inputs, targets, samples) per step and gives the loop the forward function
to call on the inputs; the loop itself is the same for both (`lstmexp.training.loop.train`). Nothing here
reads a tensor back to the host.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Protocol

import torch
from torch import nn

from lstmexp.data import Series
from lstmexp.data.streams import StreamLayout, check_stateful_fits
from lstmexp.training.model import LSTMForecaster, forward_steps

Batch = tuple[torch.Tensor, torch.Tensor, int]  # inputs, targets, training samples in the batch


class BatchSource(Protocol):
    iterations: int  # steps per epoch
    samples_per_epoch: int

    def batches(self) -> Iterator[Batch]:
        """One epoch of batches."""
        ...

    def forward(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        """What maps a batch's inputs to predictions shaped like its targets."""
        ...


class WindowBatches:
    """Windows of time_step rows from every train sample start, reshuffled each epoch (seeded)."""

    def __init__(self, series: Series, batch_size: int, time_step: int, horizon: int, seed: int) -> None:
        self.series, self.batch_size, self.time_step, self.horizon = series, batch_size, time_step, horizon
        self.starts = series.sample_starts("train", time_step, horizon)
        self.samples_per_epoch = self.starts.numel()
        self.iterations = math.ceil(self.samples_per_epoch / batch_size)  # C3: iterations per epoch
        self.generator = torch.Generator().manual_seed(seed)

    def batches(self) -> Iterator[Batch]:
        permutation = torch.randperm(self.samples_per_epoch, generator=self.generator)
        order = self.starts[permutation.to(self.series.device, non_blocking=True)]
        size = self.batch_size
        for i in range(self.iterations):
            chunk = order[i * size : (i + 1) * size]
            inputs, targets = self.series.batch(chunk, self.time_step, self.horizon)
            yield inputs, targets, chunk.numel()

    def forward(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        return model


class StreamBatches:
    """Truncated back-propagation through time over batch_size contiguous streams of the train rows (C14).

    Batch k is chunk k of every stream (no shuffling); the hidden state after batch k, detached, is
    the initial state of batch k + 1, and it is reset to zeros at the start of each epoch. The
    predictions are the h-step forecasts made after every row of the chunk.
    """

    def __init__(self, series: Series, batch_size: int, time_step: int, horizon: int) -> None:
        check_stateful_fits(series, batch_size, horizon)
        self.series = series
        self.layout = StreamLayout.for_split(series.bounds["train"], batch_size, time_step, horizon)
        self.iterations = self.layout.chunks
        self.samples_per_epoch = self.layout.samples
        self.ahead = torch.arange(1, horizon + 1, device=series.device)
        self.state: tuple[torch.Tensor, torch.Tensor] | None = None

    def batches(self) -> Iterator[Batch]:
        self.state = None  # reset once per epoch
        device = self.series.device
        for k in range(self.iterations):
            rows = self.layout.rows(k, device)  # (B, t)
            inputs = self.series.inputs[rows]  # (B, t, input_size)
            targets = self.series.targets[rows.unsqueeze(-1) + self.ahead]  # (B, t, h, output_size)
            yield inputs, targets, rows.numel()

    def forward(self, model: nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
        if not isinstance(model, LSTMForecaster):
            raise TypeError(f"stateful training needs an LSTMForecaster, got {type(model).__name__}")

        def step(inputs: torch.Tensor) -> torch.Tensor:
            predictions, state = forward_steps(model, inputs, self.state)
            self.state = (state[0].detach(), state[1].detach())  # carry the values, cut the graph (TBPTT)
            return predictions

        return step
