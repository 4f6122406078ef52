"""The report respects measurement noise: contended speed figures, significant figures, threads used.

A trial whose speed was measured while the machine was not its own carries `contended` (with
`contention_reason`): its speed figures are kept and shown, flagged, but left out of every speed
verdict and speed recommendation. A speed figure is printed with as many significant figures as
its relative spread (`samples_per_s_spread`) allows. Older studies without these attributes are
read as uncontended, with the report's default 4 significant figures.
"""

from __future__ import annotations

import math

import pandas as pd

from lstmexp.metric_names import (
    CONTENDED,
    CONTENTION_REASON,
    SAMPLES_PER_S,
    SAMPLES_PER_S_SPREAD,
    SAMPLES_PER_S_TRAIN,
    TIME_STEPS_PER_S,
    TORCH_THREADS,
    TRAIN_S_PER_EPOCH,
)

SPEED_METRICS = frozenset({SAMPLES_PER_S, TIME_STEPS_PER_S, TRAIN_S_PER_EPOCH, SAMPLES_PER_S_TRAIN})
SPREAD_OF = {SAMPLES_PER_S: SAMPLES_PER_S_SPREAD}
# More than this share of contended trials: the whole study's speed figures get a banner.
MOSTLY = 0.5
DEFAULT_DIGITS = 4
CONTENTION_FIX = ("fewer --workers, -o train.threads=1 (or a small number), or a quieter machine")


def contended_mask(trials: pd.DataFrame) -> pd.Series:
    """True for trials flagged contended (missing flag: not contended, as in studies before the flag)."""
    if CONTENDED not in trials.columns:
        return pd.Series(False, index=trials.index)
    return trials[CONTENDED].map(lambda v: v is True or v == 1 or v == "true").astype(bool)


def quiet(trials: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The trials whose speed figures count (not contended), and how many were left out."""
    mask = contended_mask(trials)
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
