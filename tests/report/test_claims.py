"""Claim verdicts on studies whose answer is known in advance (effects built into the metrics)."""

from __future__ import annotations

import numpy as np
import optuna
import pandas as pd

from lstmexp.report.claims import FAILS, HOLDS, MIXED, NO_DATA, NOT_TESTABLE, evaluate_at_best_lr, evaluate_claims
from lstmexp.report.evidence import within_strata_effect
from lstmexp.report.load import load_trials
from tests.report_studies import grid_trials, make_study, make_trial


def claims_of(trials) -> dict:
    frame = load_trials(make_study(trials)).frame
    return {c.code: c for c in evaluate_claims(frame)}


def test_c5_holds_when_throughput_rises_with_batch_size():
    claim = claims_of(grid_trials(lambda b, t, h: 100 * b**0.5 / t))["C5"]
    assert claim.verdict == HOLDS
    effect = claim.parts[0].effect
    assert abs(effect.factor - 2**0.5) < 0.03  # the true factor per doubling, up to the grid's noise
    assert effect.low < effect.factor < effect.high and effect.high / effect.low < 1.1
    assert effect.low > 1.3 and effect.rows == 32 and effect.strata == 4


def test_c5_does_not_hold_when_throughput_falls_with_batch_size():
    claim = claims_of(grid_trials(lambda b, t, h: 1e5 / b**0.4))["C5"]
    assert claim.verdict == FAILS
    assert claim.parts[0].effect.high < 1


def test_c5_flat_throughput_is_no_effect_not_a_guess():
    claim = claims_of(grid_trials(lambda b, t, h: 1000.0, noise=0.01))["C5"]
    assert claim.verdict == FAILS  # inside ±5% of no effect
    assert 0.95 < claim.parts[0].effect.low <= claim.parts[0].effect.high < 1.05


def test_c5_single_batch_size_is_not_enough_data_and_names_the_experiment():
    claim = claims_of(grid_trials(lambda b, t, h: 100 * b / t, batches=(64,)))["C5"]
    assert claim.verdict == NO_DATA
    assert claim.parts[0].effect is None
    assert "batch_sweep.yaml" in claim.experiment


def test_noisy_small_study_is_mixed_not_a_verdict():
    claim = claims_of(grid_trials(lambda b, t, h: 1000.0 * (1.1 if b == 32 else 1.0), batches=(16, 32), steps=(8,),
                                  hiddens=(16,), noise=0.4, per_cell=3, seed=3))["C5"]
    assert claim.verdict == MIXED
    effect = claim.parts[0].effect
    assert effect.low < 1 < effect.high


def test_batch_effect_is_compared_within_time_step_not_confounded_by_it():
    """Large batches were only tried with long time steps, which are slow: pooled, larger batch looks slower."""
    trials = []
    for batch, steps in ((16, (8, 16)), (32, (16, 32)), (64, (32, 64))):
        for step in steps:
            for _ in range(3):
                trials.append(make_trial(batch, step, samples_per_s=1e5 * batch**0.3 / step))
    frame = load_trials(make_study(trials)).frame
    pooled = np.polyfit(np.log2(frame["batch_size"]), np.log2(frame["samples_per_s"]), 1)[0]
    assert pooled < 0  # the naive reading: larger batches slower
    claim = {c.code: c for c in evaluate_claims(frame)}["C5"]
    assert claim.verdict == HOLDS
    assert abs(claim.parts[0].effect.factor - 2**0.3) < 0.01


def test_c10_holds_when_time_step_slows_training():
    claim = claims_of(grid_trials(lambda b, t, h: 1e5 * b**0.5 / t))["C10"]
    assert claim.verdict == HOLDS
    assert abs(claim.parts[0].effect.factor - 0.5) < 0.03


def test_accuracy_claims_ignore_pruned_trials():
    """Pruned trials stopped early: their high losses must not make 'larger time step is worse' appear."""
    trials = [make_trial(b, t, val_loss_best=0.5 / (1 + 0.1 * np.log2(t)) * (1 + 0.01 * k))
              for b in (16, 32) for t in (8, 16, 32) for k in range(3)]
    trials += [make_trial(b, 32, state="pruned", val_loss_best=9.0) for b in (16, 32) for _ in range(5)]
    part = claims_of(trials)["C11"].parts[0]
    assert part.verdict == HOLDS  # lower loss with longer steps, among completed trials
    assert part.effect.rows == 18
    assert "completed trials" in part.test and "pruned" not in part.test



def test_accuracy_claims_leave_out_the_trial_the_study_budget_cut_short():
    """The last trial of a budgeted study trained less than its configuration asks: not an accuracy sample."""
    def trial(b: int, t: int, k: int, cut: bool) -> optuna.trial.FrozenTrial:
        return make_trial(b, t, val_loss_best=9.0 if cut else 0.5 / (1 + 0.1 * np.log2(t)) * (1 + 0.01 * k),
                          grad_norm_max=99.0 if cut else 1 + 0.1 * np.log2(t) + 0.01 * k,
                          samples_per_s=4000 / t * (1 + 0.01 * k), study_budget_cut=cut)
    trials = [trial(b, t, k, False) for b in (16, 32) for t in (8, 16, 32) for k in range(3)]
    trials += [trial(b, 32, k, True) for b in (16, 32) for k in range(5)]
    found = claims_of(trials)
    loss, gradients = found["C11"].parts
    assert loss.verdict == HOLDS and gradients.verdict == HOLDS  # the cut trials' 9.0 and 99 would skew both
    assert loss.effect.rows == 18 and gradients.effect.rows == 18
    speed = found["C10"].parts[0]
    assert speed.verdict == HOLDS and speed.effect.rows == 28  # speed was measured validly: the cut trials count

def test_c9_powers_of_two_against_neighbours():
    def speed(b, t, h):
        return 100 * b**0.5 * (1.3 if b & (b - 1) == 0 else 1.0)

    holds = claims_of(grid_trials(speed, batches=(24, 32, 48, 64, 96, 128)))["C9"]
    assert holds.verdict == HOLDS
    assert abs(holds.parts[0].effect.factor - 1.3) < 0.05
    only_pow2 = claims_of(grid_trials(speed))["C9"]
    assert only_pow2.verdict == NO_DATA and "powers of two" in only_pow2.parts[0].note


def test_c8_and_c12_need_the_right_values_in_the_space():
    claims = claims_of(grid_trials(lambda b, t, h: 1000.0, batches=(4, 32), steps=(8, 64)))
    assert claims["C8"].verdict != NO_DATA
    assert claims["C12"].verdict != NO_DATA
    none = claims_of(grid_trials(lambda b, t, h: 1000.0, batches=(16, 32), steps=(8, 16)))
    assert none["C8"].verdict == NO_DATA and none["C12"].verdict == NO_DATA


def test_c14_uses_stateful_trials_only():
    trials = [make_trial(b, 8, stateful=True, val_loss_best=0.3 * b**0.2 * (1 + 0.01 * k))
              for b in (1, 4, 16) for k in range(3)]
    trials += [make_trial(b, 8, stateful=False, val_loss_best=0.3) for b in (1, 4, 16) for _ in range(3)]
    claim = claims_of(trials)["C14"]
    assert claim.verdict == HOLDS
    assert claim.parts[0].effect.rows == 9
    assert claims_of([make_trial(b, 8) for b in (1, 4, 16)])["C14"].verdict == NO_DATA


def test_c13_is_never_given_a_verdict_from_one_study():
    claim = claims_of(grid_trials(lambda b, t, h: 100 * b / t))["C13"]
    assert claim.verdict == NO_DATA and "--study A --study B" in claim.experiment


def test_repeats_widen_the_interval_and_results_are_reproducible():
    base = grid_trials(lambda b, t, h: 100 * b**0.5, noise=0.01)
    with_repeats = grid_trials(lambda b, t, h: 100 * b**0.5, noise=0.01, repeats=3, samples_per_s_cv=0.3)
    plain = claims_of(base)["C5"].parts[0].effect
    repeated = claims_of(with_repeats)["C5"].parts[0].effect
    assert repeated.repeats_used and not plain.repeats_used
    assert (repeated.high - repeated.low) > 3 * (plain.high - plain.low)
    assert claims_of(with_repeats)["C5"].parts[0].effect == repeated  # seeded bootstrap


def test_effect_is_none_when_too_few_rows():
    frame = pd.DataFrame({"batch_size": [16, 32, 64], "samples_per_s": [1.0, 2.0, 4.0]})
    assert within_strata_effect(frame, "samples_per_s", {"z": np.log2(frame["batch_size"])}, []) is None


def test_rows_behind_each_verdict_are_the_per_stratum_medians():
    claim = claims_of(grid_trials(lambda b, t, h: 100 * b / t, per_cell=1, noise=0.0))["C5"]
    rows = claim.parts[0].rows
    assert list(rows.columns) == ["time_step", "hidden_size", "batch_size", "trials", "median samples_per_s"]
    assert len(rows) == 16 and rows["trials"].eq(1).all()
    row = rows[(rows.batch_size == 64) & (rows.time_step == 16)].iloc[0]
    assert abs(row["median samples_per_s"] - 400) < 1e-6


def test_c7_epochs_to_best_needs_trials_that_stopped_improving():
    still_improving = [make_trial(b, 8, best_epoch=4, epochs_run=4) for b in (16, 32, 64) for _ in range(2)]
    part = claims_of(still_improving)["C7"].parts[0]
    # flat because the study cannot vary it: "not testable here", never "does not hold"
    assert part.verdict == NOT_TESTABLE and "train more epochs" in part.note
    assert claims_of(still_improving)["C7"].verdict != FAILS
    converging = [make_trial(b, 8, best_epoch=int(2 * b / 16), epochs_run=10) for b in (16, 32, 64) for _ in range(2)]
    part = claims_of(converging)["C7"].parts[0]
    assert part.verdict == HOLDS and abs(part.effect.factor - 2) < 1e-6



def test_epoch_counts_that_seeds_agree_on_are_known_to_the_epoch_not_exactly():
    """Two seeds both best at epoch 3 agree by the coarseness of the count: the interval keeps ±half an epoch."""
    converging = [make_trial(b, 8, best_epoch=int(2 * b / 16), epochs_run=10) for b in (16, 32, 64) for _ in range(2)]
    clear = claims_of(converging)["C7"].parts[0]
    assert clear.verdict == HOLDS and clear.effect.low < 2 < clear.effect.high  # doubling: clear of 1 all the same
    one_epoch = [make_trial(b, 8, best_epoch=4 if b == 64 else 3, epochs_run=6) for b in (16, 32, 64) for _ in range(2)]
    small = claims_of(one_epoch)["C7"].parts[0]
    assert small.verdict != HOLDS  # one epoch more at the largest batch is within the counts' resolution
    assert small.effect is None or small.effect.low < 1 < small.effect.high

def test_contended_trials_are_left_out_of_speed_verdicts_and_counted():
    """C5 from the quiet trials only, however wrong the busy ones' speeds are."""
    quiet_trials = grid_trials(lambda b, t, h: 100 * b / t, per_cell=1)
    # Busy trials with speeds that fall with batch size: counted, they would turn C5 around.
    busy = [make_trial(b, t, h, samples_per_s=1e6 / b, contended=True, contention_reason="load 3.0 on 2 cores")
            for b in (16, 32, 64, 128) for t in (8, 16) for h in (16, 32) for _ in range(3)]
    claims = claims_of(quiet_trials + busy)
    part = claims["C5"].parts[0]
    assert part.verdict == HOLDS and abs(part.effect.factor - 2) < 0.05
    assert part.effect.rows == len(quiet_trials)
    assert "48 contended trials left out" in part.note
    memory = claims["C6"].parts[0]  # memory is not a speed figure: every trial counts
    assert memory.effect.rows == len(quiet_trials) + len(busy) and "contended" not in memory.note
    everything = claims_of([make_trial(b, t, h, samples_per_s=1e6 / b) for b in (16, 32, 64, 128)
                            for t in (8, 16) for h in (16, 32) for _ in range(3)])
    assert everything["C5"].verdict == FAILS  # the same figures, uncontended, do decide the verdict


def test_a_flat_figure_is_not_testable_here_never_does_not_hold():
    flat = [make_trial(b, 8, grad_norm_mean=1.0, best_epoch=4, epochs_run=4) for b in (16, 32, 64) for _ in range(2)]
    c7 = claims_of(flat)["C7"]
    assert [p.verdict for p in c7.parts] == [NOT_TESTABLE, NOT_TESTABLE]
    assert c7.verdict == NOT_TESTABLE and "cannot vary" in c7.parts[1].note


def test_lr_cotuned_claims_use_each_batch_sizes_best_lr():
    """At a fixed lr small batches win; with each batch size at its own best lr the larger batch wins."""
    trials = []
    for batch, best_lr in ((16, 0.001), (64, 0.01)):
        for lr in (0.001, 0.01):
            loss = 0.5 if lr == best_lr else 0.9
            loss -= 0.1 if batch == 64 and lr == best_lr else 0.0
            trials += [make_trial(batch, 8, val_loss_best=loss * (1 + 0.01 * k), **{"train.lr": lr}) for k in range(3)]
    frame = load_trials(make_study(trials)).frame
    tuned = {c.code: c for c in evaluate_at_best_lr(frame, ["batch_size", "time_step", "hidden_size", "train.lr"])}
    assert set(tuned) == {"C5@best lr", "C6@best lr", "C7@best lr", "C8@best lr", "C9@best lr"}
    assert tuned["C6@best lr"].parts[0].effect.rows == 6  # 3 trials at each batch size's best lr


def test_a_figure_that_never_moves_among_comparable_trials_is_not_testable_here():
    """C7 on the default search: a few trials stopped improving, but not within any comparable group."""
    trials = [make_trial(b, t, best_epoch=4 if t == 16 else 2, epochs_run=4, grad_norm_mean=1.0 / b)
              for b in (16, 32, 64) for t in (8, 16) for _ in range(2)]
    part = claims_of(trials)["C7"].parts[0]
    assert part.verdict == NOT_TESTABLE and "cannot vary" in part.note
    assert claims_of(trials)["C7"].verdict == HOLDS  # the gradient-norm part still decides
