"""A searched space is checked whole before anything is written: steps, and every value a trial may get."""

from __future__ import annotations

import pytest

from tests.hostile import QUICK_SPEC, assert_one_line, fingerprint

STEPS = [  # (override, what the one line must say)
    ("search.space.train.epochs={low: 1, high: 3, step: 0.5}", "step 0.5 is not a whole number"),
    ("search.space.train.epochs={low: 1, high: 3, step: 5}", "step 5 is larger than the range 1 to 3"),
    ("search.space.train.lr={low: 0.001, high: 0.01, step: 0.5}", "step 0.5 is larger than the range"),
    ("search.space.batch_size={low: 16, high: 20, step: 8}", "search.space.batch_size: step 8 is larger"),
    ("search.space.train.epochs={low: 1, high: 4, step: 2}", "high 4 is not reached from low 1 in steps of 2"),
    ("search.space.model.dropout={low: 0.0, high: 0.5, step: 0.2}", "high 0.5 is not reached"),
    ("search.space.time_step={low: 4, high: 9, step: 2}", "search.space.time_step: high 9 is not reached"),
]

EXTREMES = [  # (overrides, the searched value the one line must name)
    (["train.max_samples=2000", "search.space.train.warmup_iters=[1, 1000]"], "with train.warmup_iters=1000"),
    (["data.normalization=last", "search.space.train.stateful=[false, true]"], "with train.stateful=true"),
    (["search.space.data.horizon=[1, 5000]"], "with data.horizon=5000"),
    (["search.space.data.rows=[400, 12]"], "with data.rows=12"),
    # a mix of two ends: each alone is fine, the low budget with the long warm-up is not
    (["search.space.train.max_samples=[2000, 100000]", "search.space.train.warmup_iters=[1, 200]"],
     "with train.max_samples=2000, train.warmup_iters=200"),
]


@pytest.fixture
def spec_file(workdir):
    (workdir / "s.yaml").write_text(QUICK_SPEC)
    return workdir / "s.yaml"


def search(cli, workdir, overrides):
    before = fingerprint(workdir)
    result = cli("search", "s.yaml", "--storage", f"sqlite:///{workdir}/study.db",
                 *[part for o in overrides for part in ("-o", o)])
    assert fingerprint(workdir) == before, "a study or file was written before the spec was refused"
    return result


@pytest.mark.parametrize(("override", "needle"), STEPS)
def test_a_range_whose_step_does_not_fit_is_refused_before_any_study(cli, workdir, spec_file, override, needle):
    line = assert_one_line(search(cli, workdir, [override]), needle)
    assert "e.g. -o 'search.space." in line, line  # the fix, in the form the user typed


@pytest.mark.parametrize(("overrides", "needle"), EXTREMES)
def test_a_searched_value_the_spec_cannot_run_with_is_refused_before_any_study(cli, workdir, spec_file,
                                                                               overrides, needle):
    assert_one_line(search(cli, workdir, overrides), needle)


@pytest.mark.parametrize("override", [
    "search.space.train.epochs={low: 1, high: 5, step: 2}",
    "search.space.model.dropout={low: 0.0, high: 0.4, step: 0.1}",
    "search.space.train.lr={low: 0.001, high: 0.01, scale: log}",
])
def test_a_range_whose_step_fits_is_accepted(workdir, spec_file, override):
    from lstmexp.search import preflight
    from lstmexp.spec import load_spec

    preflight(load_spec(spec_file, ["model.num_layers=2", override]))
