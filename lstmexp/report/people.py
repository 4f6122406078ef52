"""Figures made readable for people: memory in MiB, median ±spread in one cell, short headers, 4 digits.

Shared by the terminal, Markdown and HTML renderers (CSV and JSON keep the raw numbers).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from lstmexp.report.build import SPREAD_SUFFIX
from lstmexp.units import MIB

MEMORY_COLUMN = re.compile(r"mem\w*_bytes(_iqr)?$")  # shown in MiB
# Short headers (with units) so that the terminal tables fit 120 columns.
UNIT_HEADERS = {
    "peak_mem_bytes": "mem MiB",
    "samples_per_s": "samples/s",
    "train_s_per_epoch": "s/epoch",
    "iterations_per_epoch": "iters/ep",
    "val_loss_best": "val loss",
    "test_mae_units": "test MAE",
    "test_mse": "test MSE",
    "test_skill": "skill",
    "grad_norm_mean": "grad norm",
    "hidden_size": "hidden",
    "batch_size": "batch",
    "time_step": "T",
    "param_count": "params",
    "failure_reason": "failure",
    "achieved_gflops": "GFLOP/s",
    "hw_efficiency_pct": "hw eff %",
    "time_to_target_s": "s to target",
}


def people_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Merge each `m` + `m_iqr` pair into one text column: median ±iqr as % of the median."""
    spreads = [c for c in frame.columns if str(c).endswith(SPREAD_SUFFIX) and str(c)[: -len(SPREAD_SUFFIX)] in frame]
    if not spreads:
        return frame
    merged = frame.drop(columns=spreads).astype(object)
    for column in spreads:
        metric = column[: -len(SPREAD_SUFFIX)]
        median = pd.to_numeric(frame[metric], errors="coerce")
        share = (pd.to_numeric(frame[column], errors="coerce") / median.abs() * 100).round()
        # (median, spread as % of it) pairs, formatted by format_cell; no spread for one trial
        pairs = [
            None if pd.isna(m) else (m, None if pd.isna(s) or m == 0 else int(s))
            for m, s in zip(median, share, strict=True)
        ]
        merged[metric] = pd.Series(pairs, index=merged.index, dtype=object)
    return merged


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Memory in MiB, median ±spread in one cell, short headers with units, 4 significant digits."""
    shown = frame.copy()
    for column in shown.columns:
        if MEMORY_COLUMN.search(str(column)):
            shown[column] = pd.to_numeric(shown[column], errors="coerce") / MIB
    shown = people_frame(shown)
    shown = shown.rename(columns=lambda c: short_header(str(c)))
    return shown.map(format_cell)


def short_header(column: str) -> str:
    for name, short in UNIT_HEADERS.items():
        column = column.replace(name, short)
    return column


def format_cell(value: Any) -> str:
    if isinstance(value, tuple):  # (median, spread as % of it)
        median, share = value
        return format_cell(median) + (f" ±{share}%" if share is not None else "")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)
