"""The lines a search prints before its first trial: which data, which columns go in and out, and gaps.

A user should never have to guess which columns the model saw (an extra numeric column silently
becoming an input changes the results), so the study start says it in one line.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from lstmexp.data.dates import day_or_time
from lstmexp.data.episodes import EPISODE_TASKS
from lstmexp.data.files import columns_for_mode, load_table
from lstmexp.data.sources import BUILTIN_DATASETS
from lstmexp.data.wording import plural
from lstmexp.text import printable

if TYPE_CHECKING:
    from lstmexp.spec import DataSpec


def data_lines(spec: DataSpec) -> list[str]:
    """One line naming the data and its inputs and targets, then one per note (e.g. gaps in the dates)."""
    if spec.path is None and spec.dataset in EPISODE_TASKS:
        return [f"data: {spec.dataset} (built-in episode task, {plural(spec.rows, 'sequence')})"]
    if spec.path is None:
        entry = BUILTIN_DATASETS.get(spec.dataset)
        if entry is None:
            return []  # an unknown name: the search's preflight says so with the list of names
        frame = entry[1](min(spec.rows, 50), spec.seed)
        inputs, targets = columns_for_mode(spec.mode, [str(c) for c in frame.columns], spec.targets or entry[2])
        chosen = columns_text(spec.mode, inputs, targets)
        return [f"data: {spec.dataset} (built-in, {plural(spec.rows, 'row')}); {chosen}"]
    table = load_table(spec)
    dates = ""
    if table.times is not None:
        first, last = day_or_time(table.times.iloc[0]), day_or_time(table.times.iloc[-1])
        dates = f", dates in {printable(table.time_column)!r} from {first} to {last}"
    line = f"data: {printable(spec.path)} ({plural(len(table.frame), 'row')}{dates}); "
    line += columns_text(spec.mode, table.input_columns, table.target_columns)
    if table.unused:
        line += f"; not used: {names(table.unused)} (name inputs in data.features to use them)"
    return [line, *(f"note: {printable(note)}" for note in table.notes)]


def columns_text(mode: str, inputs: list[str], targets: list[str]) -> str:
    return f"inputs (mode {mode}): {names(inputs)}; predicting {names(targets)}"


def names(columns: Iterable[str]) -> str:
    """Column names as one line: each escaped, since a header can hold anything."""
    return ", ".join(printable(column) for column in columns)
