"""lstmexp.search.registry: every sampler and pruner by name, at full strength on tiny studies."""

from __future__ import annotations

import pytest
from optuna.trial import TrialState

from lstmexp.search import run_search
from lstmexp.trial.record import trial_figures
from tests.search_specs import journal, tiny, trials_of


@pytest.mark.parametrize("sampler", ["tpe", "random", "grid", "gp", "nsga2", "qmc"])
def test_every_sampler_runs_a_study_to_its_target(tmp_path, sampler):
    url = journal(tmp_path)
    summary = run_search(tiny(f"s-{sampler}", f"search.sampler={sampler}"), url)
    assert (summary.done, summary.target) == (3, 3)
    trials = trials_of(url, f"s-{sampler}")
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    assert all(t.params["batch_size"] in (16, 32) and t.params["time_step"] in (4, 8) for t in trials)
    if sampler == "grid":  # every combination at most once
        assert len({tuple(t.params.values()) for t in trials}) == 3


@pytest.mark.parametrize("pruner", ["median", "hyperband", "successive-halving"])
def test_every_pruner_prunes_only_after_its_warm_up(tmp_path, pruner):
    url = journal(tmp_path)
    # hidden size 1 learns far slower than 32: seeded, some of those trials are pruned by every pruner
    spec = tiny(
        f"p-{pruner}", f"search.pruner={pruner}", "train.epochs=4", "search.trials=8", "search.sampler=random",
        "search.space.hidden_size=[1,32]", "train.lr=0.01",
    )
    summary = run_search(spec, url)
    assert summary.done == 8
    trials = trials_of(url, f"p-{pruner}")
    assert all(len(t.intermediate_values) >= 1 for t in trials)  # val loss per epoch reported
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    assert pruned, "nothing was pruned: the pruner never acted"
    assert len(pruned) < len(trials)  # and it does not cull everything
    for trial in pruned:
        # median: nothing before half the budget; halving/hyperband: first rung at a quarter
        assert trial_figures(trial.user_attrs)["epochs_run"] >= (2 if pruner == "median" else 1)
        assert trial_figures(trial.user_attrs)["epochs_run"] < 4
    for trial in trials:
        if trial.state != TrialState.PRUNED:
            assert trial.state == TrialState.COMPLETE and trial_figures(trial.user_attrs)["epochs_run"] == 4


def test_the_registries_serve_every_name_of_the_vocabulary():
    from lstmexp.search import registry
    from lstmexp.vocabulary import choices

    assert set(registry.SAMPLERS) == set(choices.SAMPLERS)
    assert set(registry.PRUNERS) == set(choices.PRUNERS)
