"""The claims design: arms around a centre chosen for the data, seeds, the budget, and reasons for arms
that cannot run."""

from __future__ import annotations

from lstmexp.search.design import BUDGET_SHARE, DataFacts, make_design

BUILT_IN = DataFacts(train_rows=4200, horizon=1, input_size=5, stateful_fits=True)
YEARLY = DataFacts(train_rows=210, horizon=1, input_size=1, stateful_fits=False)


def arms_of(design):
    return {arm.name: arm for arm in design.arms}


def test_every_claim_has_an_arm_around_a_centre_chosen_for_the_data():
    design = make_design(BUILT_IN, 0.003, budget_s=600)
    arms = arms_of(design)
    covered = {code for arm in design.arms for code in arm.claims}
    assert covered == {f"C{n}" for n in range(4, 15)}  # C1..C3 are checked on every trial
    batches = {s.batch_size for s in arms["batch"].settings}
    assert 1 in batches and {24, 48, 96} <= batches and {32, 64, 128} <= batches  # non-powers beside powers
    assert all(s.time_step == design.centre.time_step for s in arms["batch"].settings)  # one factor at a time
    assert len({s.time_step for s in arms["time_step"].settings}) >= 6
    lr_arm = arms["batch_lr"].settings
    assert len({s.lr for s in lr_arm}) == 3 and len({s.batch_size for s in lr_arm}) == 3  # lr co-tuned per size
    assert {(s.stateful, s.batch_size) for s in arms["stateful"].settings} >= {(True, 1), (True, 8), (False, 1)}
    assert {s.train_rows for s in arms["sequence"].settings} == {None, 4200 // 8}
    assert design.seeds >= 2 and design.trials == len(design.settings()) * design.seeds
    assert (design.centre.time_step, design.centre.batch_size) == (32, 32)  # 4,200 rows: 32 steps, 130 iterations


def test_the_centre_shrinks_with_the_data():
    small = make_design(YEARLY, 0.003, budget_s=600).centre
    assert small.time_step == 4 and small.batch_size == 2


def test_a_tight_budget_takes_seeds_then_epochs_then_settings_and_says_so():
    roomy = make_design(BUILT_IN, 0.003, budget_s=3600)
    tight = make_design(BUILT_IN, 0.003, budget_s=60)
    assert roomy.seeds == 3 and not [n for n in roomy.notes if "seeds" in n]
    assert tight.seeds == 2 and tight.epochs == 2 and tight.trials < roomy.trials
    assert any("seeds per setting" in n for n in tight.notes) and any("left out" in n for n in tight.notes)
    assert roomy.estimate_cpu_s <= BUDGET_SHARE * 3600


def test_an_arm_that_cannot_run_says_why_and_what_would_make_it_testable():
    arms = arms_of(make_design(YEARLY, 0.003, budget_s=600))
    assert not arms["sequence"].settings and "train rows would make it testable" in arms["sequence"].pending
    assert not arms["stateful"].settings and "makes it testable" in arms["stateful"].pending
    assert "model.chunk" in arms["chunks"].pending
