"""Figures made readable for people: memory in MiB, median ±spread in one cell, short headers with units,
thousands separators, and never scientific notation next to plain numbers.

Speed figures carry as many significant figures as their spread allows (`noise.digits_for`: a
±10% figure shows 2); other figures 4. Shared by the terminal, Markdown and HTML renderers (CSV
and JSON keep the raw numbers).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from lstmexp.report.build import SPREAD_SUFFIX
from lstmexp.report.noise import DEFAULT_DIGITS, SPEED_METRICS, SPREAD_OF, digits_for, format_number
from lstmexp.units import MIB
from lstmexp.vocabulary.names import (
    ACHIEVED_GFLOPS,
    CONTENDED,
    FAILURE_REASON,
    GRAD_NORM_MEAN,
    HW_EFFICIENCY_PCT,
    ITERATIONS_PER_EPOCH,
    PARAM_COUNT,
    PEAK_MEM_BYTES,
    SAMPLES_PER_S,
    TEST_MAE_UNITS,
    TEST_MSE,
    TEST_SKILL,
    TIME_TO_TARGET_S,
    TRAIN_S_PER_EPOCH,
    VAL_LOSS_BEST,
)

# A relative spread recorded beside a figure (a fraction, e.g. 0.03 for ±3%).
RELATIVE_SPREADS = {spread: metric for metric, spread in SPREAD_OF.items()}

MEMORY_COLUMN = re.compile(r"mem\w*_bytes(_iqr)?$")  # shown in MiB
# Short headers (with units) so that the terminal tables fit 120 columns.
UNIT_HEADERS = {
    "val_loss_best_sd": "val loss sd",
    PEAK_MEM_BYTES: "mem MiB",
    SAMPLES_PER_S: "samples/s",
    TRAIN_S_PER_EPOCH: "s/epoch",
    ITERATIONS_PER_EPOCH: "iters/ep",
    VAL_LOSS_BEST: "val loss",
    TEST_MAE_UNITS: "test MAE",
    TEST_MSE: "test MSE",
    TEST_SKILL: "skill",
    GRAD_NORM_MEAN: "grad norm",
    "hidden_size": "hidden",
    "batch_size": "batch",
    "time_step": "T",
    PARAM_COUNT: "params",
    FAILURE_REASON: "failure",
    ACHIEVED_GFLOPS: "GFLOP/s",
    HW_EFFICIENCY_PCT: "hw eff %",
    TIME_TO_TARGET_S: "s to target",
}


def people_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Merge each `m` + `m_iqr` (or `m` + its relative spread) pair into one cell: (value, ±%, digits)."""
    pairs = {c[: -len(SPREAD_SUFFIX)]: c for c in frame.columns
             if str(c).endswith(SPREAD_SUFFIX) and str(c)[: -len(SPREAD_SUFFIX)] in frame}
    pairs |= {metric: c for c, metric in RELATIVE_SPREADS.items() if c in frame and metric in frame}
    if not pairs:
        return frame
    merged = frame.drop(columns=list(pairs.values())).astype(object)
    for metric, column in pairs.items():
        median = pd.to_numeric(frame[metric], errors="coerce")
        spread = pd.to_numeric(frame[column], errors="coerce")
        share = spread * 100 if column in RELATIVE_SPREADS else spread / median.abs() * 100
        merged[metric] = pd.Series([cell(metric, m, s) for m, s in zip(median, share, strict=True)],
                                   index=merged.index, dtype=object)
    return merged


def cell(metric: str, median: float, share: float) -> tuple[float, float | None, int] | None:
    """(median, spread as % of it or None, significant figures) for one merged cell.

    The spread is a whole percent, or one significant figure under 1% (never '±0%'); no spread at all
    (every trial measured the same) shows none."""
    if pd.isna(median):
        return None
    spread = None if pd.isna(share) or median == 0 or share == 0 else round(share) if share >= 1 else share
    digits = digits_for(share / 100) if metric in SPEED_METRICS and spread is not None else DEFAULT_DIGITS
    return (median, spread, digits)


def for_people(frame: pd.DataFrame) -> pd.DataFrame:
    """Memory in MiB, median ±spread in one cell, short headers with units, readable numbers."""
    shown = frame.copy()
    for column in shown.columns:
        if MEMORY_COLUMN.search(str(column)):
            shown[column] = pd.to_numeric(shown[column], errors="coerce") / MIB
    if CONTENDED in shown.columns:
        shown[CONTENDED] = shown[CONTENDED].map(lambda v: "yes" if v is True or v == 1 else "")
    shown = people_frame(shown)
    shown = shown.rename(columns=lambda c: short_header(str(c)))
    return shown.map(format_cell)


def short_header(column: str) -> str:
    for name, short in UNIT_HEADERS.items():
        column = column.replace(name, short)
    return column


def format_cell(value: Any) -> str:
    if isinstance(value, tuple):  # (median, spread as % of it, significant figures)
        median, share, *digits = value
        text = format_number(median, digits[0] if digits else DEFAULT_DIGITS)
        return text + (f" ±{format_number(share, 1 if share < 1 else DEFAULT_DIGITS)}%" if share is not None else "")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{int(value):,}" if value.is_integer() and abs(value) < 1e15 else format_number(value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
