"""The stratified bootstrap fit of report/evidence.py, checked against numpy's least squares.

The within-strata slope is the coefficient of z in an ordinary regression of y on z plus one dummy
per stratum (fixed effects). evidence.fit gets it from centred sums in closed form, for every
bootstrap replicate at once; numpy.linalg.lstsq on the same design (rows repeated as often as a
replicate draws them) must give the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lstmexp.report.evidence import bootstrap_weights, fit, within_strata_effect


def random_design(seed: int, sizes: tuple[int, ...] = (5, 7, 4, 9), k: int = 2):
    rng = np.random.default_rng(seed)
    codes = np.repeat(np.arange(len(sizes)), sizes)  # trials of one stratum side by side, as fit expects
    z = rng.normal(size=(len(codes), k))
    offsets = rng.normal(scale=5.0, size=len(sizes))[codes]  # large stratum effects the fit must ignore
    y = offsets + z @ rng.normal(size=k) + rng.normal(scale=0.3, size=len(codes))
    return codes, np.asarray(sizes), z, y


def lstsq_slopes(codes: np.ndarray, z: np.ndarray, y: np.ndarray, repeat: np.ndarray | None = None) -> np.ndarray:
    """Coefficients of z in y ~ z + stratum dummies, each row taken `repeat` times."""
    design = np.column_stack([z, np.eye(codes.max() + 1)[codes]])
    rows = np.arange(len(y)) if repeat is None else np.repeat(np.arange(len(y)), repeat.astype(int))
    coef, *_ = np.linalg.lstsq(design[rows], y[rows], rcond=None)
    return coef[: z.shape[1]]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_point_estimate_matches_lstsq_with_stratum_dummies(seed):
    codes, sizes, z, y = random_design(seed)
    point = fit(np.ones((1, len(y))), codes, sizes, z, y)[0]
    np.testing.assert_allclose(point, lstsq_slopes(codes, z, y), rtol=1e-9, atol=1e-12)


def test_every_bootstrap_replicate_matches_lstsq_on_its_resampled_rows():
    codes, sizes, z, y = random_design(3)
    weights = bootstrap_weights(tuple(sizes), 20, 0)
    # a stratified draw keeps each stratum's size: the closed form relies on it
    np.testing.assert_array_equal(np.add.reduceat(weights, np.r_[0, np.cumsum(sizes)[:-1]], axis=1),
                                  np.tile(sizes, (20, 1)))
    coefs = fit(weights, codes, sizes, z, y)
    for row, coef in zip(weights, coefs, strict=True):
        np.testing.assert_allclose(coef, lstsq_slopes(codes, z, y, repeat=row), rtol=1e-8, atol=1e-10)


def test_one_y_per_replicate_matches_lstsq_too():
    """The repeats path: each replicate has its own y (the trial means drawn from their standard errors)."""
    codes, sizes, z, y = random_design(4)
    weights = bootstrap_weights(tuple(sizes), 5, 1)
    ys = y[None, :] + np.random.default_rng(9).normal(scale=0.1, size=(5, len(y)))
    coefs = fit(weights, codes, sizes, z, ys)
    for row, y_row, coef in zip(weights, ys, coefs, strict=True):
        np.testing.assert_allclose(coef, lstsq_slopes(codes, z, y_row, repeat=row), rtol=1e-8, atol=1e-10)


def test_a_singular_replicate_is_nan_not_a_number_made_up():
    codes, sizes = np.array([0, 0, 1, 1]), np.array([2, 2])
    z = np.array([[1.0], [2.0], [3.0], [3.0]])
    only_one_z_value = np.array([[2.0, 0.0, 1.0, 1.0]])  # stratum 0 drew trial 0 twice: z never varies
    assert np.isnan(fit(only_one_z_value, codes, sizes, z, np.array([1.0, 2.0, 3.0, 4.0]))[0, 0])


def test_within_strata_effect_reports_two_to_the_lstsq_slope():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"batch_size": np.tile([16, 32, 64, 128], 6), "time_step": np.repeat([4, 8, 16], 8)})
    frame["samples_per_s"] = 2.0 ** (rng.normal(size=len(frame)) * 0.2 + 3 * np.log2(frame["time_step"])) \
        * frame["batch_size"] ** 0.7
    effect = within_strata_effect(frame, "samples_per_s", {"z": np.log2(frame["batch_size"])}, ["time_step"])
    codes = frame.groupby("time_step", sort=False).ngroup().to_numpy()
    slope = lstsq_slopes(codes, np.log2(frame[["batch_size"]].to_numpy(float)),
                         np.log2(frame["samples_per_s"].to_numpy()))[0]
    assert effect is not None
    assert effect.factor == pytest.approx(2**slope, rel=1e-9)
    assert effect.low < effect.factor < effect.high
    assert effect.rows == len(frame) and effect.strata == 3
