"""The network: a stacked `nn.LSTM` and a linear head on its last hidden state."""

from __future__ import annotations

import torch
from torch import nn


class LSTMForecaster(nn.Module):
    """Maps a window (B, T, input_size) to the next `horizon` steps (B, horizon, output_size).

    The LSTM runs over the T steps in order (C4: the batch is parallel at each step, the steps are
    sequential); the head reads only the last step's hidden state.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        horizon: int = 1,
    ) -> None:
        super().__init__()
        self.horizon = horizon
        self.output_size = output_size
        self.lstm = nn.LSTM(
            input_size=input_size,
            hidden_size=hidden_size,
            num_layers=num_layers,
            # nn.LSTM applies dropout between layers only; with one layer it would only warn.
            dropout=dropout if num_layers > 1 else 0.0,
            batch_first=True,
        )
        self.head = nn.Linear(hidden_size, horizon * output_size)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        sequence, _ = self.lstm(windows)
        last = sequence[:, -1, :]
        return self.head(last).view(-1, self.horizon, self.output_size)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def forward_steps(
    model: LSTMForecaster, inputs: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """Stateful use: predictions after every step (B, T, horizon, output_size) and the final state.

    The same LSTM and head as `forward`, but the head reads every step's hidden state and the LSTM
    starts from `state` (None: zeros), so a stream can be walked chunk by chunk (C14).
    """
    sequence, new_state = model.lstm(inputs, state)
    predictions = model.head(sequence)
    return predictions.view(inputs.shape[0], inputs.shape[1], model.horizon, model.output_size), new_state


class WindowNormalized(nn.Module):
    """Per-window input normalisation around a forecaster, undone on its output.

    `last`: the model sees each window minus its last observed value and predicts the change from
    it (NLinear). `revin`: each window is standardised by its own mean and standard deviation, and
    the prediction is mapped back with the target columns' statistics (RevIN without the learnable
    affine). Both need every target column among the inputs (`target_index`).
    """

    EPS = 1e-5
    target_index: torch.Tensor  # a buffer: moves with the module

    def __init__(self, inner: nn.Module, method: str, target_index: list[int]) -> None:
        super().__init__()
        if method not in ("last", "revin"):
            raise ValueError(f"unknown window normalisation {method!r}")
        self.inner = inner
        self.method = method
        self.register_buffer("target_index", torch.tensor(target_index, dtype=torch.long), persistent=False)

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        if self.method == "last":
            reference = windows[:, -1:, :]  # (B, 1, input_size)
            return self.inner(windows - reference) + reference[:, :, self.target_index]
        mean = windows.mean(dim=1, keepdim=True)
        std = windows.std(dim=1, keepdim=True, unbiased=False) + self.EPS
        out = self.inner((windows - mean) / std)
        return out * std[:, :, self.target_index] + mean[:, :, self.target_index]


class ClassProbabilities(nn.Module):
    """Classification head: the forecaster's outputs (B, 1, classes) as probabilities (softmax)."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, windows: torch.Tensor) -> torch.Tensor:
        return self.inner(windows).softmax(dim=-1)
