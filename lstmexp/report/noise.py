"""The report respects measurement noise: contended speed figures, significant figures, threads used.

A trial whose speed was measured while the machine was not its own carries `contended` (with
`contention_reason`): its speed figures are kept and shown, flagged, but left out of every speed
verdict and speed recommendation. A speed figure is printed with as many significant figures as
its relative spread (`samples_per_s_spread`) allows. Older studies without these attributes are
read as uncontended, with the report's default 4 significant figures.

`contended` judges the speed probe's figure, which a one-thread trial's own CPU clock can rescue on a
busy machine (`lstmexp.measure.clocks`). Epoch timings are wall clock only: they are judged by the
machine-wide flag (`machine_contended`) where a trial recorded it.
"""

from __future__ import annotations

import math

import pandas as pd

from lstmexp.vocabulary.names import (
    CONTENDED,
    CONTENTION_REASON,
    MACHINE_CONTENDED,
    SAMPLES_PER_S,
    SAMPLES_PER_S_SPREAD,
    SAMPLES_PER_S_TRAIN,
    TIME_STEPS_PER_S,
    TORCH_THREADS,
    TRAIN_S_PER_EPOCH,
)

WALL_ONLY_METRICS = frozenset({TRAIN_S_PER_EPOCH, SAMPLES_PER_S_TRAIN})  # no thread clock behind them
SPEED_METRICS = frozenset({SAMPLES_PER_S, TIME_STEPS_PER_S, TRAIN_S_PER_EPOCH, SAMPLES_PER_S_TRAIN})
SPREAD_OF = {SAMPLES_PER_S: SAMPLES_PER_S_SPREAD}
# More than this share of contended trials: the whole study's speed figures get a banner.
MOSTLY = 0.5
DEFAULT_DIGITS = 4
CONTENTION_FIX = ("fewer --workers, -o train.threads=1 (or a small number), or a quieter machine")


def contended_mask(trials: pd.DataFrame, metric: str | None = None) -> pd.Series:
    """True for trials whose `metric` (default: the probe's samples/s) was measured on a busy machine
    (missing flag: not contended, as in studies before the flag)."""
    column = MACHINE_CONTENDED if metric in WALL_ONLY_METRICS and MACHINE_CONTENDED in trials.columns else CONTENDED
    if column not in trials.columns:
        return pd.Series(False, index=trials.index)
    return trials[column].map(lambda v: v is True or v == 1 or v == "true").astype(bool)


def quiet(trials: pd.DataFrame, metric: str | None = None) -> tuple[pd.DataFrame, int]:
    """The trials whose speed figure `metric` counts (not contended), and how many were left out."""
    mask = contended_mask(trials, metric)
    return trials[~mask], int(mask.sum())


def left_out_note(count: int) -> str:
    if count == 0:
        return ""
    trials = "trial" if count == 1 else "trials"
    return f"{count:,} contended {trials} left out of the speed figures"


def most_common_reason(contended: pd.DataFrame) -> str:
    """' (mostly: <an example of the commonest kind of reason>)', or '' when none was recorded.

    Reasons carry their figures ("other processes used 58% of the CPU"), so they are grouped by their
    wording with the numbers left out, and one real reason of the largest group is shown.
    """
    reasons = contended.get(CONTENTION_REASON, pd.Series(dtype=object)).dropna().astype(str)
    reasons = reasons[reasons.str.strip() != ""]
    if reasons.empty:
        return ""
    kinds = reasons.str.replace(r"[\d.,]+", "#", regex=True)
    commonest = kinds.value_counts().index[0]
    return f" (mostly: {reasons[kinds == commonest].iloc[0]})"


def contention_banner(trials: pd.DataFrame) -> str:
    """A warning when most measured trials were contended (their speed figures say little)."""
    if CONTENDED not in trials.columns or SAMPLES_PER_S not in trials.columns:
        return ""
    measured = trials[pd.to_numeric(trials[SAMPLES_PER_S], errors="coerce").notna()]
    count = int(contended_mask(measured).sum())
    if measured.empty or count / len(measured) <= MOSTLY:
        return ""
    common = most_common_reason(measured[contended_mask(measured)])
    return (f"WARNING: {count:,} of {len(measured):,} trials measured their speed on a busy machine{common}: "
            f"speed figures and speed verdicts are unreliable; re-run with {CONTENTION_FIX}")


def digits_for(spread: float | None) -> int:
    """Significant figures a relative spread allows: ±1% -> 3, ±10% -> 2, ±50% -> 1 (at least 1, at most 4)."""
    if spread is None or not math.isfinite(spread) or spread <= 0:
        return DEFAULT_DIGITS
    return max(1, min(DEFAULT_DIGITS, 1 - math.floor(math.log10(spread))))


def round_to(value: float, digits: int) -> float:
    """`value` rounded to `digits` significant figures."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - math.floor(math.log10(abs(value))))


def format_number(value: float, digits: int = DEFAULT_DIGITS) -> str:
    """`digits` significant figures in plain notation with thousands separators: 13,840, 0.01234, 3.5."""
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = min(12, max(0, digits - 1 - magnitude))
    rounded = round(value, digits - 1 - magnitude)
    if float(rounded).is_integer() and decimals == 0:
        return f"{int(rounded):,}"
    return f"{rounded:,.{decimals}f}".rstrip("0").rstrip(".")  # 3.5, not 3.500


def threads_used(trials: pd.DataFrame) -> str:
    """The torch threads the trials actually used: '1', or '1-2 (mostly 1)'; '' when not recorded."""
    if TORCH_THREADS not in trials.columns:
        return ""
    values = pd.to_numeric(trials[TORCH_THREADS], errors="coerce").dropna().astype(int)
    if values.empty:
        return ""
    if values.nunique() == 1:
        return str(values.iloc[0])
    return f"{values.min()}-{values.max()} (mostly {values.mode().iloc[0]})"
