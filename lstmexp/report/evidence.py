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
own standard error, so seed-to-seed noise widens the interval too. The interval is the wider of the
bootstrap's and the least-squares t interval of the slope (its standard error from the residuals,
Student's t on the residual degrees of freedom): with two or three seeds per setting the bootstrap
can only redraw the few values it has and is too narrow (two seeds resampled give half the variance
of the mean), so a verdict would turn on where one run's narrow interval happened to fall.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from lstmexp.report.noise import format_number
from lstmexp.vocabulary.names import BEST_EPOCH, EPOCHS_RUN, EPOCHS_TO_TARGET, REPEATS

DRAWS = 1000
SEED = 0
CONFIDENCE = 0.95
MIN_ROWS = 4
# Fewer distinct bootstrap slopes than this: the percentile interval would be a few lattice values.
MIN_DISTINCT = 20
MORE = "more seeds (-o train.repeats=3) or settings would give one"  # no '; ': a note's pieces split there
WIDEST_DIGITS = 8  # interval ends get more digits only until they differ from each other and the estimate
EXACT = 1e-9  # a residual this small (relative, log2 scale) is rounding: the fit is exact
# Counts of epochs: seeds agreeing on one (both best at epoch 4) is the coarseness of the count, not a
# figure measured without noise, so neither agreement nor a zero residual makes their fit exact, and the
# bootstrap draws each count within its resolution (±half an epoch).
EPOCH_COUNTS = frozenset({BEST_EPOCH, EPOCHS_RUN, EPOCHS_TO_TARGET})


@dataclass(frozen=True)
class Effect:
    """A multiplicative effect on y with its bootstrap interval."""

    factor: float
    low: float
    high: float
    rows: int
    strata: int  # strata in which the regressor varies (the ones that carry the estimate)
    repeats_used: bool

    def text(self, unit: str) -> str:
        """'×1.32 per 2× batch_size (95% CI 1.14–1.48)': 4 significant figures, more only where the ends
        would print alike; an exact effect (low = high) says so instead of printing an interval of zero width."""
        if self.low == self.high:
            return f"×{format_number(self.factor)} {unit} (exact: no spread among its trials)"
        for digits in range(4, WIDEST_DIGITS + 1):
            factor, low, high = (format_number(v, digits) for v in (self.factor, self.low, self.high))
            if len({factor, low, high}) == 3:
                break
        return f"×{factor} {unit} (95% CI {low}–{high})"

    def describe(self, unit: str) -> str:
        repeats = ", with repeats" if self.repeats_used else ""
        return f"{self.text(unit)}; {self.rows} trials in {self.strata} strata{repeats}"


def within_strata_effect(frame: pd.DataFrame, y: str, regressors: dict[str, pd.Series], strata: list[str],
                         **bootstrap: int) -> Effect | None:
    """The effect of the first regressor on y (others are controls); None when the data cannot tell
    (`effect_or_reason` says why); `bootstrap`: draws and seed."""
    found = effect_or_reason(frame, y, regressors, strata, **bootstrap)
    return found if isinstance(found, Effect) else None


def effect_or_reason(
    frame: pd.DataFrame,
    y: str,
    regressors: dict[str, pd.Series],
    strata: list[str],
    draws: int = DRAWS,
    seed: int = SEED,
) -> Effect | str | None:
    """The effect of the first regressor on y with its interval; None when the data cannot estimate it
    (too few trials, or it never varies inside a stratum); a sentence when they give an estimate
    but cannot support an interval on it (`percentile_interval`)."""
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
    sorted_codes = np.unique(codes[order], return_inverse=True)[1]
    sizes = np.bincount(sorted_codes)
    log_y = np.log2(data[y].to_numpy(dtype=float))[order]
    z = data[zcols].to_numpy(dtype=float)[order]
    point = fit(np.ones((1, len(order))), sorted_codes, sizes, z, log_y)
    if not np.isfinite(point[0, 0]):
        return None
    se = repeat_standard_error(data, y)
    weights = bootstrap_weights(tuple(sizes), draws, seed)
    drawn = drawn_values(log_y, None if se is None else se[order], y in EPOCH_COUNTS, draws, seed)
    boot = fit(weights, sorted_codes, sizes, z, drawn)[:, 0]
    boot = boot[np.isfinite(boot)]
    if len(boot) < draws // 2:
        return None
    dof, largest = residual_freedom(sorted_codes, sizes, z, log_y, point[0])
    exact = se is None and y not in EPOCH_COUNTS and (
        largest <= EXACT * max(1.0, abs(float(point[0, 0]))) or repeats_agree(data, y, codes))
    bounds = percentile_interval(float(point[0, 0]), boot, dof, exact)
    if isinstance(bounds, str):
        return f"×{format_number(2 ** float(point[0, 0]))} from {len(data)} trials, {bounds}"
    if not exact:
        t_low, t_high = slope_t_interval(sorted_codes, sizes, z, log_y, point[0], dof)
        bounds = (min(bounds[0], t_low), max(bounds[1], t_high))
    return Effect(float(2 ** point[0, 0]), float(2 ** bounds[0]), float(2 ** bounds[1]), len(data),
                  int((varying > 1).sum()), se is not None)


def drawn_values(log_y: np.ndarray, se: np.ndarray | None, count: bool, draws: int, seed: int) -> np.ndarray:
    """log2 y as each bootstrap draw sees it: one vector for every draw, or one row per draw when each
    trial's mean is drawn from its seed-to-seed standard error `se`, or a `count` of epochs anywhere
    within half an epoch of what was recorded (it is known to the epoch, not exactly)."""
    drawn = log_y
    if se is not None:
        drawn = log_y[None, :] + np.random.default_rng(seed + 1).standard_normal((draws, len(log_y))) * se[None, :]
    if count:
        resolution = np.random.default_rng(seed + 2).uniform(-0.5, 0.5, (draws, len(log_y)))
        drawn = np.log2(np.maximum(2.0 ** drawn + resolution, 0.5))
    return drawn


def within_residuals(codes: np.ndarray, sizes: np.ndarray, z: np.ndarray, y: np.ndarray,
                     coef: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The regressors centred on their stratum means, and the point fit's residuals."""
    centred_z = z - stratum_means(z, codes, sizes)
    return centred_z, y - stratum_means(y[:, None], codes, sizes)[:, 0] - centred_z @ coef


def residual_freedom(codes: np.ndarray, sizes: np.ndarray, z: np.ndarray, y: np.ndarray,
                     coef: np.ndarray) -> tuple[int, float]:
    """Residual degrees of freedom of the point fit (trials - strata - regressors) and its largest |residual|."""
    residuals = within_residuals(codes, sizes, z, y, coef)[1]
    return len(y) - len(sizes) - z.shape[1], float(np.abs(residuals).max(initial=0.0))


def slope_t_interval(codes: np.ndarray, sizes: np.ndarray, z: np.ndarray, y: np.ndarray, coef: np.ndarray,
                     dof: int) -> tuple[float, float]:
    """The 95% t interval of the first regressor's within-strata least-squares slope (log2 scale)."""
    from scipy.stats import t as student_t

    centred_z, residuals = within_residuals(codes, sizes, z, y, coef)
    variance = float(residuals @ residuals) / dof
    spread = float(np.linalg.pinv(centred_z.T @ centred_z)[0, 0])
    half = float(student_t.ppf(0.5 + CONFIDENCE / 2, dof)) * math.sqrt(max(variance * spread, 0.0))
    return float(coef[0]) - half, float(coef[0]) + half


def repeats_agree(data: pd.DataFrame, y: str, codes: np.ndarray) -> bool:
    """True when some setting was measured more than once and every such setting's trials agree to the digit."""
    settings = pd.Series(codes, index=data.index).astype(str)
    for column in [c for c in data.columns if str(c).startswith("__z")]:
        settings = settings + "|" + data[column].astype(str)
    grouped = pd.to_numeric(data[y], errors="coerce").groupby(settings)
    repeated = grouped.size() > 1
    return bool(repeated.any() and (grouped.nunique()[repeated] == 1).all())


def percentile_interval(point: float, boot: np.ndarray, dof: int, exact: bool) -> tuple[float, float] | str:
    """The 95% percentile interval of the bootstrap slopes (log2 scale), or why it would be degenerate.

    A percentile interval is only as good as the spread of its draws. With no residual degrees of
    freedom every resample refits the same points exactly (zero width, saying nothing); with few
    distinct trials the draws take a handful of values, so the interval's ends are those values and
    the estimate can sit on one of them. Both are said in words instead. An `exact` fit (no residual
    at all, or a figure every repeat of a setting measured identically, as peak memory) has nothing
    to be uncertain about: its interval is the point, and the report says "exact".
    """
    if dof <= 0:
        return f"no trial is left over to measure noise (as many strata and regressors as trials): {MORE}"
    if exact:
        return point, point
    values, counts = np.unique(np.round(boot, 12), return_counts=True)
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = (float(v) for v in np.percentile(boot, [tail, 100 - tail]))
    # an end that is one value drawn by more than the whole tail's share is a lattice point, not a quantile
    atoms = counts[np.isin(values, np.round([low, high], 12))]
    lumpy = atoms.size > 0 and atoms.max() > (1 - CONFIDENCE) * len(boot)
    if len(values) < MIN_DISTINCT or lumpy or not low < point < high:
        lumped = f", {atoms.max() / len(boot):.0%} on one end" if lumpy else ""
        return f"too few distinct trials for a 95% interval (resamples take {len(values):,} values{lumped}): {MORE}"
    return low, high


def stratum_codes(data: pd.DataFrame, strata: list[str]) -> np.ndarray:
    present = [c for c in strata if c in data.columns]
    if not present:
        return np.zeros(len(data), dtype=int)
    return data.groupby(present, dropna=False, sort=False).ngroup().to_numpy()


@functools.lru_cache(maxsize=8)
def bootstrap_weights(sizes: tuple[int, ...], draws: int, seed: int) -> np.ndarray:
    """How often each trial is drawn in each bootstrap replicate (draws × trials, trials ordered by stratum).

    Every trial is replaced by a uniform draw from its own stratum, so stratum sizes never change.
    Depends only on the strata sizes and the seed: claims tested on the same trials share one draw
    (cached; read-only).
    """
    size_array = np.asarray(sizes)
    total = int(size_array.sum())
    starts = np.r_[0, np.cumsum(size_array)[:-1]]
    block_start = np.repeat(starts, size_array)
    block_size = np.repeat(size_array, size_array)
    picks = block_start + (np.random.default_rng(seed).random((draws, total)) * block_size).astype(np.int64)
    flat = (picks + np.arange(draws)[:, None] * total).ravel()
    weights = np.bincount(flat, minlength=draws * total).reshape(draws, total).astype(float)
    weights.setflags(write=False)
    return weights


def fit(weights: np.ndarray, codes: np.ndarray, sizes: np.ndarray, z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Weighted within-strata least squares, one fit per row of `weights`; nan where singular.

    `y` is one vector shared by all rows, or one row per weight row. Centred sums in closed form,
    S_ab = sum w a b - sum_s (sum_s w a)(sum_s w b) / n_s (n_s: the stratum's size, which the
    stratified bootstrap keeps); every sum is a column of one matrix product with the weights.
    z and y are first centred on their stratum means (which changes no within-strata slope) so the
    subtraction above does not lose precision.
    """
    z = z - stratum_means(z, codes, sizes)
    y = y - (stratum_means(y.T, codes, sizes).T if y.ndim == 2 else stratum_means(y[:, None], codes, sizes)[:, 0])
    strata = np.eye(len(sizes))[codes]  # trials × strata
    k, count = z.shape[1], len(sizes)
    shared_y = y.ndim == 1
    columns = [z[:, j] * z[:, m] for j in range(k) for m in range(k)]
    columns += [strata * z[:, [j]] for j in range(k)]
    if shared_y:
        columns += [z * y[:, None], strata * y[:, None]]
    sums = weights @ np.column_stack(columns)
    zz = sums[:, : k * k].reshape(len(weights), k, k)
    offset = k * k
    per_stratum_z = [sums[:, offset + j * count : offset + (j + 1) * count] for j in range(k)]
    offset += k * count
    if shared_y:
        zy, per_stratum_y = sums[:, offset : offset + k], sums[:, offset + k :]
    else:
        weighted_y = weights * y
        zy, per_stratum_y = weighted_y @ z, weighted_y @ strata
    sxx = np.empty_like(zz)
    sxy = np.empty_like(zy)
    for j in range(k):
        sxy[:, j] = zy[:, j] - (per_stratum_z[j] * per_stratum_y / sizes).sum(axis=1)
        for m in range(k):
            sxx[:, j, m] = zz[:, j, m] - (per_stratum_z[j] * per_stratum_z[m] / sizes).sum(axis=1)
    coef = np.full((len(weights), k), np.nan)
    scale = np.abs(sxx).max(axis=(1, 2)) + 1e-300
    solvable = np.abs(np.linalg.det(sxx / scale[:, None, None])) > 1e-9
    coef[solvable] = np.linalg.solve(sxx[solvable], sxy[solvable][..., None])[..., 0]
    return coef


def stratum_means(values: np.ndarray, codes: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each row replaced by its stratum's mean row (values: trials × columns)."""
    totals = np.stack([np.bincount(codes, weights=values[:, j], minlength=len(sizes)) for j in range(values.shape[1])],
                      axis=1)
    return (totals / sizes[:, None])[codes]


def repeat_standard_error(data: pd.DataFrame, y: str) -> np.ndarray | None:
    """log2-scale standard error of each trial's mean over repeats, or None without repeats."""
    if REPEATS not in data.columns:
        return None
    repeats = pd.to_numeric(data[REPEATS], errors="coerce")
    if f"{y}_cv" in data.columns:
        cv = pd.to_numeric(data[f"{y}_cv"], errors="coerce")
    elif f"{y}_std" in data.columns:
        cv = pd.to_numeric(data[f"{y}_std"], errors="coerce") / data[y].astype(float)
    else:
        return None
    se = (cv / np.sqrt(repeats.clip(lower=1)) / math.log(2)).fillna(0.0).to_numpy(dtype=float)
    return se if np.any(se > 0) else None
