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
