"""What `lstmexp datasets` shows: the built-in datasets, and the shape of one dataset or file."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.data.dates import find_time_column, gap_note, parse_times
from lstmexp.data.episodes import EPISODE_TASKS
from lstmexp.data.files import READERS, read_table, split_rows
from lstmexp.data.series import split_bounds
from lstmexp.data.sources import BUILTIN_DATASETS, load_frame
from lstmexp.text import printable

if TYPE_CHECKING:
    from lstmexp.spec import DataSpec


def list_datasets() -> list[tuple[str, str]]:
    """(name, one-line description) of every built-in dataset."""
    named = {name: entry[0] for name, entry in BUILTIN_DATASETS.items()}
    named.update({name: entry[0] for name, entry in EPISODE_TASKS.items()})
    return sorted(named.items())


def is_file_reference(name_or_path: str) -> bool:
    return Path(name_or_path).suffix.lower() in READERS or "/" in name_or_path


def describe(spec: DataSpec) -> list[tuple[str, str]]:
    """(figure, value) rows: rows, columns, time range and split sizes of the spec's data."""
    if spec.path is None and spec.dataset in EPISODE_TASKS:
        bounds = split_bounds(spec.rows, (spec.split.train, spec.split.val, spec.split.test))
        length = spec.sequence_length or "time_step"
        return [
            ("dataset", f"{spec.dataset} (built-in, seed {spec.seed})"),
            ("episodes", f"{spec.rows:,} sequences of length {length}"),
            ("columns", "value, mark (inputs)"),
            *split_lines(bounds, unit="episodes"),
        ]
    if spec.path is None:
        frame, targets = load_frame(spec)
        times = None
        source = f"{spec.dataset} (built-in, seed {spec.seed})"
    else:
        frame, targets = read_table(spec.path), spec.targets
        time_column = spec.time_column or find_time_column(frame)
        times = parse_times(frame, time_column, spec.path) if time_column is not None else None
        source = spec.path
    numeric = [str(c) for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    other = [str(c) for c in frame.columns if str(c) not in numeric]
    lines = [
        ("data", source),
        ("rows", f"{len(frame):,}"),
        ("numeric columns", ", ".join(numeric) or "none"),
        ("other columns", ", ".join(other) or "none"),
        ("target", ", ".join(targets) or "not set (data.target)"),
        ("missing values", f"{int(frame[numeric].isna().sum().sum()):,}"),
    ]
    if times is not None:
        step = times.diff().median()
        lines.append(("time range", f"{times.iloc[0]} to {times.iloc[-1]} (median step {step})"))
        lines.append(("gaps", gap_note(times, str(time_column)) or "none"))
    lines += split_lines(split_rows(len(frame), spec.split, times))
    return [(figure, printable(value)) for figure, value in lines]


def split_lines(bounds: dict[str, tuple[int, int]], unit: str = "rows") -> list[tuple[str, str]]:
    return [(f"{name} split", f"{unit} [{first:,}, {end:,}): {end - first:,}") for name, (first, end) in bounds.items()]
