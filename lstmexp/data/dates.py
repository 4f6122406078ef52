"""The date column of a user's file: finding it, checking its order, and noticing gaps.

Integer years (a column named year, or the column `data.time_column` names, holding whole numbers)
are a yearly index, not nanoseconds since 1970; a year column beside a quarter or month column
(1-4 / 1-12, or text such as "Q3") makes one period index of both (`calendar_index`).

A date column is used whether or not `data.time_column` names it: unsorted or repeated dates would
otherwise train without a word. Gaps are not errors (a model can still learn), but a user should
know that windows run straight across them, so they come back as a note to print.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from lstmexp.data.wording import file_line, plural
from lstmexp.errors import DataError

# Share of a text column's first values that must parse as dates for it to count as the date column.
DATE_LIKE_SHARE = 0.9
# A series is regular when this share of its steps equals the most common step.
REGULAR_SHARE = 0.8
# Calendar steps whose length in days varies: named by their period, counted in whole periods.
CALENDAR_STEPS = (("months", 28, 31, "M"), ("quarters", 89, 92, "Q"), ("years", 365, 366, "Y"))
WEEKEND = 5  # pandas' day_of_week: Saturday is 5, Sunday 6
FIXED_STEP_NAMES = {pd.Timedelta(seconds=1): "seconds", pd.Timedelta(minutes=1): "minutes",
                    pd.Timedelta(hours=1): "hours", pd.Timedelta(days=1): "days", pd.Timedelta(days=7): "weeks"}


# Columns that are parts of a calendar date, by lower-case name; the part's name and its largest value.
YEAR_NAMES = frozenset({"year", "yr"})
PART_NAMES = {"quarter": ("quarter", 4), "qtr": ("quarter", 4), "q": ("quarter", 4),
              "month": ("month", 12), "mon": ("month", 12), "m": ("month", 12)}
PART_PATTERN = r"(\d+)\s*$"  # "Q3", "2", "M11": the trailing number


def calendar_index(frame: pd.DataFrame, time_column: str | None) -> tuple[pd.DataFrame, str | None]:
    """The frame with integer year (+ quarter or month) columns replaced by one date column, and its name.

    Returns the frame unchanged (and `time_column`) when it holds no such columns.
    """
    year = year_column(frame, time_column)
    if year is None:
        return frame, time_column
    part = next((c for c in frame.columns if str(c).lower() in PART_NAMES and c != year), None)
    years = pd.to_numeric(frame[year], errors="coerce")
    months = pd.Series(1, index=frame.index)
    name = str(year)
    if part is not None:
        kind, largest = PART_NAMES[str(part).lower()]
        numbers = pd.to_numeric(frame[part].astype(str).str.extract(PART_PATTERN)[0], errors="coerce")
        if numbers.isna().any() or not numbers.between(1, largest).all():
            row = int((numbers.isna() | ~numbers.between(1, largest)).to_numpy().argmax())
            raise DataError(f"column {part!r} holds {frame[part].iloc[row]!r}, not a {kind} (1-{largest}); "
                            "fix that value or rename the column if it is not part of the date")
        months = (numbers - 1) * 3 + 1 if kind == "quarter" else numbers
        name = f"{year}+{part}"
    if years.isna().any():
        row = int(years.isna().to_numpy().argmax())
        raise DataError(f"year column {year!r} is empty or not a year at row {row + 1}; fill or drop that line")
    dates = pd.to_datetime(pd.DataFrame({"year": years.astype("int64"), "month": months.astype("int64"), "day": 1}))
    combined = frame.drop(columns=[c for c in (year, part) if c is not None])
    combined.insert(0, name, dates)
    return combined, name


def year_column(frame: pd.DataFrame, time_column: str | None) -> str | None:
    """The column of whole-number years: the named time column if it holds integers, else one named year."""
    named = [c for c in frame.columns if str(c).lower() in YEAR_NAMES]
    candidates = [time_column] if time_column is not None else named
    for column in candidates:
        if column not in frame.columns or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        values = pd.to_numeric(frame[column], errors="coerce").dropna()
        if not values.empty and (values == values.round()).all() and values.between(1, 9999).all():
            return str(column)
    return None


def to_dates(values: pd.Series) -> pd.Series:
    """Parse values as dates, unparsable ones as NaT (pandas warns when it guesses a format: we check)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pd.to_datetime(values, errors="coerce")


def find_time_column(frame: pd.DataFrame) -> str | None:
    """The first column that holds dates: a datetime column, or text whose values parse as dates."""
    for column in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[column]):
            return str(column)
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        sample = values.dropna().astype(str).head(100)
        if not sample.empty and to_dates(sample).notna().mean() >= DATE_LIKE_SHARE:
            return str(column)
    return None


def parse_times(frame: pd.DataFrame, column: str, path: str) -> pd.Series:
    """The column as dates, checked: every value a date, none repeated, strictly increasing."""
    raw = frame[column]
    try:
        times = to_dates(raw)
    except (ValueError, TypeError) as exc:  # e.g. mixed time zones
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"time column {column!r} does not parse as dates ({reason}); fix the column") from None
    if times.isna().any():
        row = int(times.isna().to_numpy().argmax())
        if pd.isna(raw.iloc[row]):
            raise DataError(f"time column {column!r} is empty at {file_line(path, row)}; fill or drop that line")
        raise DataError(
            f"time column {column!r} holds {raw.iloc[row]!r}, not a date, at {file_line(path, row)}; "
            "fix that line (or name the right column in data.time_column)"
        )
    check_order(times, column, path)
    return times.reset_index(drop=True)


def day_or_time(stamp: pd.Timestamp) -> str:
    """2020-01-31 for a midnight stamp, the full stamp otherwise."""
    return str(stamp.date()) if stamp == stamp.normalize() else str(stamp)


def check_order(times: pd.Series, column: str, path: str) -> None:
    duplicated = times.duplicated()
    if duplicated.any():
        row = int(duplicated.to_numpy().argmax())
        first = int((times == times.iloc[row]).to_numpy().argmax())
        raise DataError(
            f"time column {column!r} repeats {times.iloc[row]} at {file_line(path, row)} (first at line "
            f"{first + 2}; {plural(int(duplicated.sum()), 'repeated date')}); aggregate or drop the repeated rows"
        )
    if not times.is_monotonic_increasing:
        row = int((times.diff() < pd.Timedelta(0)).to_numpy().argmax())
        raise DataError(
            f"time column {column!r} is not sorted: {times.iloc[row]} at {file_line(path, row)} comes after "
            f"{times.iloc[row - 1]}; sort the file by time"
        )


def gap_note(times: pd.Series, column: str) -> str | None:
    """'59 missing weeks between ...' for a regular series with holes; None when there are none."""
    if len(times) < 3:
        return None
    steps = times.diff().dropna()
    step = steps.mode().iloc[0]
    counted = calendar_gaps(times, step) or fixed_gaps(times, steps, step)
    if counted is None:
        return None
    missing, unit, longest, after = counted
    if missing == 0:
        return None
    first, last = times.iloc[0], times.iloc[-1]
    return (
        f"{plural(missing, 'missing ' + unit[:-1], 'missing ' + unit)} in {column!r} between {first:%Y-%m-%d} and "
        f"{last:%Y-%m-%d} (the longest gap: {plural(longest, unit[:-1], unit)} after {after:%Y-%m-%d}); "
        "windows run across gaps as if the rows were consecutive: fill them in the file if that matters"
    )


def calendar_gaps(times: pd.Series, step: pd.Timedelta) -> tuple[int, str, int, pd.Timestamp] | None:
    """Gaps of a monthly, quarterly or yearly series, counted in whole periods."""
    for unit, shortest, longest_days, period in CALENDAR_STEPS:
        if pd.Timedelta(days=shortest) <= step <= pd.Timedelta(days=longest_days):
            ordinals = times.dt.to_period(period).map(lambda p: p.ordinal).astype("int64")
            return count_holes(times, ordinals.diff().dropna(), 1, unit)
    return None


def fixed_gaps(times: pd.Series, steps: pd.Series, step: pd.Timedelta) -> tuple[int, str, int, pd.Timestamp] | None:
    business = step == pd.Timedelta(days=1) and weekdays_only(times)
    if (steps == step).mean() < REGULAR_SHARE and not business:
        return None  # irregular sampling: no step to count holes in
    unit = FIXED_STEP_NAMES.get(step) or f"{pd.tseries.frequencies.to_offset(step).freqstr} steps"
    if business:
        # Business days (no weekend date at all): count missing weekdays only; weekends are not holes.
        days = times.to_numpy().astype("datetime64[D]")
        weekdays = pd.Series(np.busday_count(days[:-1], days[1:]), index=steps.index)
        return count_holes(times, weekdays, 1, "business days")
    ratios = pd.Series(steps.to_numpy() / step.to_timedelta64(), index=steps.index).round()
    return count_holes(times, ratios, 1, unit)


def count_holes(times: pd.Series, ratios: pd.Series, regular: int, unit: str) -> tuple[int, str, int, pd.Timestamp]:
    holes = (ratios - regular).clip(lower=0).astype("int64")
    if not holes.any():
        return 0, unit, 0, times.iloc[0]
    widest = int(holes.to_numpy().argmax())  # position among the steps: the gap after row `widest`
    after = times.iloc[widest]
    return int(holes.sum()), unit, int(holes.max()), after


def weekdays_only(times: pd.Series) -> bool:
    return not (times.dt.day_of_week >= WEEKEND).any()
