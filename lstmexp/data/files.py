"""User data from CSV or Parquet files: reading, column choice by mode, time column and split rows.

Every problem a user can fix is a one-line `DataError` naming the problem and the fix; nothing here
writes anywhere, so a bad file never leaves a half-written study behind.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from lstmexp.data.dates import calendar_index, find_time_column, gap_note, parse_times
from lstmexp.data.dialect import dialect_hint, semicolon_hint
from lstmexp.data.wording import file_line, plural
from lstmexp.errors import DataError

if TYPE_CHECKING:
    from lstmexp.spec import DataSpec, SplitSpec

READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": pd.read_csv, ".parquet": pd.read_parquet, ".pq": pd.read_parquet,
}


@dataclass(frozen=True)
class Table:
    """A numeric frame ready for `Series.from_frame`, with its columns by role and split bounds."""

    frame: pd.DataFrame
    input_columns: list[str]
    target_columns: list[str]
    bounds: dict[str, tuple[int, int]]
    times: pd.Series | None  # the parsed time column, when there is one
    time_column: str | None = None  # named by data.time_column or found by its content
    notes: tuple[str, ...] = ()  # things worth a line before training (gaps in the dates)
    unused: tuple[str, ...] = ()  # numeric columns that are neither inputs nor targets


def read_table(path: str | Path) -> pd.DataFrame:
    """The file as a DataFrame; missing, empty or unreadable files are DataErrors."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"data file {path} is neither .csv nor .parquet; convert it or rename it")
    if not path.exists():
        raise DataError(f"data file {path} does not exist; check data.path (relative to the working directory)")
    if not path.is_file():  # a directory, or a FIFO that would block the read forever
        raise DataError(f"data file {path} is not a regular file; point data.path at a CSV or Parquet file")
    if path.stat().st_size == 0:
        raise DataError(f"data file {path} is empty; point data.path at a file with a header and rows")
    hint = semicolon_hint(path) if path.suffix.lower() == ".csv" else None
    if hint:
        raise DataError(hint)
    try:
        frame = reader(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"data file {path} is empty; point data.path at a file with a header and rows") from None
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read data file {path}: {str(exc).splitlines()[0]}; check its format") from None
    if frame.empty:
        raise DataError(f"data file {path} has no rows; point data.path at a file with data")
    if not any(pd.api.types.is_numeric_dtype(frame[column]) for column in frame.columns):
        refuse_non_numeric(frame, path)
    return frame


def refuse_non_numeric(frame: pd.DataFrame, path: Path) -> None:
    """Why a table with no numeric column cannot be a series, as a DataError."""
    hint = dialect_hint(frame, str(path))  # numbers written with decimal commas read as text
    if hint:
        raise DataError(hint)
    # Not a series at all (a password file, a script, a log): say so without quoting a line of it.
    raise DataError(f"data file {path} has no numeric column, so it is not a time series table; "
                    "point data.path at a CSV or Parquet file with a header row and numeric columns")


def load_table(spec: DataSpec) -> Table:
    """Read `spec.path` and choose, check and order its columns and rows as the spec says."""
    if spec.path is None:
        raise DataError("no data file to read: set -o data.path=FILE (a CSV or Parquet file)")
    frame = read_table(spec.path)
    frame, time_column = calendar_index(frame, spec.time_column or find_time_column(frame))
    times = None
    if time_column is not None:
        check_columns(frame, [time_column], "data.time_column")
        times = parse_times(frame, time_column, spec.path)
    features = list(spec.features) if spec.features else numeric_columns(frame, time_column, spec.path)
    check_columns(frame, features, "data.features")
    targets = spec.targets
    check_columns(frame, targets, "data.target")
    check_numeric(frame, list(dict.fromkeys(features + targets)), spec.path)
    inputs, outputs = columns_for_mode(spec.mode, features, targets)
    used = list(dict.fromkeys(inputs + outputs))
    values = fill_missing(frame[used].astype("float64"), spec.fill, spec.path, times)
    check_finite(values, spec.path)
    check_targets_vary(values, outputs, spec.path)
    bounds = split_rows(len(values), spec.split, times)
    note = gap_note(times, time_column) if times is not None and time_column is not None else None
    unused = tuple(c for c in numeric_columns(frame, time_column, spec.path) if c not in used)
    return Table(values, inputs, outputs, bounds, times, time_column, (note,) if note else (), unused)


def columns_for_mode(mode: str, features: list[str], targets: list[str]) -> tuple[list[str], list[str]]:
    """S: the target in and out; M: all features in and out; MS: all features (and the target) in, target out."""
    if mode == "S":
        return list(targets), list(targets)
    if mode == "M":
        return list(features), list(features)
    return list(dict.fromkeys(features + targets)), list(targets)


def numeric_columns(frame: pd.DataFrame, exclude: str | None, path: str) -> list[str]:
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c]) and c != exclude]
    if not numeric:
        hint = dialect_hint(frame, path)
        raise DataError(hint or f"{path} has no numeric columns; give -o data.features=[a,b] or fix the file")
    return [str(c) for c in numeric]


def check_columns(frame: pd.DataFrame, wanted: list[str], field: str) -> None:
    known = [str(c) for c in frame.columns]
    for column in wanted:
        if column not in known:
            by_lower = {name.lower(): name for name in known}  # case slips count as close
            close = [by_lower[m] for m in difflib.get_close_matches(column.lower(), list(by_lower), n=3)]
            hint = f"did you mean {', '.join(close)}? " if close else ""
            raise DataError(f"{field}: no column {column!r} in the data file; {hint}columns: {', '.join(known)}")


def check_numeric(frame: pd.DataFrame, columns: list[str], path: str) -> None:
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        hint = dialect_hint(frame[bad], path)
        if hint:
            raise DataError(hint)
        raise DataError(
            f"non-numeric columns {', '.join(bad)}; leave them out of data.features/data.target "
            "(or name the date column in data.time_column)"
        )


# Training runs in float32: a value beyond this overflows to inf there, or its square (variance,
# MSE) does. Real measurements are far below; a larger one is a unit error or a corrupt cell.
MAX_ABS_VALUE = 1e15


def check_finite(values: pd.DataFrame, path: str) -> None:
    """Every value is finite and within float32's safe range; else name the first bad row and column."""
    array = values.to_numpy()
    bad = ~np.isfinite(array) | (np.abs(np.nan_to_num(array)) > MAX_ABS_VALUE)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"data file {path}: column {values.columns[column]!r} holds {float(array[row, column])!r} at "
            f"{file_line(path, row)}, not a finite number below {MAX_ABS_VALUE:g} in size; fix or drop that line"
        )


def check_targets_vary(values: pd.DataFrame, targets: list[str], path: str) -> None:
    """A constant target has no variance to learn (and scaling it divides by zero)."""
    for column in targets:
        if len(values) > 1 and values[column].nunique() <= 1:  # one row: "too few rows" says it better
            raise DataError(
                f"data.target {column!r} in {path} is constant ({float(values[column].iloc[0]):g} in every row); "
                "there is nothing to predict: pick a column that varies"
            )


FILL_FIX = "-o data.fill=ffill (carry the last value), linear or time (interpolate between neighbours)"


def fill_missing(values: pd.DataFrame, fill: str, path: str, times: pd.Series | None = None) -> pd.DataFrame:
    """Missing values carried forward (ffill) or interpolated (linear: by row, time: by date), else refused.

    Interpolation reads the next known value too: a gap just before a split boundary borrows one value
    from the next split, as a user filling the file would.
    """
    if fill == "ffill":
        values = values.ffill()
    elif fill == "linear":
        values = values.interpolate(method="linear", limit_area="inside")
    elif fill == "time":
        if times is None:
            raise DataError("data.fill=time interpolates by date but the file has no time column; "
                            "use -o data.fill=linear or name the date column with -o data.time_column=NAME")
        dated = values.set_axis(pd.DatetimeIndex(times))
        values = dated.interpolate(method="time", limit_area="inside").set_axis(values.index)
    missing = values.isna()
    if missing.any().any():
        row = int(missing.any(axis=1).to_numpy().argmax())
        count = int(missing.sum().sum())
        edges = "starts" if fill == "ffill" else "starts or ends"  # nothing before (or after) to fill from
        fix = f"set {FILL_FIX}" if fill == "none" else f"the file {edges} with missing values: drop those rows"
        raise DataError(f"{plural(count, 'missing value')} in {path} (first at {file_line(path, row)}); {fix}")
    return values.reset_index(drop=True)


def split_rows(rows: int, split: SplitSpec, times: pd.Series | None) -> dict[str, tuple[int, int]]:
    """[first, end) rows of train, val and test, by row counts, dates or fractions."""
    if split.rows is not None:
        wanted = split.rows.train + split.rows.val + split.rows.test
        if wanted > rows:
            raise DataError(
                f"split.rows asks for {wanted} rows ({split.rows.train}/{split.rows.val}/{split.rows.test}) "
                f"but the data has {rows}; lower the counts"
            )
        val_first = split.rows.train
        test_first = val_first + split.rows.val
        return {"train": (0, val_first), "val": (val_first, test_first), "test": (test_first, wanted)}
    if split.dates is not None:
        if times is None:  # the spec refuses split.dates without data.time_column; a caller may not
            raise DataError("split.dates needs data.time_column (the column holding the dates)")
        edges = [pd.Timestamp(split.dates.val), pd.Timestamp(split.dates.test)]
        end = rows if split.dates.end is None else int(times.searchsorted(pd.Timestamp(split.dates.end)))
        val_first, test_first = (int(times.searchsorted(edge)) for edge in edges)
        bounds = {"train": (0, val_first), "val": (val_first, test_first), "test": (test_first, end)}
        empty = [name for name, (first, last) in bounds.items() if last <= first]
        if empty:
            raise DataError(
                f"split.dates leaves the {', '.join(empty)} split empty (data from {times.iloc[0]} to "
                f"{times.iloc[-1]}); choose dates inside that range"
            )
        return bounds
    from lstmexp.data.series import split_bounds

    return split_bounds(rows, (split.train, split.val, split.test))
