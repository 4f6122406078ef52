"""A scaled multivariate series on a device, split chronologically, cut into windows by index.

Windows are never materialised: a batch is gathered from the series tensor with an index
`start + arange(time_step)`, so memory holds the series once plus one batch (C2 counts, C1 shapes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch

from lstmexp.errors import DataError

SPLITS = ("train", "val", "test")
Scaling = Literal["standard", "minmax", "none"]


def count_windows(rows: int, time_step: int) -> int:
    """Overlapping windows of length T in N rows: N - T + 1 (C2: 30 rows, T=5 -> 26)."""
    return max(rows - time_step + 1, 0)


def count_samples(rows: int, time_step: int, horizon: int = 1) -> int:
    """Supervised samples (T inputs, then h targets) in N rows: N - T - h + 1."""
    return max(rows - time_step - horizon + 1, 0)


@dataclass(frozen=True)
class Scaler:
    """Per-column affine map fitted on the train rows only: scaled = (x - offset) / scale."""

    offset: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, train_rows: pd.DataFrame, method: Scaling) -> Scaler:
        columns = train_rows.shape[1]
        if method == "none":
            return cls(np.zeros(columns), np.ones(columns))
        if method == "standard":
            offset, scale = train_rows.mean().to_numpy(), train_rows.std(ddof=0).to_numpy()
        else:  # minmax
            offset = train_rows.min().to_numpy()
            scale = (train_rows.max() - train_rows.min()).to_numpy()
        # A constant column would divide by zero; leave it unscaled instead.
        scale = np.where(scale > 0, scale, 1.0)
        return cls(offset.astype(np.float64), scale.astype(np.float64))

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (values - self.offset) / self.scale

    def inverse(self, values: np.ndarray, columns: list[int] | None = None) -> np.ndarray:
        offset = self.offset if columns is None else self.offset[columns]
        scale = self.scale if columns is None else self.scale[columns]
        return values * scale + offset


@dataclass
class Series:
    """Scaled inputs and targets on one device, with the row range of each split.

    `inputs[r]` and `targets[r]` are row r of the scaled input and target columns. A sample whose
    first target row is t uses input rows [t - T, t) and target rows [t, t + h).
    """

    inputs: torch.Tensor  # (rows, input_size), float32, on device
    targets: torch.Tensor  # (rows, output_size), float32, on device
    input_columns: list[str]
    target_columns: list[str]
    bounds: dict[str, tuple[int, int]]  # split -> [first row, end row)
    scaler: Scaler  # over input_columns + target_columns, in that order
    lookback: bool = False  # may val/test inputs reach back into the previous split?

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        target_columns: list[str],
        input_columns: list[str],
        split: tuple[float, float, float],
        scaling: Scaling,
        device: torch.device,
        lookback: bool = False,
        bounds: dict[str, tuple[int, int]] | None = None,
    ) -> Series:
        # `bounds` (rows or dates already resolved) wins over the fractions in `split`.
        bounds = bounds or split_bounds(len(frame), split)
        columns = list(dict.fromkeys(input_columns + target_columns))
        train_first, train_end = bounds["train"]
        scaler = Scaler.fit(frame[columns].iloc[train_first:train_end], scaling)
        scaled = scaler.transform(frame[columns].to_numpy(dtype=np.float64)).astype(np.float32)
        input_index = [columns.index(c) for c in input_columns]
        target_index = [columns.index(c) for c in target_columns]
        # Re-index the scaler so that inverse() of target columns is easy for callers.
        ordered = Scaler(
            np.concatenate([scaler.offset[input_index], scaler.offset[target_index]]),
            np.concatenate([scaler.scale[input_index], scaler.scale[target_index]]),
        )
        return cls(
            inputs=torch.from_numpy(np.ascontiguousarray(scaled[:, input_index])).to(device),
            targets=torch.from_numpy(np.ascontiguousarray(scaled[:, target_index])).to(device),
            input_columns=list(input_columns),
            target_columns=list(target_columns),
            bounds=bounds,
            scaler=ordered,
            lookback=lookback,
        )

    @property
    def device(self) -> torch.device:
        return self.inputs.device

    @property
    def target_input_index(self) -> list[int] | None:
        """Where each target column sits among the inputs (None if one is not an input)."""
        if not set(self.target_columns) <= set(self.input_columns):
            return None
        return [self.input_columns.index(c) for c in self.target_columns]

    @property
    def input_size(self) -> int:
        return self.inputs.shape[1]

    @property
    def output_size(self) -> int:
        return self.targets.shape[1]

    def split_rows(self, split: str) -> int:
        first, end = self.bounds[split]
        return end - first

    def sample_starts(self, split: str, time_step: int, horizon: int = 1) -> torch.Tensor:
        """First target row of every sample in `split` (a 1-D int64 tensor on the device)."""
        first, end = self.bounds[split]
        # val/test inputs may reach back; training windows stay inside the train rows (a shortened train
        # split must not train on the rows before it)
        earliest = max(first, time_step) if self.lookback and split != "train" else first + time_step
        last = end - horizon  # the last target row must stay inside the split
        if last < earliest:
            raise DataError(self.too_short(split, time_step, horizon))
        return torch.arange(earliest, last + 1, device=self.device)

    def too_short(self, split: str, time_step: int, horizon: int) -> str:
        """Why `split` holds no window of time_step + horizon rows, and every fix in the -o form."""
        first, end = self.bounds[split]
        rows = end - first
        fixes = []
        if not self.lookback and split != "train" and end - horizon >= max(first, time_step):
            fixes.append("-o data.lookback=true (val/test windows may reach back into the previous split)")
        longest = rows - horizon if not self.lookback or split == "train" else end - horizon
        if longest >= 1:
            fixes.append(f"a time_step of at most {longest} (--time-step {longest}, or "
                         f"-o search.space.time_step=[...] with values up to {longest})")
        fixes.append(f"a larger share for it (-o data.split.{split}=... with train + val + test summing to 1)")
        return (f"the {split} split has {rows} rows, too few for time_step={time_step} + horizon={horizon}; "
                f"fix: {'; or '.join(fixes)}")

    def batch(self, starts: torch.Tensor, time_step: int, horizon: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """Gather inputs (B, T, input_size) and targets (B, h, output_size) for the given sample starts."""
        input_rows = starts.unsqueeze(1) + torch.arange(-time_step, 0, device=starts.device)
        target_rows = starts.unsqueeze(1) + torch.arange(horizon, device=starts.device)
        return self.inputs[input_rows], self.targets[target_rows]

    def last_observed_target(self, starts: torch.Tensor) -> torch.Tensor:
        """The target value at the row before each sample's first target row (for the naive baseline)."""
        return self.targets[starts - 1]

    def to_units(self, scaled_targets: np.ndarray) -> np.ndarray:
        """Map scaled target values (..., output_size) back to the data's own units."""
        n_inputs = len(self.input_columns)
        columns = list(range(n_inputs, n_inputs + self.output_size))
        return self.scaler.inverse(scaled_targets, columns)


def split_bounds(rows: int, split: tuple[float, float, float]) -> dict[str, tuple[int, int]]:
    """Chronological [first, end) row ranges from fractions of the rows."""
    train_end = round(rows * split[0])
    val_end = round(rows * (split[0] + split[1]))
    return {"train": (0, train_end), "val": (train_end, val_end), "test": (val_end, rows)}
