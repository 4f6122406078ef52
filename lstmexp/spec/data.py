"""The data section: which series to read, how to split it chronologically, scale and window it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import model_validator

from lstmexp.spec.base import Fraction, Section, Seed, machine_memory, within
from lstmexp.vocabulary.choices import DataMode, Fill, Normalization, Scaling

# A generous estimate of the memory one row of a built-in dataset takes once generated, scaled and
# windowed (several float64 columns and their float32 tensors): rows beyond RAM / this cannot load.
BYTES_PER_ROW = 256


class RowSplit(Section):
    """Split by row counts: the first `train` rows, the next `val`, the next `test` (later rows unused)."""

    train: Annotated[int, within("data.split.rows.train")]
    val: Annotated[int, within("data.split.rows.val")]
    test: Annotated[int, within("data.split.rows.test")]


class DateSplit(Section):
    """Split by dates of `data.time_column`: val starts at `val`, test at `test`, data ends before `end`."""

    val: str
    test: str
    end: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DateSplit:
        try:
            stamps = [datetime.fromisoformat(d) for d in (self.val, self.test, self.end) if d is not None]
        except ValueError as exc:
            raise ValueError(f"dates must be ISO dates such as 2017-07-01 ({exc})") from None
        if stamps != sorted(stamps) or len(set(stamps)) != len(stamps):
            raise ValueError("dates must increase: val < test < end")
        return self


class SplitSpec(Section):
    """Chronological split (train first, then val, then test) by fractions, or by `rows` or `dates`."""

    train: Fraction = 0.7
    val: Fraction = 0.15
    test: Fraction = 0.15
    rows: RowSplit | None = None
    dates: DateSplit | None = None

    @model_validator(mode="after")
    def _sums_to_one(self) -> SplitSpec:
        total = self.train + self.val + self.test
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"train + val + test must sum to 1, not {total:g}")
        if min(self.train, self.val, self.test) <= 0:
            raise ValueError("every split needs a positive fraction")
        if self.rows is not None and self.dates is not None:
            raise ValueError("give either `rows` or `dates`, not both")
        return self


class DataSpec(Section):
    dataset: str = "synthetic"
    rows: Annotated[int, within("data.rows")] = 6000
    seed: Seed = 0
    split: SplitSpec = SplitSpec()
    scaling: Scaling = "standard"
    horizon: Annotated[int, within("data.horizon")] = 1
    # Window length T: the steps of history each sample holds (searched by default: search.space.time_step).
    time_step: Annotated[int, within("data.time_step")] = 16
    # A CSV or Parquet file instead of a built-in dataset (relative to the working directory).
    path: str | None = None
    target: str | tuple[str, ...] | None = None  # target column(s); built-in datasets name their own
    features: tuple[str, ...] | None = None  # input columns; default: every numeric column
    time_column: str | None = None  # parsed, sorted and checked for duplicates; needed by split.dates
    # S, M or MS (see choices.DataMode); when not given: S for a file (the target alone, as a user
    # with one target column expects) unless data.features names inputs, MS for built-in datasets
    # (their extra columns are the drivers the target depends on).
    mode: DataMode = "MS"
    # May val/test windows reach back into the previous split (the benchmark convention)? On by default,
    # so every time_step of a study is scored on the same val and test targets (a longer window would
    # otherwise start later in each split and be scored on fewer, different targets).
    lookback: bool = True
    # Missing values: none (refused), ffill (carry the last value forward), linear (interpolate by row)
    # or time (interpolate by date; needs a time column).
    fill: Fill = "none"
    normalization: Normalization = "none"  # per-window input normalisation (see choices.Normalization)
    # Built-in episode tasks (adding, classify): sequence length; null = the trial's time_step.
    sequence_length: Annotated[int, within("data.sequence_length")] | None = None
    # Train on the last N rows of the train split only (a short series); val and test stay as they are.
    train_last_rows: Annotated[int, within("data.train_last_rows")] | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_mode(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("mode") is None:
            file_alone = data.get("path") is not None and not data.get("features")
            return {**data, "mode": "S" if file_alone else "MS"}
        return data

    @model_validator(mode="after")
    def _fits_the_machine(self) -> DataSpec:
        if self.features is not None and not self.features:
            raise ValueError("features is empty; leave it out to use every numeric column, or list columns")
        if self.rows * BYTES_PER_ROW > machine_memory():
            most = machine_memory() // BYTES_PER_ROW
            raise ValueError(f"rows {self.rows} cannot fit in this machine's memory; use at most {most}")
        return self

    @model_validator(mode="after")
    def _file_needs_target(self) -> DataSpec:
        if self.path is not None and self.mode != "M" and not self.target:
            raise ValueError(f"mode {self.mode} needs data.target (the column to predict); or use mode M")
        if self.split.dates is not None and self.time_column is None:
            raise ValueError("split.dates needs data.time_column (the column holding the dates)")
        return self

    @property
    def targets(self) -> list[str]:
        if self.target is None:
            return []
        return [self.target] if isinstance(self.target, str) else list(self.target)
