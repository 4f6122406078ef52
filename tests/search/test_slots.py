"""lstmexp.search.slots: repeats of a configuration get the next seed."""

from __future__ import annotations

from lstmexp.search import run_search
from lstmexp.trial.record import trial_figures
from tests.search_specs import journal, tiny, trials_of


def test_a_repeated_configuration_is_trained_with_the_next_seed(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("repeat", "search.space.batch_size=[16]", "search.space.time_step=[4]"), url)
    trials = trials_of(url, "repeat")
    assert [trial_figures(t.user_attrs)["train_seed"] for t in trials] == [0, 1, 2]
    assert [trial_figures(t.user_attrs).get("repeat_of") for t in trials] == [None, 0, 0]
    assert len({t.value for t in trials}) == 3  # different seeds, different results
