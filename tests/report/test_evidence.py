"""The stratified bootstrap fit of report/evidence.py, checked against numpy's least squares.

The within-strata slope is the coefficient of z in an ordinary regression of y on z plus one dummy
per stratum (fixed effects). evidence.fit gets it from centred sums in closed form, for every
bootstrap replicate at once; numpy.linalg.lstsq on the same design (rows repeated as often as a
replicate draws them) must give the same numbers.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from lstmexp.report.evidence import bootstrap_weights, effect_or_reason, fit, within_strata_effect


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


def small_designs():
    """Small studies of the kinds that gave degenerate intervals: integer figures (best epochs), two
    settings over two seeds, a figure every repeat measures the same, one trial per setting."""
    rng = np.random.default_rng(11)
    for case in range(60):
        sizes = [16, 32] if case % 3 == 0 else [16, 32, 64]
        seeds = 1 + case % 2
        strata = 1 + case % 3 % 2
        frame = pd.DataFrame([(b, t) for t in range(strata) for b in sizes for _ in range(seeds)],
                             columns=["batch_size", "time_step"])
        kind = case % 4
        base = np.log2(frame["batch_size"]) * rng.normal(0.3, 0.5)
        if kind == 0:  # epochs to the best: small integers
            y = np.maximum(1, np.round(3 + base + rng.normal(0, 0.7, len(frame))))
        elif kind == 1:  # deterministic per setting (peak memory)
            y = 2.0 ** (base + 0.01 * frame["time_step"])
        else:
            y = 2.0 ** (base + rng.normal(0, 0.2, len(frame)))
        yield frame.assign(y=y)


def printed_numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in re.findall(r"(?<=[×\s–])[\d,]+(?:\.\d+)?(?=[\s)–])", text)]


def test_no_interval_is_degenerate_it_is_real_exact_or_said_to_be_missing():
    """Every effect either brackets its estimate strictly (as printed too), or is exact, or is None
    with a reason in words: never zero width, never the estimate on an end."""
    kinds = set()
    for frame in small_designs():
        z = {"z": np.log2(frame["batch_size"])}
        found = effect_or_reason(frame, "y", z, ["time_step"])
        effect = within_strata_effect(frame, "y", z, ["time_step"])
        if effect is None:
            kinds.add("none")
            assert found is None or "too few distinct trials" in found or "no trial is left over" in found
            continue
        text = effect.describe("per 2× batch_size")
        if effect.low == effect.high:
            kinds.add("exact")
            assert effect.factor == effect.low and "exact" in text and "CI" not in text
            continue
        kinds.add("interval")
        assert effect.low < effect.factor < effect.high, text
        factor, low, high = printed_numbers(text)[:3]
        assert low < factor < high, text  # as printed: the ends differ from each other and the estimate
    assert kinds == {"none", "exact", "interval"}  # the cases cover each outcome


def test_two_settings_over_two_seeds_give_no_interval_and_say_why():
    frame = pd.DataFrame({"batch_size": [16, 16, 32, 32], "y": [1.0, 1.1, 1.9, 2.05]})
    z = {"z": np.log2(frame["batch_size"])}
    assert within_strata_effect(frame, "y", z, []) is None
    reason = effect_or_reason(frame, "y", z, [])
    assert reason.startswith("×1.882 from 4 trials, too few distinct trials for a 95% interval") and "; " not in reason
    assert "-o train.repeats=3" in reason


def test_a_figure_every_repeat_measures_alike_is_exact_not_a_zero_width_interval():
    frame = pd.DataFrame({"batch_size": [16, 16, 32, 32], "y": [1.0, 1.0, 0.976, 0.976]})
    effect = within_strata_effect(frame, "y", {"z": np.log2(frame["batch_size"])}, [])
    assert effect is not None and effect.low == effect.high == effect.factor == pytest.approx(0.976)
    assert effect.text("per 2× batch_size") == "×0.976 per 2× batch_size (exact: no spread among its trials)"


def test_interval_ends_get_the_digits_that_tell_them_apart():
    from lstmexp.report.evidence import Effect

    assert Effect(1.81, 1.8, 1.812, 9, 1, False).text("per 2×") == "×1.81 per 2× (95% CI 1.8–1.812)"
    assert Effect(0.97612, 0.97611, 0.97614, 9, 1, False).text("per 2×") == "×0.97612 per 2× (95% CI 0.97611–0.97614)"
    assert Effect(1234.5678, 1000.1, 1500.2, 9, 1, False).text("") == "×1,235  (95% CI 1,000–1,500)"
