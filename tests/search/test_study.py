"""lstmexp.search.study: each worker of a study samples its own sequence."""

from __future__ import annotations

import optuna

from tests.conftest import POSTGRES_URL
from tests.search_specs import small


def test_each_worker_samples_its_own_sequence():
    from lstmexp.search import make_sampler, sampler_seed_offset

    assert [sampler_seed_offset("journal:///r.journal", i) for i in (0, 1)] == [0, 1]  # one worker: seed as given
    assert sampler_seed_offset(POSTGRES_URL, 0) == sampler_seed_offset(POSTGRES_URL, 0)  # per process, from host:pid

    def suggestions(offset: int) -> list[int]:
        study = optuna.create_study(sampler=make_sampler(small("seq", "search.sampler=random"), offset))
        study.optimize(lambda t: t.suggest_categorical("b", [16, 32, 64, 128]), n_trials=6)
        return [t.params["b"] for t in study.trials]

    assert suggestions(0) == suggestions(0)  # seeded
    assert suggestions(0) != suggestions(1)  # two workers of one study do not repeat each other
