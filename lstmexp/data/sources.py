"""Where series come from: the registry of built-in datasets and the step from a DataFrame to a Series."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from lstmexp.data.series import Series
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
        known = ", ".join(sorted(BUILTIN_DATASETS))
        raise DataError(f"unknown dataset {spec.dataset!r}; built-in datasets: {known}")
    _, generate, targets = entry
    return generate(spec.rows, spec.seed), targets


def load_series(spec: DataSpec, device: torch.device) -> Series:
    frame, targets = load_frame(spec)
    return Series.from_frame(
        frame,
        target_columns=targets,
        input_columns=list(frame.columns),
        split=(spec.split.train, spec.split.val, spec.split.test),
        scaling=spec.scaling,
        device=device,
    )
