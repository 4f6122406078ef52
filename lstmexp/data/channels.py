"""Channel independence: a window of C channels as C one-channel samples, and predictions put back.

A batch (B, T, C) becomes B·C samples (B·C, T, 1), sample b·C + c holding channel c of window b,
with targets (B, h, C) -> (B·C, h, 1) the same way; `from_channel_samples` is the inverse, so the
prediction is reassembled to (B, h, C) and every metric is taken over all channels together.
"""

from __future__ import annotations

import torch


def as_channel_samples(values: torch.Tensor) -> torch.Tensor:
    """(B, L, C) -> (B·C, L, 1): each channel of each window its own sample."""
    batch, length, channels = values.shape
    return values.permute(0, 2, 1).reshape(batch * channels, length, 1)


def from_channel_samples(values: torch.Tensor, channels: int) -> torch.Tensor:
    """(B·C, L, 1) -> (B, L, C): the inverse of `as_channel_samples`."""
    samples, length, _ = values.shape
    return values.reshape(samples // channels, channels, length).permute(0, 2, 1)


def channel_ids(batch: int, channels: int, device: torch.device) -> torch.Tensor:
    """The channel each of the B·C samples of `as_channel_samples` holds (0..C-1, repeating)."""
    return torch.arange(channels, device=device).repeat(batch)
