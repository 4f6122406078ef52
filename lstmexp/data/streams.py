"""The stateful layout (C14): the training rows cut into batch_size contiguous streams, walked in chunks.

Stream b covers input rows [b * L, (b + 1) * L) with L = usable rows // batch_size; batch k is chunk k
of every stream, rows [k * T, (k + 1) * T) of each (the last chunk may be shorter). Batch k + 1 thus
continues exactly where batch k stopped in every stream, which is what lets the hidden state carry
over. Input row r is paired with the h target rows after it, [r + 1, r + h], all inside the split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lstmexp.errors import DataError


@dataclass(frozen=True)
class StreamLayout:
    first_row: int  # the split's first row
    streams: int  # batch_size
    length: int  # input rows per stream
    time_step: int  # chunk length

    @classmethod
    def for_split(cls, bounds: tuple[int, int], batch_size: int, time_step: int, horizon: int) -> StreamLayout:
        first, end = bounds
        usable = end - first - horizon  # the last h rows are only targets
        length = usable // batch_size
        if length < 1:
            raise DataError(
                f"stateful training needs at least batch_size + horizon = {batch_size + horizon} train rows, "
                f"the split has {end - first}; lower batch_size"
            )
        return cls(first, batch_size, length, time_step)

    @property
    def chunks(self) -> int:
        """Iterations per epoch: ceil(L / T)."""
        return math.ceil(self.length / self.time_step)

    @property
    def samples(self) -> int:
        """Predicted positions per epoch (each input row of each stream)."""
        return self.streams * self.length

    def rows(self, chunk: int, device: torch.device) -> torch.Tensor:
        """Input rows (streams, chunk length) of batch `chunk`."""
        begin = chunk * self.time_step
        stop = min(begin + self.time_step, self.length)
        starts = self.first_row + torch.arange(self.streams, device=device) * self.length
        return starts.unsqueeze(1) + torch.arange(begin, stop, device=device)


def check_stateful_fits(series: object, largest_batch: int, horizon: int) -> None:
    """Before a study: stateful training needs a series (not episodes) with rows for every stream."""
    bounds = getattr(series, "bounds", {})
    if not hasattr(series, "inputs"):
        raise DataError("train.stateful needs a series (a file or the synthetic dataset), not an episode task")
    StreamLayout.for_split(bounds["train"], largest_batch, 1, horizon)
