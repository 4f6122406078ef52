"""Effect sizes with uncertainty: within-strata regressions on log2 scale, bootstrapped over trials.

Every claim test asks "how does metric y change with x, other things equal?". Other things equal
means strata: trials that share every other setting (e.g. the same time_step and hidden_size when
x is batch_size). The model is

    log2(y) = a[stratum] + b . z        (z: one or more regressors, e.g. log2(batch_size))

fitted by least squares after removing each stratum's mean, so a stratum with a single x value
says nothing, and differences between strata never pass for an effect of x. 2**b is the factor on y
per unit of z (per doubling of x when z = log2 x; the ratio between two groups when z is 0/1).

Uncertainty: a stratified bootstrap over trials (trials resampled with replacement inside their
stratum), with a fixed seed so the same study always gives the same report. When a trial's figure
is a mean over R repeats (columns `m_std`, `repeats`), each replicate also draws that mean from its
own standard error, so seed-to-seed noise widens the interval too.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

DRAWS = 1000
SEED = 0
CONFIDENCE = 0.95
MIN_ROWS = 4


@dataclass(frozen=True)
class Effect:
    """A multiplicative effect on y with its bootstrap interval."""

    factor: float
    low: float
    high: float
    rows: int
    strata: int  # strata in which the regressor varies (the ones that carry the estimate)
    repeats_used: bool

    def describe(self, unit: str) -> str:
        repeats = ", with repeats" if self.repeats_used else ""
        return (f"×{self.factor:.3g} {unit} (95% CI {self.low:.3g}–{self.high:.3g}; {self.rows} trials in "
                f"{self.strata} strata{repeats})")


def within_strata_effect(
    frame: pd.DataFrame,
    y: str,
    regressors: dict[str, pd.Series],
    strata: list[str],
    draws: int = DRAWS,
    seed: int = SEED,
) -> Effect | None:
    """The effect of the first regressor on y (others are controls); None when the data cannot tell."""
    data = frame.assign(**{f"__z{i}": z for i, z in enumerate(regressors.values())})
    zcols = [f"__z{i}" for i in range(len(regressors))]
    data = data[pd.to_numeric(data[y], errors="coerce") > 0].dropna(subset=[y, *zcols])
    if len(data) < MIN_ROWS:
        return None
    codes = stratum_codes(data, strata)
    varying = pd.Series(data[zcols[0]].to_numpy()).groupby(codes).nunique()
    if (varying > 1).sum() == 0:
        return None
    order = np.argsort(codes, kind="stable")  # trials of one stratum side by side
    starts = np.flatnonzero(np.r_[True, np.diff(codes[order]) != 0])
    sizes = np.diff(np.r_[starts, len(order)])
    log_y = np.log2(data[y].to_numpy(dtype=float))[order]
    z = data[zcols].to_numpy(dtype=float)[order]
    point = fit(np.arange(len(order))[None, :], starts, sizes, z, log_y[None, :])
    if not np.isfinite(point[0, 0]):
        return None
    se = repeat_standard_error(data, y)
    picks = bootstrap_picks(tuple(sizes), draws, seed)
    noise = np.random.default_rng(seed + 1).standard_normal((draws, len(order))) if se is not None else None
    noisy = log_y[None, :] + (noise * se[order][None, :] if noise is not None else 0)
    boot = fit(picks, starts, sizes, z, noisy)[:, 0]
    boot = boot[np.isfinite(boot)]
    if len(boot) < draws // 2:
        return None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return Effect(
        float(2 ** point[0, 0]), float(2**low), float(2**high), len(data), int((varying > 1).sum()), se is not None
    )


def stratum_codes(data: pd.DataFrame, strata: list[str]) -> np.ndarray:
    present = [c for c in strata if c in data.columns]
    if not present:
        return np.zeros(len(data), dtype=int)
    return data.groupby(present, dropna=False, sort=False).ngroup().to_numpy()


@functools.lru_cache(maxsize=8)
def bootstrap_picks(sizes: tuple[int, ...], draws: int, seed: int) -> np.ndarray:
    """Resampled trial positions (draws × trials): position i draws uniformly from its own stratum's block.

    Depends only on the strata sizes and the seed, so claims tested on the same trials share one draw
    (cached; the result is read-only).
    """
    size_array = np.asarray(sizes)
    starts = np.r_[0, np.cumsum(size_array)[:-1]]
    block_start = np.repeat(starts, size_array)
    block_size = np.repeat(size_array, size_array)
    rng = np.random.default_rng(seed)
    picks = block_start + (rng.random((draws, len(block_start))) * block_size).astype(np.int64)
    picks.setflags(write=False)
    return picks


def fit(picks: np.ndarray, starts: np.ndarray, sizes: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Within-strata least squares for each row of `picks` (trials ordered by stratum); nan where singular.

    Centred sums in closed form, S_ab = sum a b - sum_s (sum_s a)(sum_s b) / n_s, with per-stratum sums
    from `np.add.reduceat` over the contiguous stratum blocks: the whole bootstrap is a few array passes.
    """
    ys = y[0][picks] if len(y) == 1 else np.take_along_axis(y, picks, axis=1)  # y: one row, or one per draw
    zs = [z[:, j][picks] for j in range(z.shape[1])]

    def block_sums(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts, axis=1)

    sum_y = block_sums(ys)
    sum_z = [block_sums(values) for values in zs]
    k = len(zs)
    sxx = np.empty((len(picks), k, k))
    sxy = np.empty((len(picks), k))
    for j in range(k):
        sxy[:, j] = (zs[j] * ys).sum(axis=1) - (sum_z[j] * sum_y / sizes).sum(axis=1)
        for m in range(k):
            sxx[:, j, m] = (zs[j] * zs[m]).sum(axis=1) - (sum_z[j] * sum_z[m] / sizes).sum(axis=1)
    coef = np.full((len(picks), k), np.nan)
    scale = np.abs(sxx).max(axis=(1, 2)) + 1e-300
    solvable = np.abs(np.linalg.det(sxx / scale[:, None, None])) > 1e-9
    coef[solvable] = np.linalg.solve(sxx[solvable], sxy[solvable][..., None])[..., 0]
    return coef


def repeat_standard_error(data: pd.DataFrame, y: str) -> np.ndarray | None:
    """log2-scale standard error of each trial's mean over repeats, or None without repeats."""
    if "repeats" not in data.columns:
        return None
    repeats = pd.to_numeric(data["repeats"], errors="coerce")
    if f"{y}_cv" in data.columns:
        cv = pd.to_numeric(data[f"{y}_cv"], errors="coerce")
    elif f"{y}_std" in data.columns:
        cv = pd.to_numeric(data[f"{y}_std"], errors="coerce") / data[y].astype(float)
    else:
        return None
    se = (cv / np.sqrt(repeats.clip(lower=1)) / math.log(2)).fillna(0.0).to_numpy(dtype=float)
    return se if np.any(se > 0) else None
