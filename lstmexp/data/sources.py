"""Where series come from: the registry of built-in datasets and the step from a DataFrame to a Series."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.data.episodes import EPISODE_TASKS, EpisodeSeries
from lstmexp.data.files import columns_for_mode, load_table, split_rows
from lstmexp.data.series import Series, split_bounds
from lstmexp.data.synthetic import make_synthetic
from lstmexp.errors import DataError

if TYPE_CHECKING:
    import torch

    from lstmexp.spec import DataSpec

# name -> (one-line description, generator(rows, seed) -> frame, target columns)
BUILTIN_DATASETS: dict[str, tuple[str, Callable[[int, int], pd.DataFrame], list[str]]] = {
    "synthetic": (
        "5 variables, 6,000 rows; target y depends on a 24-step season and drivers 6 and 12 steps back",
        make_synthetic,
        ["y"],
    ),
}


def load_frame(spec: DataSpec) -> tuple[pd.DataFrame, list[str]]:
    """The raw frame and its target columns."""
    entry = BUILTIN_DATASETS.get(spec.dataset)
    if entry is None:
        known = ", ".join(sorted([*BUILTIN_DATASETS, *EPISODE_TASKS]))
        raise DataError(f"unknown dataset {spec.dataset!r}; built-in datasets: {known} (or give data.path)")
    _, generate, targets = entry
    return generate(spec.rows, spec.seed), targets


def load_series(spec: DataSpec, device: torch.device) -> Series | EpisodeSeries:
    """The spec's data on the device: a file (data.path), an episode task, or a built-in series."""
    split = (spec.split.train, spec.split.val, spec.split.test)
    if spec.path is None and spec.dataset in EPISODE_TASKS:
        return EpisodeSeries(spec.dataset, spec.rows, spec.seed, device, spec.sequence_length, split)
    bounds: dict[str, tuple[int, int]] | None
    if spec.path is not None:
        table = load_table(spec)
        frame, targets, inputs, bounds = table.frame, table.target_columns, table.input_columns, table.bounds
    else:
        if spec.time_column is not None:
            raise DataError("built-in datasets have no time column: remove data.time_column (and data.split.dates) "
                            "from the spec")
        frame, targets = load_frame(spec)
        builtin_inputs = list(frame.columns)
        inputs, targets = columns_for_mode(spec.mode, builtin_inputs, spec.targets or targets)
        bounds = split_rows(len(frame), spec.split, None) if spec.split.rows is not None else None
    if spec.train_last_rows is not None:
        bounds = shortened(bounds or split_bounds(len(frame), split), spec.train_last_rows)
    return Series.from_frame(
        frame,
        target_columns=targets,
        input_columns=inputs,
        split=split,
        scaling=spec.scaling,
        device=device,
        lookback=spec.lookback,
        bounds=bounds,
    )


def shortened(bounds: dict[str, tuple[int, int]], rows: int) -> dict[str, tuple[int, int]]:
    """The train split cut to its last `rows` rows (a short series); val and test unchanged."""
    first, end = bounds["train"]
    if rows > end - first:
        raise DataError(f"data.train_last_rows={rows} is more than the train split's {end - first} rows; "
                        f"use -o data.train_last_rows={end - first} or fewer")
    return {**bounds, "train": (end - rows, end)}
