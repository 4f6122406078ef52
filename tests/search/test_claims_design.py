"""The claims design: arms around a centre chosen for the data, seeds, the budget, and reasons for arms
that cannot run."""

from __future__ import annotations

from dataclasses import replace

from lstmexp.search.design import BUDGET_SHARE, DataFacts, make_design

BUILT_IN = DataFacts(train_rows=4200, horizon=1, input_size=5, stateful_fits=True)
YEARLY = DataFacts(train_rows=210, horizon=1, input_size=1, stateful_fits=False)
TINY = DataFacts(train_rows=30, horizon=1, input_size=1, stateful_fits=False)


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
    arms = arms_of(make_design(TINY, 0.003, budget_s=600))
    assert not arms["sequence"].settings and "train rows would make it testable" in arms["sequence"].pending
    assert not arms["stateful"].settings and "makes it testable" in arms["stateful"].pending


def test_a_yearly_series_of_a_few_hundred_rows_still_gets_every_arm():
    design = make_design(YEARLY, 0.003, budget_s=600)
    arms = arms_of(design)
    assert all(arm.settings for name, arm in arms.items() if name != "stateful")  # no room for 8 streams here
    assert arms["chunks"].settings  # 210 rows hold a window of 16 steps in chunks of 4
    short = {s.train_rows for s in arms["sequence"].settings} - {None}
    assert short == {210 // 4}  # an eighth (26 rows) is too short for the long time step: a quarter instead
    assert design.estimate_cpu_s < 0.25 * 600  # a small series costs a fraction of the built-in data's budget


def test_the_chunks_arm_feeds_a_long_window_in_chunks_beside_it_per_step_and_the_short_window():
    design = make_design(BUILT_IN, 0.003, budget_s=600)
    chunks = arms_of(design)["chunks"]
    assert not chunks.pending and {"C10", "C12"} <= set(chunks.claims)
    centre = design.centre
    chunked = [s for s in chunks.settings if s.chunk > 1]
    assert len(chunked) == 1 and chunked[0].time_step == centre.time_step * chunked[0].chunk  # T/S = centre's T
    per_step = {(s.time_step, s.chunk) for s in chunks.settings if s.chunk == 1}
    assert per_step == {(chunked[0].time_step, 1), (centre.time_step, 1)}  # same T per step, and the short T
    assert chunked[0].params(4200, False, True)["model.chunk"] == chunked[0].chunk
    # model.chunk must divide every searched time_step: the design keeps them all multiples of the chunk
    assert all(s.time_step % chunked[0].chunk == 0 for s, _ in design.settings().values())


def test_a_chunk_1_setting_keeps_the_key_a_study_stored_before_the_chunks_arm():
    centre = make_design(BUILT_IN, 0.003, budget_s=600).centre
    assert "chunk" not in centre.key and '"chunk": 4' in replace(centre, time_step=128, chunk=4).key


def test_the_chunks_arm_on_a_series_too_short_for_a_long_window_says_what_would_make_it_testable():
    arms = arms_of(make_design(TINY, 0.003, 600))
    assert not arms["chunks"].settings and "train rows would make it testable" in arms["chunks"].pending


def test_the_budget_never_drops_a_setting_another_arm_still_trains():
    """Batch 1 is in the batch arm and (stateless beside stateful) in the stateful arm: leaving it out of
    the batch arm saves nothing and would cost C8 its smallest batch."""
    large = DataFacts(train_rows=12194, horizon=1, input_size=1, stateful_fits=True)  # ETTh1's train split
    design = make_design(large, 0.003, budget_s=600)
    arms = arms_of(design)
    assert any(s.batch_size == 1 and not s.stateful for s in arms["stateful"].settings)
    assert 1 in {s.batch_size for s in arms["batch"].settings}
    assert any("left out" in n for n in design.notes)  # the budget still took other settings


def test_seeds_are_enqueued_in_rounds_of_every_setting_in_alternating_order():
    """All of a setting's seeds back to back would turn a drift in the machine's speed into its effect."""
    import optuna

    from lstmexp.search.claims_study import KEY_ATTR, enqueue_missing

    design = make_design(BUILT_IN, 0.003, budget_s=600)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study()
    assert enqueue_missing(study, design) == design.trials
    keys = [t.user_attrs[KEY_ATTR] for t in study.get_trials(deepcopy=False)]
    settings = list(design.settings())
    rounds = [keys[i:i + len(settings)] for i in range(0, len(keys), len(settings))]
    assert len(rounds) == design.seeds
    assert rounds[0] == settings and rounds[1] == settings[::-1]
    assert all(sorted(r) == sorted(settings) for r in rounds)
    assert enqueue_missing(study, design) == 0  # nothing is missing now: a resume adds nothing
