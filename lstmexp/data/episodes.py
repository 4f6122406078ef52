"""Built-in episode tasks: independent sequences, one sample each, generated locally from a seed.

`adding` (Hochreiter & Schmidhuber's adding problem): two channels of length L, values from U[0, 1]
and a mask with one mark in each half; the target is the sum of the two marked values. Always
predicting 1 (the mean) scores MSE = Var(U1 + U2) = 2/12 ~ 0.167, so a model that stays near 0.167
has not learned to carry the first mark across the sequence (C11).

`classify` (a temporal-order task): values from U[-1, 1] and a mask with one mark in the first
fifth and one in the second half; the class (of 4) is the signs of the two marked values. Chance
accuracy is 0.25; the first mark is far back, so the class needs long memory. Targets are one-hot
and the model outputs class probabilities, trained on their MSE to the one-hot label (the Brier
score, a proper scoring rule), so the regression loop serves unchanged; accuracy is scored apart.

The sequence length is `data.sequence_length`, or the trial's time_step when that is null, so a
time_step sweep is a sequence-length sweep. An `EpisodeSeries` offers the parts of `Series` that
training and evaluation use (sample_starts, batch, last_observed_target, to_units).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from lstmexp.data.series import split_bounds
from lstmexp.errors import DataError

ADDING_BASELINE = 1.0  # the expected sum: the best constant prediction
CLASSES = 4


def make_adding(episodes: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (episodes, length, 2) and targets (episodes,) of the adding problem."""
    if length < 2:
        raise DataError(f"the adding problem needs sequences of at least 2 steps, not {length}; raise time_step")
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(episodes, length))
    half = length // 2
    first = rng.integers(0, half, size=episodes)
    second = rng.integers(half, length, size=episodes)
    mask = np.zeros((episodes, length))
    rows = np.arange(episodes)
    mask[rows, first] = 1.0
    mask[rows, second] = 1.0
    targets = values[rows, first] + values[rows, second]
    return np.stack([values, mask], axis=-1), targets


def make_order_classes(episodes: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (episodes, length, 2) and class labels (episodes,) in 0..3 of the temporal-order task."""
    if length < 4:
        raise DataError(f"the classify task needs sequences of at least 4 steps, not {length}; raise time_step")
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1.0, 1.0, size=(episodes, length))
    first = rng.integers(0, max(length // 5, 1), size=episodes)
    second = rng.integers(length // 2, length, size=episodes)
    mask = np.zeros((episodes, length))
    rows = np.arange(episodes)
    mask[rows, first] = 1.0
    mask[rows, second] = 1.0
    labels = 2 * (values[rows, first] > 0) + (values[rows, second] > 0)
    return np.stack([values, mask], axis=-1), labels


EPISODE_TASKS = {
    "adding": (
        "adding problem: sum of 2 marked values in a length-T sequence (predicting 1 scores MSE 0.167)",
        make_adding,
    ),
    "classify": (
        "sequence classification: 4 classes from the signs of 2 marked values, one far back (chance 0.25)",
        make_order_classes,
    ),
}


@dataclass
class EpisodeSeries:
    """Episodes split by index into train/val/test; tensors generated per sequence length and cached."""

    task: str
    episodes: int
    seed: int
    device: torch.device
    sequence_length: int | None = None
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    lookback: bool = False
    input_columns: list[str] = field(default_factory=lambda: ["value", "mark"])
    _cache: dict[int, tuple[torch.Tensor, torch.Tensor]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.task not in EPISODE_TASKS:
            raise DataError(f"unknown episode task {self.task!r}; known: {', '.join(EPISODE_TASKS)}")
        self.bounds = split_bounds(self.episodes, self.split)

    @property
    def is_classification(self) -> bool:
        return self.task == "classify"

    @property
    def target_columns(self) -> list[str]:
        return ["class"] if self.is_classification else ["sum"]

    @property
    def input_size(self) -> int:
        return 2

    @property
    def output_size(self) -> int:
        """Model outputs: one logit per class, or the predicted sum."""
        return CLASSES if self.is_classification else 1

    @property
    def target_input_index(self) -> None:
        return None  # the target is not one of the input channels

    def split_rows(self, split: str) -> int:
        first, end = self.bounds[split]
        return end - first

    def length_for(self, time_step: int) -> int:
        return self.sequence_length or time_step

    def tensors(self, time_step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """All episodes of the length this time_step implies: inputs (N, L, 2), targets (N, 1, 1)."""
        length = self.length_for(time_step)
        if length not in self._cache:
            inputs, targets = EPISODE_TASKS[self.task][1](self.episodes, length, self.seed)
            if self.is_classification:
                targets = np.eye(CLASSES)[targets]  # one-hot: the model outputs class probabilities
            self._cache[length] = (
                torch.from_numpy(inputs.astype(np.float32)).to(self.device),
                torch.from_numpy(targets.astype(np.float32)).view(self.episodes, 1, -1).to(self.device),
            )
        return self._cache[length]

    def sample_starts(self, split: str, time_step: int, horizon: int = 1) -> torch.Tensor:
        """Episode indices of `split` (one sample per episode)."""
        if horizon != 1:
            raise DataError(f"the {self.task} task has one target per sequence: set -o data.horizon=1, not {horizon}")
        if self.sequence_length is not None and time_step > self.sequence_length:
            raise DataError(
                f"time_step={time_step} exceeds data.sequence_length={self.sequence_length}; "
                "lower time_step or raise sequence_length"
            )
        first, end = self.bounds[split]
        if end <= first:
            raise DataError(f"the {split} split has no episodes; raise data.rows (episodes)")
        return torch.arange(first, end, device=self.device)

    def batch(self, starts: torch.Tensor, time_step: int, horizon: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
        """The last time_step steps of each episode (B, T, 2) and its target (B, 1, 1 or CLASSES one-hot)."""
        inputs, targets = self.tensors(time_step)
        return inputs[starts, -time_step:], targets[starts]

    def last_observed_target(self, starts: torch.Tensor) -> torch.Tensor:
        """The naive baseline: always the expected sum (adding) or equal class probabilities (classify)."""
        if self.is_classification:
            return torch.full((starts.numel(), CLASSES), 1.0 / CLASSES, device=starts.device)
        return torch.full((starts.numel(), 1), ADDING_BASELINE, device=starts.device)

    def to_units(self, scaled_targets: np.ndarray) -> np.ndarray:
        return scaled_targets  # generated in their own units: nothing to undo
