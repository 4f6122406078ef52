"""lstmexp.search.resume: a study resumes to its target, and refuses a spec whose trials would not compare."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lstmexp.errors import SpecError
from lstmexp.search import count_done, run_search
from lstmexp.storage.urls import load_existing_study
from tests.search_specs import journal, tiny


def test_resuming_continues_to_the_target_and_refuses_changed_objectives(tmp_path):
    url = journal(tmp_path)
    run_search(tiny("resume", "search.trials=2"), url)
    summary = run_search(tiny("resume", "search.trials=3"), url)
    assert (summary.done, summary.ran_now) == (3, 1)
    with pytest.raises(SpecError, match=r"different search\.objectives"):
        run_search(tiny("resume", "search.objectives=s_per_epoch"), url)
    assert count_done(load_existing_study(url, "resume")) == 3


def test_a_study_written_before_the_sizes_were_spec_fields_resumes_with_its_short_spec(tmp_path):
    """Its stored spec holds the sizes as the space's ranges and its trials name them batch_size, ...:
    the spec that made it, written with the short names, resumes it and the new trial names them alike."""
    from lstmexp.spec import load_spec

    copy = tmp_path / "old.db"
    shutil.copy(Path(__file__).parents[1] / "fixtures" / "written-before-trial-record.db", copy)
    url = f"sqlite:///{copy}"
    before = len(load_existing_study(url, "before-record").trials)
    spec = load_spec(None, [  # what experiments/smoke.yaml said then, with that search's overrides
        "study=before-record", "data.rows=600", "data.lookback=false", "train.epochs=2", "train.device=cpu",
        "train.patience=null", "train.repeats=2", "train.target_val_loss=0.85", "search.trials=5",
        "search.sampler=random", "search.pruner=none", "search.space.batch_size=[32, 64]",
        "search.space.time_step=[8, 16]", "search.space.hidden_size=[16]", "search.constraints.max_memory=300KiB",
        "search.keep_best=0", "model.chunk=1",
        "train.lr=0.003"])  # that lstmexp's default lr: a spec relying on today's 0.01 is refused, as it must be
    assert run_search(spec, url).ran_now == 1
    trials = load_existing_study(url, "before-record").trials
    assert len(trials) == before + 1 and set(trials[-1].params) == {"batch_size", "time_step", "hidden_size"}
