"""The search space: the values each searched parameter (batch_size, time_step, hidden_size) may take."""

from __future__ import annotations

from typing import Any

from pydantic import model_validator

from lstmexp.choices import Normalization, Scale
from lstmexp.spec.base import MAX_SIZE, PositiveInt, Section


class ParamSpace(Section):
    """The values one searched parameter may take.

    YAML forms: `64` (fixed), `[16, 32, 64]` (explicit values), `{low: 8, high: 128}` (int range,
    optional `step`), `{low: 8, high: 512, scale: log}` (log-uniform ints) and
    `{low: 16, high: 1024, scale: pow2}` (the powers of two in the range, C9).
    """

    values: tuple[PositiveInt, ...] | None = None
    low: PositiveInt | None = None
    high: PositiveInt | None = None
    step: PositiveInt = 1
    scale: Scale = "linear"

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, raw: Any) -> Any:
        if isinstance(raw, bool):
            return raw  # let field validation reject it with a clear type error
        if isinstance(raw, int):
            return {"values": [raw]}
        if isinstance(raw, list):
            return {"values": raw}
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> ParamSpace:
        if max(self.values or (self.high or 1,)) > MAX_SIZE:
            raise ValueError(f"values above {MAX_SIZE} fit no machine; keep the space at most {MAX_SIZE}")
        if self.values is not None:
            if self.low is not None or self.high is not None:
                raise ValueError("give either `values` or `low`/`high`, not both")
            if not self.values:
                raise ValueError("`values` is empty; list at least one value")
            if len(set(self.values)) != len(self.values):
                raise ValueError("`values` has duplicates")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give `values: [...]` or both `low` and `high`")
        if self.low > self.high:
            raise ValueError(f"range is inverted: low={self.low} > high={self.high}; swap them")
        if self.scale == "log" and self.step != 1:
            raise ValueError("`step` cannot be combined with `scale: log`")
        if self.scale == "pow2" and not self.choices():
            raise ValueError(f"no power of two lies in [{self.low}, {self.high}]")
        return self

    @property
    def bounds(self) -> tuple[int, int]:
        """(low, high) of a range space; validation guarantees both exist whenever `values` is None."""
        if self.low is None or self.high is None:
            raise TypeError("this space lists values; it has no low/high range (use grid() or choices())")
        return self.low, self.high

    def choices(self) -> list[int] | None:
        """The finite list of values, or None for an int range Optuna samples directly."""
        if self.values is not None:
            return list(self.values)
        low, high = self.bounds
        if self.scale == "pow2":
            return [2**k for k in range(0, high.bit_length() + 1) if low <= 2**k <= high]
        return None

    def size(self) -> int:
        """How many values the space holds (without listing a range)."""
        listed = self.choices()
        if listed is not None:
            return len(listed)
        low, high = self.bounds
        return (high - low) // self.step + 1

    def grid(self) -> list[int]:
        """Every value of the space (for grid search)."""
        listed = self.choices()
        if listed is not None:
            return listed
        low, high = self.bounds
        return list(range(low, high + 1, self.step))

    @property
    def lowest(self) -> int:
        return min(self.grid()) if self.values is not None or self.scale == "pow2" else self.bounds[0]

    @property
    def highest(self) -> int:
        return max(self.grid()) if self.values is not None or self.scale == "pow2" else self.bounds[1]


class SpaceSpec(Section):
    batch_size: ParamSpace = ParamSpace(low=16, high=256, scale="pow2")
    time_step: ParamSpace = ParamSpace(values=(4, 8, 16, 32))
    hidden_size: ParamSpace = ParamSpace(values=(16, 32, 64))
    # Per-window normalisations to search (each trial sets data.normalization); null: not searched.
    normalization: tuple[Normalization, ...] | None = None
